// Every combination of the nine Event Streams flags (2^9 configurations):
// the k8s, cilium and calico outputs each admit exactly what the policy IR
// admits, per side, endpoint pair, protocol and port, over a universe of two
// instances, impostors in other namespaces, the operator's namespace,
// kube-system with kube-dns, and external addresses; pods have addresses in
// the pod networks (--set pod_networks=10.128.0.0/14,192.168.0.0/16), which
// address blocks (the geo-replicator's `external`) must never admit.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "compiler/semantics/instantiate.h"
#include "tests/equivalence/harness.h"
#include "third_party/catch2_main.h"

namespace netpolc::equivalence {
namespace {

constexpr const char* kRules = "rules/eventstreams.netpol";
constexpr const char* kPodNetworks = "10.128.0.0/14,192.168.0.0/16";
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

  ir::Config defaults = ir::Config::Defaults(program->module);
  REQUIRE(SetCidrs(*program, defaults, "pod_networks", kPodNetworks, errors));
  const verify::Universe universe = BuildUniverse(program->module, defaults);
  INFO("universe: " << universe.size() << " endpoints");
  REQUIRE(universe.size() > 40);
  size_t pods_in_second_network = 0;
  for (size_t e = 0; e < universe.size(); ++e) {
    if (universe.is_pod(e) && universe.endpoint(e).ip.rfind("192.168.", 0) == 0) ++pods_in_second_network;
  }
  CHECK(pods_in_second_network > 5);

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
    REQUIRE(SetCidrs(*program, config, "pod_networks", kPodNetworks, errors));
    name += std::string(" --set pod_networks=") + kPodNetworks;
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

// The listeners' networkPolicyPeers replace `anywhere` (--set NAME=PEERS).
TEST_CASE("eventstreams: listener peer overrides, every target equals the IR") {
  const std::vector<std::pair<std::string, std::string>> overrides[] = {
      {{"tls_listener_peers", "pods { \"app\": \"client\" } in namespace \"apps\", kafka_connect"},
       {"plain_listener_peers", "pods { \"role\": \"producer\" } in namespaces { \"team\": \"blue\" }"}},
      {{"external_listener_peers", "cidr \"203.0.113.0/24\", pods { } in any namespace"},
       {"tls_listener_peers", "instance"}},
      {{"external_listener_peers", "external"}, {"plain_listener_peers", "cluster_operator, entity_operator"}},
  };
  for (const auto& settings : overrides) {
    for (bool on : {false, true}) {
      std::string errors;
      std::unique_ptr<Program> program = Load(kRules, ReadFile(kRules), errors);
      REQUIRE(program != nullptr);
      std::vector<std::pair<std::string, bool>> flags;
      for (const char* flag : kFlags) flags.emplace_back(flag, on);
      ir::Config config = MakeConfig(program->module, flags);
      std::string name;
      for (const auto& [param, peers] : settings) {
        INFO(param << "=" << peers);
        REQUIRE(SetPeers(*program, config, param, peers, errors));
        name += " --set '" + param + "=" + peers + "'";
      }
      INFO("configuration: all flags " << (on ? "on" : "off") << name);
      std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
      REQUIRE(policies.has_value());
      const verify::Universe universe = BuildUniverse(program->module, config);
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
    }
  }
}

// A CIDR alone on a listener is exact on every target (Cilium's CIDR rules,
// like the IR's address blocks, never match pods); a block inside a pod
// network admits nothing and is left out, with a warning at the rule.
TEST_CASE("eventstreams: CIDR listener peers, every target equals the IR") {
  std::string errors;
  std::unique_ptr<Program> program = Load(kRules, ReadFile(kRules), errors);
  REQUIRE(program != nullptr);
  ir::Config config = MakeConfig(program->module, {});
  REQUIRE(SetPeers(*program, config, "external_listener_peers",
                   "cidr \"203.0.113.0/24\", cidr \"10.0.0.0/8\" except [\"10.1.0.0/16\"], "
                   "cidr \"10.128.4.0/24\"",
                   errors));
  Diagnostics diagnostics;
  std::optional<ir::PolicySet> policies = netpolc::Instantiate(program->module, config, diagnostics);
  REQUIRE(policies.has_value());
  std::string rendered = RenderAll(diagnostics, program->sources);
  INFO(rendered);
  REQUIRE(diagnostics.all().size() == 1);
  CHECK(diagnostics.all()[0].kind == DiagnosticKind::kAddressBlockInPodNetwork);
  // At the rule admitting the external listener's peers.
  std::string text = ReadFile(kRules);
  size_t at = text.find("  ingress 9094 from $external_listener_peers");
  REQUIRE(at != std::string::npos);
  size_t line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  CHECK(rendered.find(fmt::format("rules/eventstreams.netpol:{}:21: warning: the address block "
                                  "10.128.4.0/24 lies inside the pod network 10.128.0.0/14",
                                  line)) == 0);
  const verify::Universe universe = BuildUniverse(program->module, config);
  for (std::string_view target : kTargets) {
    Rendered out = Render(*program, config, *policies, target, kRules);
    INFO("target " << target << "\n" << out.diagnostics);
    REQUIRE(out.ok);
    CHECK(out.list.empty());
    std::vector<std::string> diffs = Differences(universe, *policies, target, out.output);
    std::string report;
    for (const std::string& d : diffs) report += d + "\n";
    INFO(report);
    CHECK(diffs.empty());
    if (target == "k8s") {
      // The pod network lies inside 10.0.0.0/8: written as an except.
      CHECK(out.output.find("            cidr: 10.0.0.0/8\n            except:\n              - 10.1.0.0/16\n"
                            "              - 10.128.0.0/14\n") != std::string::npos);
    }
  }
}

TEST_CASE("constructs: every target equals the IR") {
  const char* path = "tests/equivalence/testdata/constructs.netpol";
  std::string errors;
  std::unique_ptr<Program> program = Load(path, ReadFile(path), errors);
  INFO(errors);
  REQUIRE(program != nullptr);
  for (bool reporting : {false, true}) {
    ir::Config config = MakeConfig(program->module, {{"reporting", reporting}});
    std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
    REQUIRE(policies.has_value());
    const verify::Universe universe = BuildUniverse(program->module, config);
    for (std::string_view target : kTargets) {
      Rendered out = Render(*program, config, *policies, target, path);
      INFO("target " << target << "\n" << out.diagnostics);
      REQUIRE(out.ok);
      std::vector<std::string> diffs = Differences(universe, *policies, target, out.output);
      std::string report;
      for (const std::string& d : diffs) report += d + "\n";
      INFO(report);
      CHECK(diffs.empty());
    }
  }
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
      // Outside the cluster -> everything: the geo-replicator's `external`
      // on 8083 would admit every pod of every namespace.
      {"cilium", "        - world\n", "        - all\n"},
      // Address blocks without the pod networks: they would admit pods.
      {"k8s", "            except:\n              - 10.128.0.0/14\n", ""},
      {"calico", "        notNets:\n          - 10.128.0.0/14\n", ""},
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
