// The netpolc command line: usage errors, --set errors, exit codes and
// output files, pinned to their exact text.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/cli/driver.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

struct Result {
  int status;
  std::string out;
  std::string err;
};

Result Run(std::vector<std::string> args) {
  Result r;
  r.status = RunDriver(args, r.out, r.err);
  return r;
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

std::string Write(const std::string& name, const std::string& text) {
  std::string path = TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

const char* kRules = R"(param instance: string = "es";
param count: int = 3;
param peers: peers = anywhere;
flag tls = true;
instance { namespace "es"; prefix $instance; labels { "app.kubernetes.io/instance": $instance } }
component kafka {
  labels { "app.kubernetes.io/name": "kafka" }
  ingress 9093 from $peers when tls;
}
)";

TEST_CASE("no arguments prints usage and fails") {
  Result r = Run({});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("Usage: netpolc COMMAND", 0) == 0);
}

TEST_CASE("help and version") {
  Result help = Run({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("  build      compile a rules file for one target\n") != std::string::npos);
  Result build_help = Run({"build", "--help"});
  CHECK(build_help.status == 0);
  CHECK(build_help.out.find("--set NAME=VALUE") != std::string::npos);
  CHECK(build_help.out.find("  k8s        Kubernetes NetworkPolicy") != std::string::npos);
  Result version = Run({"--version"});
  CHECK(version.status == 0);
  CHECK(version.out == "netpolc 0.1.0\n");
}

TEST_CASE("usage errors") {
  std::string rules = Write("usage.netpol", kRules);
  CHECK(Run({"frobnicate"}).err ==
        "netpolc: error: unknown command 'frobnicate'\nRun 'netpolc --help' for usage.\n");
  CHECK(Run({"build"}).err ==
        "netpolc: error: build needs a rules file\nRun 'netpolc build --help' for usage.\n");
  CHECK(Run({"build", rules}).err ==
        "netpolc: error: build needs --target (see 'netpolc targets')\n"
        "Run 'netpolc build --help' for usage.\n");
  CHECK(Run({"build", rules, "--frob"}).err ==
        "netpolc: error: unknown option '--frob'\nRun 'netpolc build --help' for usage.\n");
  CHECK(Run({"build", rules, "--target"}).err ==
        "netpolc: error: option '--target' needs a value\nRun 'netpolc build --help' for usage.\n");
  CHECK(Run({"build", rules, rules, "--target", "k8s"}).err ==
        "netpolc: error: more than one input file ('" + rules + "' and '" + rules +
            "')\nRun 'netpolc build --help' for usage.\n");
  Result unknown_target = Run({"build", rules, "--target", "nope"});
  CHECK(unknown_target.status == 2);
  CHECK(unknown_target.err.rfind("netpolc: error: unknown target 'nope'; the targets are:\n", 0) == 0);
  CHECK(Run({"build", rules, "--target", "k8s", "--template", rules}).err ==
        "netpolc: error: target 'k8s' takes no --template\nRun 'netpolc build --help' for usage.\n");
  Result missing = Run({"build", TempDir() + "/does-not-exist.netpol", "--target", "k8s"});
  CHECK(missing.status == 2);
  CHECK(missing.err == "netpolc: error: cannot read '" + TempDir() +
                           "/does-not-exist.netpol': No such file or directory\n");
  Result directory = Run({"build", TempDir(), "--target", "k8s"});
  CHECK(directory.status == 2);
  CHECK(directory.err == "netpolc: error: cannot read '" + TempDir() + "': it is a directory\n");
  CHECK(Run({"targets", "x"}).status == 2);
}

TEST_CASE("--set errors are usage errors with exact messages") {
  std::string rules = Write("set.netpol", kRules);
  auto err = [&](const std::string& setting) {
    Result r = Run({"build", rules, "--target", "ir", "--set", setting});
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    return r.err;
  };
  CHECK(err("tls") == "netpolc: error: --set tls: expected NAME=VALUE\n");
  CHECK(err("=x") == "netpolc: error: --set =x: expected NAME=VALUE\n");
  CHECK(err("tls=yes") == "netpolc: error: --set tls=yes: flag 'tls' takes true or false\n");
  CHECK(err("nope=1") ==
        "netpolc: error: --set nope=1: the rules file declares no flag or parameter 'nope'\n");
  CHECK(err("count=x3") == "netpolc: error: --set count=x3: parameter 'count' takes an integer\n");
  // Echoed values are escaped: no terminal escape sequence reaches stderr.
  CHECK(err("tls=\x1b[2J\x07") ==
        "netpolc: error: --set tls=\\x1b[2J\\x07: flag 'tls' takes true or false\n");
  CHECK(err("peers=kafak") ==
        "--set peers:1:1: error: unknown component 'kafak' (did you mean 'kafka'?) "
        "[unknown-component]\nkafak\n^~~~~\n");
  CHECK(err("peers=kafka,, anywhere") ==
        "--set peers:1:7: error: unexpected ','; expected 'anywhere', 'cidr', 'external', "
        "'instance', 'pods', 'kube_apiserver', 'nodes', a name or a parameter ($name) "
        "[syntax-error]\nkafka,, anywhere\n      ^\n");
  CHECK(err("peers=$peers") ==
        "--set peers:1:1: error: a value given with --set or --values cannot refer to parameter "
        "'peers' [param-in-setting]\n$peers\n^~~~~~\n");
  CHECK(err("peers=pods {\"app\": \"x\"} in namespace $instance") ==
        "--set peers:1:32: error: a value given with --set or --values cannot refer to parameter "
        "'instance' [param-in-setting]\npods {\"app\": \"x\"} in namespace $instance\n"
        "                               ^~~~~~~~~\n");
}

TEST_CASE("--set values take effect, later ones win") {
  std::string rules = Write("set_ok.netpol", kRules);
  Result off = Run({"build", rules, "--target", "ir", "--set", "tls=false"});
  REQUIRE(off.status == 0);
  CHECK(off.out.find("ingress TCP 9093") == std::string::npos);
  Result on = Run({"build", rules, "--target", "ir", "--set", "tls=false", "--set=tls=true",
                   "--set", "peers=kafka", "--set", "instance=other"});
  REQUIRE(on.status == 0);
  CHECK(on.out.find("policy es/other-kafka") != std::string::npos);
  CHECK(on.out.find("    from pods {app.kubernetes.io/instance=other, "
                    "app.kubernetes.io/name=kafka} in namespace es\n") != std::string::npos);
}

TEST_CASE("-o writes only on success and never leaves a partial file") {
  std::string good = Write("good.netpol", kRules);
  std::string bad = Write("bad.netpol", "component kafka {\n");
  std::string out = TempDir() + "/out.yaml";
  std::remove(out.c_str());

  Result failed = Run({"build", bad, "--target", "k8s", "-o", out});
  CHECK(failed.status == 1);
  CHECK_FALSE(Exists(out));

  Result ok = Run({"build", good, "--target", "k8s", "-o", out});
  CHECK(ok.status == 0);
  CHECK(ok.out.empty());
  std::string written = Slurp(out);
  CHECK(written.rfind("# Generated by netpolc from " + good + ". Do not edit.\n---\n", 0) == 0);

  // A later failure leaves the previous output untouched.
  Result failed_again = Run({"build", bad, "--target", "k8s", "--output", out});
  CHECK(failed_again.status == 1);
  CHECK(Slurp(out) == written);

  Result bad_set = Run({"build", good, "--target", "k8s", "-o", out, "--set", "tls=maybe"});
  CHECK(bad_set.status == 2);
  CHECK(Slurp(out) == written);

  Result unwritable = Run({"build", good, "--target", "k8s", "-o", TempDir() + "/no/such/dir/x"});
  CHECK(unwritable.status == 2);
  CHECK(unwritable.err == "netpolc: error: cannot write '" + TempDir() +
                              "/no/such/dir/x': No such file or directory\n");
}

TEST_CASE("input errors exit 1 with diagnostics on stderr only") {
  std::string bad = Write("bad2.netpol", "component kafka { labels { \"app\": \"kafka\" } ingress 0 from anywhere; }\n");
  Result r = Run({"build", bad, "--target", "k8s"});
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err == bad + ":1:53: error: port 0 is out of range; ports are 1 to 65535 [port-out-of-range]\n"
                 "component kafka { labels { \"app\": \"kafka\" } ingress 0 from anywhere; }\n"
                 "                                                    ^\n");
}

}  // namespace
}  // namespace netpolc
