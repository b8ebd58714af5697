// The cilium target refuses, with an error at the rule, what it cannot
// express exactly (labels its identity filter ignores); address blocks are
// always exact on it, since Cilium's CIDR rules never match pods.
#include <cstdlib>
#include <fstream>

#include "compiler/cli/driver.h"
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

TEST_CASE("cilium: address blocks are never refused; ignored labels are, at their rule") {
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
        "bad.netpol:12:3: error: target 'cilium' cannot express this rule exactly: the pod label "
        "'pod-template-hash' is ignored by Cilium's default identity-relevant label filter, so no "
        "selector can match it [target-cannot-express]\n"
        "  ingress 8443 from pods { \"pod-template-hash\": \"5d8f\" };\n"
        "  ^~~~~~~\n");
  // The other targets express the same rules, with a warning: no pod networks.
  Result k8s = Build("bad.netpol", text, "k8s");
  CHECK(k8s.status == 0);
  CHECK(k8s.err.find("bad.netpol:5:1: warning: address blocks mean addresses outside the cluster, "
                     "but the rules declare no 'pod_networks' parameter") == 0);
  CHECK(Build("bad.netpol", text, "calico").status == 0);
}

TEST_CASE("cilium: `external` is the entity world, other blocks CIDR sets") {
  std::string text = std::string(kHeader) +
                     "component web {\n"
                     "  labels { \"app\": \"web\" }\n"
                     "  egress 443 to cidr \"203.0.113.0/24\";\n"
                     "  egress 80 to external;\n"
                     "  egress 8081 to cidr \"0.0.0.0/0\";\n"
                     "  egress 8080 to cidr \"2001:db8::/32\", pods { \"app\": \"api\" };\n"
                     "  ingress 9000 from anywhere, external;\n"
                     "}\n";
  Result r = Build("good.netpol", text, "cilium");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());  // nothing to warn about: Cilium's CIDR rules never match pods
  CHECK(r.out.find("- toEntities:\n        - world\n") != std::string::npos);
  CHECK(r.out.find("- fromEntities:\n        - all\n") != std::string::npos);
  CHECK(r.out.find("- toEntities:\n        - all\n") == std::string::npos);
  CHECK(r.out.find("- toCIDRSet:\n        - cidr: 203.0.113.0/24\n") != std::string::npos);
  // A /0 block is written as its two halves.
  CHECK(r.out.find("        - cidr: 0.0.0.0/1\n        - cidr: 128.0.0.0/1\n") != std::string::npos);
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

TEST_CASE("cilium: named ports in egress rules") {
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
  // Address blocks hold no pod: a name beside them is exact.
  CHECK(r.err.find("named.netpol:8:") == std::string::npos);
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
