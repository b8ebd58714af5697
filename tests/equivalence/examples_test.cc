// The products of rules/examples: for every combination of their flags, and
// for peer overrides (the API server's addresses given at deploy time), the
// k8s, cilium and calico outputs each admit exactly what the policy IR
// admits over a universe built from the rules (with the API server and the
// nodes where the file declares address blocks for them).
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/equivalence/harness.h"
#include "third_party/catch2_main.h"

namespace netpolc::equivalence {
namespace {

struct Example {
  const char* path;
  // --set NAME=PEERS overrides, each checked in every flag combination.
  std::vector<std::pair<std::string, std::string>> overrides;
};

const Example kExamples[] = {
    {"rules/examples/operator-webhook.netpol",
     {{"apiserver", "cidr \"10.0.0.1/32\", cidr \"10.0.0.2/32\""}}},
    {"rules/examples/gateway-egress.netpol", {}},
    {"rules/examples/streams/streams.netpol", {{"apiserver", "cidr \"172.20.0.0/28\""}}},
    {"rules/examples/platform/platform.netpol", {}},
    {"rules/examples/platform/gateway.netpol", {}},
};

size_t CheckAll(Program& program, const std::string& path, const std::string& setting) {
  size_t checked = 0;
  const size_t flags = program.module.flags.size();
  REQUIRE(flags <= 8);
  for (unsigned mask = 0; mask < (1u << flags); ++mask) {
    std::vector<std::pair<std::string, bool>> values;
    std::string name = setting;
    for (size_t i = 0; i < flags; ++i) {
      values.emplace_back(program.module.flags[i].name, (mask >> i) & 1);
      name += fmt::format(" --set {}={}", program.module.flags[i].name, (mask >> i) & 1 ? "true" : "false");
    }
    ir::Config config = MakeConfig(program.module, values);
    std::string errors;
    if (!setting.empty()) {
      size_t eq = setting.find('=');
      REQUIRE(SetPeers(program, config, setting.substr(0, eq), setting.substr(eq + 1), errors));
    }
    INFO(path << " configuration:" << name);
    std::optional<ir::PolicySet> policies = Instantiate(program, config, errors);
    INFO(errors);
    REQUIRE(policies.has_value());
    const verify::Universe universe = BuildUniverse(program.module, config);
    for (std::string_view target : kTargets) {
      Rendered out = Render(program, config, *policies, target, path);
      INFO("target " << target << "\n" << out.diagnostics);
      REQUIRE(out.ok);
      // Without pod networks, the k8s and calico outputs carry the blocks
      // alone (with a warning): the IR is then read with blocks matching
      // every address, as random_test does.
      auto reading = policies->pod_networks.empty() && target != "cilium"
                         ? verify::IrEvaluator::BlockReading::kAddresses
                         : verify::IrEvaluator::BlockReading::kOutsideCluster;
      std::vector<std::string> diffs =
          Differences(universe, *policies, target, out.output, 10, reading);
      std::string report;
      for (const std::string& d : diffs) report += d + "\n";
      INFO(report);
      CHECK(diffs.empty());
    }
    ++checked;
  }
  return checked;
}

TEST_CASE("examples: every flag combination, every target equals the IR") {
  size_t checked = 0;
  for (const Example& example : kExamples) {
    std::string errors;
    std::unique_ptr<Program> program = LoadFile(example.path, errors);
    INFO(errors);
    REQUIRE(program != nullptr);
    checked += CheckAll(*program, example.path, "");
    for (const auto& [name, peers] : example.overrides) {
      checked += CheckAll(*program, example.path, name + "=" + peers);
    }
  }
  WARN("checked " << checked << " configurations x " << std::size(kTargets) << " targets");
}

// The universe of a file that declares the API server's addresses holds an
// endpoint of that role, which the IR and every target admit on the
// webhook's port only.
TEST_CASE("examples: the API server and nodes are in the universe") {
  std::string errors;
  std::unique_ptr<Program> program = LoadFile("rules/examples/streams/streams.netpol", errors);
  INFO(errors);
  REQUIRE(program != nullptr);
  ir::Config config = ir::Config::Defaults(program->module);
  verify::Universe universe = BuildUniverse(program->module, config);
  std::optional<size_t> apiserver;
  for (size_t i = 0; i < universe.size(); ++i) {
    if (universe.endpoint(i).role == verify::Endpoint::Role::kApiServer) apiserver = i;
  }
  REQUIRE(apiserver.has_value());
  CHECK(universe.endpoint(*apiserver).ip == "192.0.2.10");
  std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
  REQUIRE(policies.has_value());
  std::optional<size_t> operator_pod = universe.Find(
      "streams/app.kubernetes.io/instance=streams,app.kubernetes.io/name=streams-operator");
  REQUIRE(operator_pod.has_value());
  for (std::string_view target : kTargets) {
    Rendered out = Render(*program, config, *policies, target, "streams.netpol");
    REQUIRE(out.ok);
    std::unique_ptr<verify::Evaluator> evaluator = TargetEvaluator(target, universe, out.output);
    INFO("target " << target);
    CHECK(evaluator->Allowed(verify::Side::kIngress, *operator_pod, *apiserver).ToString() == "TCP 9443");
    CHECK(evaluator->Allowed(verify::Side::kEgress, *operator_pod, *apiserver).ToString() == "TCP 6443");
  }
}

}  // namespace
}  // namespace netpolc::equivalence
