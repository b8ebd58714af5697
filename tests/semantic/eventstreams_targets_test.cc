// Checks that the k8s, cilium and calico outputs of rules/eventstreams.netpol
// admit exactly the connections the Event Streams page lists, in every one of
// the 2^9 flag combinations with the default pod networks, and in a sample of
// them with --set pod_networks=10.128.0.0/14,192.168.0.0/16.
//
// The expectation is the hand transcription of the page (eventstreams_page.h),
// written without the compiler. The outputs are compiled in-process and read
// back by the independent evaluators of compiler/verify (Kubernetes, Cilium,
// Calico). In particular the geo-replicator's egress on 8083 goes to the other
// geo-replicator pods of the instance and to addresses outside the cluster
// only: never to another pod.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "compiler/verify/calico_eval.h"
#include "compiler/verify/cilium_eval.h"
#include "compiler/verify/model.h"
#include "tests/equivalence/harness.h"
#include "tests/semantic/eventstreams_page.h"
#include "third_party/catch2_main.h"

namespace netpolc::semantic {
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

verify::Universe ToVerify(const Universe& u) {
  verify::Universe out;
  for (const std::string& ns : u.namespaces) out.AddNamespace({ns, {}});
  for (const UniverseEndpoint& e : u.endpoints) out.AddEndpoint(e.endpoint);
  return out;
}

// What `evaluator` admits on one side of pod `subject`, as the page's
// connection set over the universe's probed ports.
ConnectionSet Actual(const verify::Evaluator& evaluator, const Universe& u, verify::Side side,
                     size_t subject) {
  ConnectionSet out;
  for (size_t peer = 0; peer < u.endpoints.size(); ++peer) {
    verify::PortSet ports = evaluator.Allowed(side, subject, peer);
    for (const auto& [protocol, port] : u.ports) {
      if (ports.Contains(protocol, port)) out.insert({protocol, port, u.endpoints[peer].endpoint.id});
    }
  }
  return out;
}

void CheckConfiguration(equivalence::Program* program, const std::string& pod_networks,
                        unsigned mask, size_t& compared) {
  std::string errors;
  Config page;
  std::vector<std::pair<std::string, bool>> flags;
  std::string settings;
  for (size_t i = 0; i < std::size(kFlags); ++i) {
    bool on = (mask >> i) & 1;
    flags.emplace_back(kFlags[i], on);
    page.Set(fmt::format("{}={}", kFlags[i], on ? "true" : "false"));
    settings += fmt::format(" --set {}={}", kFlags[i], on ? "true" : "false");
  }
  ir::Config config = equivalence::MakeConfig(program->module, flags);
  if (!pod_networks.empty()) {
    REQUIRE(equivalence::SetCidrs(*program, config, "pod_networks", pod_networks, errors));
    settings += " --set pod_networks=" + pod_networks;
  }
  INFO("configuration:" << settings);
  std::optional<ir::PolicySet> policies = equivalence::Instantiate(*program, config, errors);
  REQUIRE(policies.has_value());
  const Universe universe = BuildUniverse(page);
  const verify::Universe probe = ToVerify(universe);
  // The page's expectation, once for every target.
  std::vector<ConnectionSet> expected_in(universe.endpoints.size()),
      expected_out(universe.endpoints.size());
  for (size_t i = 0; i < universe.endpoints.size(); ++i) {
    if (universe.endpoints[i].endpoint.kind != verify::Endpoint::Kind::kPod) continue;
    expected_in[i] = ExpectedIngress(universe, page, universe.endpoints[i]);
    expected_out[i] = ExpectedEgress(universe, page, universe.endpoints[i]);
  }
  for (std::string_view target : equivalence::kTargets) {
    equivalence::Rendered out = equivalence::Render(*program, config, *policies, target, kRules);
    INFO("target " << target << "\n" << out.diagnostics);
    REQUIRE(out.ok);
    std::unique_ptr<verify::Evaluator> evaluator =
        equivalence::TargetEvaluator(target, probe, out.output);
    for (size_t i = 0; i < universe.endpoints.size(); ++i) {
      const UniverseEndpoint& pod = universe.endpoints[i];
      if (pod.endpoint.kind != verify::Endpoint::Kind::kPod) continue;
      std::string difference =
          DescribeDifference(Actual(*evaluator, universe, verify::Side::kIngress, i),
                             expected_in[i], "from", universe.endpoints.size());
      difference += DescribeDifference(Actual(*evaluator, universe, verify::Side::kEgress, i),
                                       expected_out[i], "to", universe.endpoints.size());
      if (!difference.empty()) {
        FAIL_CHECK(fmt::format("{} of {} differs from the page:\n{}", target, pod.endpoint.id,
                               difference));
      }
      ++compared;
    }
  }
}

TEST_CASE("every target admits exactly the page's connections, in every flag combination") {
  std::string errors;
  std::unique_ptr<equivalence::Program> program =
      equivalence::Load(kRules, ReadFile(kRules), errors);
  REQUIRE(program != nullptr);
  size_t compared = 0;
  for (unsigned mask = 0; mask < (1u << std::size(kFlags)); ++mask) {
    if (!equivalence::InThisShard(mask)) continue;
    CheckConfiguration(program.get(), "", mask, compared);
    // The pod networks of the acceptance checks, on a sample of the
    // combinations (the equivalence tests cover all of them).
    if (mask % 16 == 0) CheckConfiguration(program.get(), "10.128.0.0/14,192.168.0.0/16", mask, compared);
  }
  WARN(compared << " pods compared (ingress and egress, every target)");
  CHECK(compared > 1000);
}

// The case the page spells out: the geo-replicator's destination is external
// to the cluster. Its egress on 8083 reaches the instance's geo-replicator
// pods and the outside address, and no other pod (in any namespace).
TEST_CASE("the geo-replicator's egress on 8083: its own pods and outside addresses only") {
  std::string errors;
  std::unique_ptr<equivalence::Program> program =
      equivalence::Load(kRules, ReadFile(kRules), errors);
  REQUIRE(program != nullptr);
  Config page;
  ir::Config config = equivalence::MakeConfig(program->module, {});
  std::optional<ir::PolicySet> policies = equivalence::Instantiate(*program, config, errors);
  REQUIRE(policies.has_value());
  const Universe universe = BuildUniverse(page);
  const verify::Universe probe = ToVerify(universe);
  size_t geo = probe.Find("event-streams/es/kafka-mirror-maker-2").value();
  for (std::string_view target : equivalence::kTargets) {
    equivalence::Rendered out = equivalence::Render(*program, config, *policies, target, kRules);
    REQUIRE(out.ok);
    std::unique_ptr<verify::Evaluator> evaluator =
        equivalence::TargetEvaluator(target, probe, out.output);
    std::vector<std::string> reached;
    for (size_t peer = 0; peer < probe.size(); ++peer) {
      if (evaluator->Allows(verify::Side::kEgress, geo, peer, verify::Protocol::kTCP, 8083)) {
        reached.push_back(probe.endpoint(peer).id);
      }
    }
    INFO("target " << target);
    CHECK(reached == std::vector<std::string>{"event-streams/es/kafka-mirror-maker-2",
                                              "external/203.0.113.10"});
  }
}

}  // namespace
}  // namespace netpolc::semantic
