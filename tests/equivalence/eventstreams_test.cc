// Every combination of the nine Event Streams flags (2^9 configurations):
// the k8s, cilium and calico outputs each admit exactly what the policy IR
// admits, per side, endpoint pair, protocol and port, over a universe of two
// instances, impostors in other namespaces, the operator's namespace,
// kube-system with kube-dns, and external addresses.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "tests/equivalence/harness.h"
#include "third_party/catch2_main.h"

namespace netpolc::equivalence {
namespace {

constexpr const char* kRules = "rules/eventstreams.netpol";
constexpr const char* kFlags[] = {"plain_listener", "tls_listener",  "external_listener",
                                  "metrics",        "jmx",           "internal_tls",
                                  "geo_replication", "kafka_connect", "cruise_control"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("eventstreams: every flag combination, every target equals the IR") {
  std::string errors;
  std::unique_ptr<Program> program = Load(kRules, ReadFile(kRules), errors);
  REQUIRE(program != nullptr);
  INFO(errors);
  for (const char* flag : kFlags) REQUIRE(program->module.FindFlag(flag));
  REQUIRE(program->module.flags.size() == std::size(kFlags));

  const ir::Config defaults = ir::Config::Defaults(program->module);
  const verify::Universe universe = BuildUniverse(program->module, defaults);
  INFO("universe: " << universe.size() << " endpoints");
  REQUIRE(universe.size() > 40);

  size_t checked = 0;
  for (unsigned mask = 0; mask < (1u << std::size(kFlags)); ++mask) {
    if (!InThisShard(mask)) continue;
    std::vector<std::pair<std::string, bool>> flags;
    std::string name;
    for (size_t i = 0; i < std::size(kFlags); ++i) {
      flags.emplace_back(kFlags[i], (mask >> i) & 1);
      name += fmt::format(" --set {}={}", kFlags[i], (mask >> i) & 1 ? "true" : "false");
    }
    ir::Config config = MakeConfig(program->module, flags);
    std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
    INFO("configuration:" << name);
    REQUIRE(policies.has_value());
    for (std::string_view target : kTargets) {
      Rendered out = Render(*program, config, *policies, target, kRules);
      INFO("target " << target << "\n" << out.diagnostics);
      REQUIRE(out.ok);
      std::vector<std::string> diffs = Differences(universe, *policies, target, out.output);
      std::string report;
      for (const std::string& d : diffs) report += d + "\n";
      INFO(report);
      CHECK(diffs.empty());
    }
    ++checked;
  }
  WARN("checked " << checked << " configurations x " << std::size(kTargets) << " targets");
}

// The comparison is not vacuous: outputs changed in ways that widen or
// narrow what they admit are caught.
TEST_CASE("eventstreams: wrong outputs are detected") {
  std::string errors;
  std::unique_ptr<Program> program = Load(kRules, ReadFile(kRules), errors);
  REQUIRE(program != nullptr);
  ir::Config config = MakeConfig(program->module, {{"metrics", true}, {"plain_listener", true}});
  std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
  REQUIRE(policies.has_value());
  const verify::Universe universe = BuildUniverse(program->module, config);
  struct Mutation {
    std::string_view target;
    std::string from, to;
  };
  const Mutation mutations[] = {
      // Any namespace -> the policy's namespace only.
      {"k8s", "        - namespaceSelector: {}\n", "        -\n"},
      {"cilium", "          matchExpressions:\n            - key: \"k8s:io.kubernetes.pod.namespace\"\n"
                 "              operator: Exists\n", ""},
      {"calico", "        namespaceSelector: \"all()\"\n", ""},
      // kube-system's kube-dns -> kube-dns of the policy's namespace.
      {"cilium", "            \"k8s:io.kubernetes.pod.namespace\": kube-system\n", ""},
      // Everything -> outside the cluster only.
      {"cilium", "        - all\n", "        - world\n"},
      // A policy that no longer applies to egress.
      {"calico", "  types:\n    - Ingress\n    - Egress\n", "  types:\n    - Ingress\n"},
      // A port range one port too wide.
      {"calico", "          - 9404\n", "          - \"9404:9405\"\n"},
  };
  for (const Mutation& m : mutations) {
    Rendered out = Render(*program, config, *policies, m.target, kRules);
    REQUIRE(out.ok);
    REQUIRE(Differences(universe, *policies, m.target, out.output).empty());
    std::string mutated = out.output;
    size_t at = mutated.find(m.from);
    INFO(m.target << ": replacing\n" << m.from);
    REQUIRE(at != std::string::npos);
    while (at != std::string::npos) {
      mutated.replace(at, m.from.size(), m.to);
      at = mutated.find(m.from, at + m.to.size());
    }
    CHECK(!Differences(universe, *policies, m.target, mutated).empty());
  }
}

}  // namespace
}  // namespace netpolc::equivalence
