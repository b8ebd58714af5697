// Checks that the NetworkPolicies netpolc emits for rules/eventstreams.netpol
// admit exactly the connections the Event Streams page lists.
//
// The genrules of tests/semantic/BUILD compile the rules under several flag
// combinations; eventstreams_configs.txt lists them (one line per
// configuration: its name, then its `--set` values). For each one, every pod
// of a probe universe is asked, through the independent evaluator
// //compiler/verify:k8s_eval, which (peer, protocol, port) its ingress and
// egress admit; the answer must equal the set computed from the hand
// transcription in eventstreams_page.cc.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "tests/semantic/eventstreams_page.h"
#include "third_party/catch2_main.h"

namespace netpolc::semantic {
namespace {

// A file of this package in the test's runfiles.
std::string RunfilePath(std::string_view name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) {
    throw std::runtime_error("TEST_SRCDIR/TEST_WORKSPACE are not set; run with bazel test");
  }
  return fmt::format("{}/{}/tests/semantic/{}", srcdir, workspace, name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One compiled configuration.
struct Generated {
  std::string name;
  std::string settings;  // "--set a=b --set c=d", for messages.
  Config config;
  std::string yaml_file;  // Relative to this package.
};

std::vector<Generated> ReadManifest() {
  std::istringstream lines(ReadFile(RunfilePath("eventstreams_configs.txt")));
  std::vector<Generated> result;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    Generated g;
    if (!(words >> g.name)) continue;
    for (std::string setting; words >> setting;) {
      g.config.Set(setting);
      g.settings += fmt::format("{}--set {}", g.settings.empty() ? "" : " ", setting);
    }
    if (g.settings.empty()) g.settings = "no --set";
    g.yaml_file = fmt::format("eventstreams_{}.yaml", g.name);
    result.push_back(std::move(g));
  }
  return result;
}

// The universe of a configuration with its policies loaded.
struct Loaded {
  Universe universe;
  verify::Cluster cluster;
};

Loaded Load(const Generated& g) {
  Loaded loaded{BuildUniverse(g.config), {}};
  loaded.cluster = MakeCluster(loaded.universe);
  loaded.cluster.LoadPolicies(ReadFile(RunfilePath(g.yaml_file)), g.yaml_file);
  return loaded;
}

// Compares both directions of `pod`; records one assertion per direction.
void CheckPod(const Generated& g, const Loaded& loaded, const UniverseEndpoint& pod) {
  const bool target = IsPolicyTarget(pod, g.config);
  struct Side {
    std::string_view name;
    std::string_view peer_word;
    bool page_isolates;
    bool yaml_isolates;
    ConnectionSet actual;
    ConnectionSet expected;
  };
  const Side sides[] = {
      {"ingress", "from", target && HasIngressRows(*pod.component),
       loaded.cluster.IsolatedForIngress(pod.endpoint.id),
       ActualIngress(loaded.cluster, loaded.universe, pod),
       ExpectedIngress(loaded.universe, g.config, pod)},
      {"egress", "to", target && HasEgressRows(*pod.component),
       loaded.cluster.IsolatedForEgress(pod.endpoint.id),
       ActualEgress(loaded.cluster, loaded.universe, pod),
       ExpectedEgress(loaded.universe, g.config, pod)},
  };
  for (const Side& side : sides) {
    const std::string difference = DescribeDifference(
        side.actual, side.expected, side.peer_word, loaded.universe.endpoints.size());
    if (difference.empty()) {
      SUCCEED();
      continue;
    }
    std::string isolation;
    if (side.page_isolates != side.yaml_isolates) {
      isolation = side.page_isolates ? " (the page isolates it, the YAML does not)"
                                     : " (the YAML isolates it, the page does not)";
    }
    FAIL_CHECK(fmt::format("configuration '{}' ({}): {} of {} differs from the page{}\n{}",
                           g.name, g.settings, side.name, pod.endpoint.id, isolation,
                           difference));
  }
}

bool IsPod(const UniverseEndpoint& e) {
  return e.endpoint.kind == verify::Endpoint::Kind::kPod;
}

TEST_CASE("the transcription is self-consistent") {
  const Config defaults;
  const Universe universe = BuildUniverse(defaults);
  const auto probed = [&](Protocol protocol, int port) {
    return std::find(universe.ports.begin(), universe.ports.end(),
                     std::pair{protocol, port}) != universe.ports.end();
  };
  for (const IngressRow& row : IngressRows()) {
    INFO(NameLabel(row.pod) << " ingress port " << row.port);
    CHECK(probed(row.protocol, row.port));
  }
  for (const EgressRow& row : EgressRows()) {
    INFO(NameLabel(row.pod) << " egress port " << row.port);
    CHECK(probed(row.protocol, row.port));
  }
  // Components without any row on the page get no policy.
  CHECK_FALSE(HasIngressRows(Component::kEntityOperator));
  CHECK_FALSE(HasEgressRows(Component::kEntityOperator));
  CHECK_FALSE(HasIngressRows(Component::kKafkaExporter));
  CHECK_FALSE(HasEgressRows(Component::kKafkaExporter));
  CHECK_FALSE(HasEgressRows(Component::kAdminUi));
  CHECK_FALSE(HasEgressRows(Component::kMetrics));

  // Spot checks of the expectation model.
  const auto find = [&](std::string_view id) -> const UniverseEndpoint& {
    for (const UniverseEndpoint& e : universe.endpoints) {
      if (e.endpoint.id == id) return e;
    }
    throw std::runtime_error(fmt::format("no endpoint {}", id));
  };
  const ConnectionSet kafka_in =
      ExpectedIngress(universe, defaults, find("event-streams/es/kafka"));
  CHECK(kafka_in.count({Protocol::kTCP, 9091, "other-ns/cluster-operator"}) == 1);
  CHECK(kafka_in.count({Protocol::kTCP, 9091, "event-streams/es2/kafka"}) == 0);
  CHECK(kafka_in.count({Protocol::kTCP, 9093, "external/203.0.113.10"}) == 1);
  CHECK(kafka_in.count({Protocol::kTCP, 9092, "external/203.0.113.10"}) == 0);
  CHECK(kafka_in.count({Protocol::kUDP, 9092, "external/203.0.113.10"}) == 0);
  const ConnectionSet admin_out =
      ExpectedEgress(universe, defaults, find("event-streams/es/admin-api"));
  CHECK(admin_out.count({Protocol::kUDP, 53, "kube-system/kube-dns"}) == 1);
  CHECK(admin_out.count({Protocol::kUDP, 53, "other-ns/kube-dns"}) == 0);
  CHECK(admin_out.count({Protocol::kTCP, 8083, "event-streams/es/kafka-connect"}) == 1);
  // An unisolated pod admits everything.
  CHECK(ExpectedIngress(universe, defaults, find("event-streams/es/entity-operator")).size() ==
        universe.endpoints.size() * universe.ports.size());
}

TEST_CASE("the generated configurations cover every flag both ways") {
  const std::vector<Generated> generated = ReadManifest();
  CHECK(generated.size() >= 6);
  const auto covered = [&](auto member) {
    bool on = false;
    bool off = false;
    for (const Generated& g : generated) (g.config.*member ? on : off) = true;
    return on && off;
  };
  CHECK(covered(&Config::plain_listener));
  CHECK(covered(&Config::tls_listener));
  CHECK(covered(&Config::external_listener));
  CHECK(covered(&Config::metrics));
  CHECK(covered(&Config::jmx));
  CHECK(covered(&Config::internal_tls));
  CHECK(covered(&Config::geo_replication));
  CHECK(covered(&Config::kafka_connect));
  CHECK(covered(&Config::cruise_control));
}

TEST_CASE("each policy-carrying pod of the instance admits exactly what the page lists") {
  for (const Generated& g : ReadManifest()) {
    const Loaded loaded = Load(g);
    int targets = 0;
    for (const UniverseEndpoint& pod : loaded.universe.endpoints) {
      if (!IsPolicyTarget(pod, g.config)) continue;
      ++targets;
      CheckPod(g, loaded, pod);
    }
    INFO("configuration " << g.name);
    CHECK(targets >= 8);
  }
}

TEST_CASE("pods without a policy on the page are not isolated") {
  // Entity operator, Kafka exporter, disabled components, the second
  // instance, other namespaces, the cluster operator outside its namespace,
  // kube-dns, the unlabelled pod.
  for (const Generated& g : ReadManifest()) {
    const Loaded loaded = Load(g);
    for (const UniverseEndpoint& pod : loaded.universe.endpoints) {
      if (IsPod(pod) && !IsPolicyTarget(pod, g.config)) CheckPod(g, loaded, pod);
    }
  }
}

TEST_CASE("other instances and namespaces are not admitted in place of instance pods") {
  // Already implied by the exact comparison; stated on its own so that such a
  // leak gets a focused message. Look-alikes: pods with the same name label
  // in the second instance, and with the instance label in another namespace.
  for (const Generated& g : ReadManifest()) {
    const Loaded loaded = Load(g);
    const Config& config = g.config;
    std::vector<const UniverseEndpoint*> look_alikes;
    for (const UniverseEndpoint& e : loaded.universe.endpoints) {
      if (IsPod(e) && !e.instance.empty() &&
          (e.instance != config.instance || e.endpoint.namespace_name != config.namespace_name)) {
        look_alikes.push_back(&e);
      }
    }
    REQUIRE(look_alikes.size() >= 2 * (AllComponents().size() - 1));

    for (const UniverseEndpoint& pod : loaded.universe.endpoints) {
      if (!IsPolicyTarget(pod, config)) continue;
      // Where another row admits the look-alike anyway (e.g. ipBlock
      // 0.0.0.0/0 on the same port), it is no leak.
      const ConnectionSet expected_in = ExpectedIngress(loaded.universe, config, pod);
      const ConnectionSet expected_out = ExpectedEgress(loaded.universe, config, pod);
      std::vector<std::string> leaks;
      for (const IngressRow& row : IngressRows()) {
        if (row.pod != *pod.component || !Holds(row.condition, config) ||
            (row.origin.kind != Party::Kind::kInstancePods &&
             row.origin.kind != Party::Kind::kComponents)) {
          continue;
        }
        for (const UniverseEndpoint* other : look_alikes) {
          if (expected_in.count({row.protocol, row.port, other->endpoint.id}) == 0 &&
              loaded.cluster.IngressAllowed(other->endpoint.id, pod.endpoint.id, row.protocol,
                                            row.port)) {
            leaks.push_back(fmt::format("{} {} from {}", verify::ToString(row.protocol),
                                        row.port, other->endpoint.id));
          }
        }
      }
      for (const EgressRow& row : EgressRows()) {
        if (row.pod != *pod.component || row.destination.kind != Party::Kind::kComponents) {
          continue;
        }
        for (const UniverseEndpoint* other : look_alikes) {
          if (expected_out.count({row.protocol, row.port, other->endpoint.id}) == 0 &&
              loaded.cluster.EgressAllowed(pod.endpoint.id, other->endpoint.id, row.protocol,
                                           row.port)) {
            leaks.push_back(fmt::format("{} {} to {}", verify::ToString(row.protocol),
                                        row.port, other->endpoint.id));
          }
        }
      }
      if (leaks.empty()) {
        SUCCEED();
      } else {
        std::string text;
        for (const std::string& leak : leaks) text += "    " + leak + "\n";
        FAIL_CHECK(fmt::format("configuration '{}' ({}): {} admits pods outside the instance "
                               "({}):\n{}",
                               g.name, g.settings, pod.endpoint.id, leaks.size(), text));
      }
    }
  }
}

}  // namespace
}  // namespace netpolc::semantic
