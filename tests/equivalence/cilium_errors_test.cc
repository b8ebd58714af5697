// The cilium target refuses, with an error at the rule, what it cannot
// express exactly; and accepts the same addresses where they are exact.
#include <cstdlib>
#include <fstream>

#include "compiler/driver.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

struct Result {
  int status;
  std::string out, err;
};

Result Build(const std::string& name, const std::string& text, const std::string& target) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = tmp != nullptr ? tmp : "/tmp";
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  Result r;
  // Run from the temporary directory so diagnostics name the file alone.
  setenv("BUILD_WORKING_DIRECTORY", dir.c_str(), 1);
  r.status = RunDriver({"build", name, "--target", target}, r.out, r.err);
  unsetenv("BUILD_WORKING_DIRECTORY");
  return r;
}

constexpr const char* kHeader =
    "instance {\n"
    "  namespace \"apps\";\n"
    "  labels { \"app.kubernetes.io/instance\": \"shop\" }\n"
    "}\n";

TEST_CASE("cilium: errors at the rules it cannot express") {
  std::string text = std::string(kHeader) +
                     "dns udp 53 to cidr \"10.96.0.10/32\";\n"
                     "component web {\n"
                     "  labels { \"app\": \"web\" }\n"
                     "  egress 443 to cidr \"203.0.113.0/24\";\n"
                     "  egress 80 to external;\n"
                     "  egress 8080 to cidr \"0.0.0.0/0\";\n"
                     "  egress 8080 to cidr \"::/0\", pods { \"app\": \"api\" };\n"
                     "  ingress 8443 from pods { \"pod-template-hash\": \"5d8f\" };\n"
                     "}\n";
  Result r = Build("bad.netpol", text, "cilium");
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "bad.netpol:5:1: error: target 'cilium' cannot express this rule exactly: on UDP 53 in the "
        "policy of component 'web', the address peer 10.96.0.10/32 also admits the pods whose address "
        "is in it, as Kubernetes' ipBlock (on most network plugins) and Calico's nets do, but Cilium's "
        "CIDR rules never match pods; add a peer of every pod on these ports (`pods {} in any "
        "namespace`) or admit every address (`external`) [target-cannot-express]\n"
        "dns udp 53 to cidr \"10.96.0.10/32\";\n"
        "^~~\n"
        "bad.netpol:8:3: error: target 'cilium' cannot express this rule exactly: on TCP 443 in the "
        "policy of component 'web', the address peer 203.0.113.0/24 also admits the pods whose address "
        "is in it, as Kubernetes' ipBlock (on most network plugins) and Calico's nets do, but Cilium's "
        "CIDR rules never match pods; add a peer of every pod on these ports (`pods {} in any "
        "namespace`) or admit every address (`external`) [target-cannot-express]\n"
        "  egress 443 to cidr \"203.0.113.0/24\";\n"
        "  ^~~~~~\n"
        "bad.netpol:12:3: error: target 'cilium' cannot express this rule exactly: the pod label "
        "'pod-template-hash' is ignored by Cilium's default identity-relevant label filter, so no "
        "selector can match it [target-cannot-express]\n"
        "  ingress 8443 from pods { \"pod-template-hash\": \"5d8f\" };\n"
        "  ^~~~~~~\n");
  // The other targets express the same rules exactly.
  CHECK(Build("bad.netpol", text, "k8s").status == 0);
  CHECK(Build("bad.netpol", text, "calico").status == 0);
}

TEST_CASE("cilium: a block made exact by a peer of every pod, or by covering every address") {
  std::string text = std::string(kHeader) +
                     "component web {\n"
                     "  labels { \"app\": \"web\" }\n"
                     "  egress 443 to cidr \"203.0.113.0/24\", pods { } in any namespace;\n"
                     "  egress 80 to external;\n"
                     "  egress 8080 to cidr \"0.0.0.0/0\";\n"
                     "  egress 8080 to cidr \"::/0\", pods { \"app\": \"api\" };\n"
                     "}\n";
  Result r = Build("good.netpol", text, "cilium");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("- toEntities:\n        - all\n") != std::string::npos);
  CHECK(r.out.find("- toCIDRSet:\n        - cidr: 203.0.113.0/24\n") != std::string::npos);
}

TEST_CASE("cilium: a pod label Cilium ignores, in a component's labels") {
  std::string text = std::string(kHeader) +
                     "component web {\n"
                     "  labels { \"app\": \"web\", \"kubernetes.io/role\": \"x\" }\n"
                     "  ingress 80 from anywhere;\n"
                     "}\n";
  Result r = Build("labels.netpol", text, "cilium");
  CHECK(r.status == 1);
  CHECK(r.err.find("labels.netpol:5:11: error: target 'cilium' cannot express this rule exactly: the "
                   "pod label 'kubernetes.io/role' is ignored") == 0);
}

TEST_CASE("cilium: named ports in egress rules and beside address peers") {
  std::string text = std::string(kHeader) +
                     "component web {\n"
                     "  labels { \"app\": \"web\" }\n"
                     "  ingress https from pods { \"app\": \"api\" };\n"
                     "  ingress metrics from cidr \"10.0.0.0/8\";\n"
                     "  egress https, 443 to pods { \"app\": \"api\" };\n"
                     "  egress 443 to pods { \"app\": \"api\" }, pods { \"app\": \"db\" };\n"
                     "  ingress 80 from pods { \"pod-template-hash\": exists };\n"
                     "}\n";
  Result r = Build("named.netpol", text, "cilium");
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  // Line 7 (ingress https from pods) is exact: no error there. The egress
  // rule merged with line 10 is reported at the rule that wrote the name.
  CHECK(r.err.find("named.netpol:7:") == std::string::npos);
  CHECK(r.err.find("named.netpol:10:") == std::string::npos);
  CHECK(r.err.find("named.netpol:8:3: error: target 'cilium' cannot express this rule exactly: the "
                   "named port TCP metrics beside the address peers 10.0.0.0/8") != std::string::npos);
  CHECK(r.err.find("named.netpol:9:3: error: target 'cilium' cannot express this rule exactly: the "
                   "named port TCP https of an egress rule") != std::string::npos);
  CHECK(r.err.find("write the port number instead [target-cannot-express]") != std::string::npos);
  CHECK(r.err.find("named.netpol:11:3: error: target 'cilium' cannot express this rule exactly: the "
                   "pod label 'pod-template-hash' is ignored") != std::string::npos);

  // The same rules without the refused ones: ingress named ports are written.
  std::string ok = std::string(kHeader) +
                   "component web {\n"
                   "  labels { \"app\": \"web\" }\n"
                   "  ingress https, udp \"dns-x\" from pods { \"app\": \"api\", \"tier\": not in [\"x\"] };\n"
                   "}\n";
  Result good = Build("named_ok.netpol", ok, "cilium");
  INFO(good.err);
  CHECK(good.status == 0);
  CHECK(good.out.find("- port: https\n              protocol: TCP\n") != std::string::npos);
  CHECK(good.out.find("- key: tier\n              operator: NotIn\n") != std::string::npos);
}

}  // namespace
}  // namespace netpolc
