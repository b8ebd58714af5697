#include "tests/semantic/eventstreams_page.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include <fmt/core.h>

namespace netpolc::semantic {
namespace {

using C = Component;
using K = Party::Kind;

constexpr Protocol TCP = Protocol::kTCP;
constexpr Protocol UDP = Protocol::kUDP;

constexpr std::string_view kOtherNamespace = "other-ns";
constexpr std::string_view kKubeSystem = "kube-system";
constexpr std::string_view kExternalIp = "203.0.113.10";

Party Anywhere() { return {K::kAnywhere, {}}; }
Party InstancePods() { return {K::kInstancePods, {}}; }
Party Pods(std::vector<Component> components) { return {K::kComponents, std::move(components)}; }
Party ClusterDns() { return {K::kClusterDns, {}}; }
Party ExternalNetworks() { return {K::kExternalNetworks, {}}; }

}  // namespace

const std::vector<Component>& AllComponents() {
  static const std::vector<Component> kAll = {
      C::kKafka,           C::kZooKeeper,      C::kGeoReplicator, C::kSchemaRegistry,
      C::kAdminUi,         C::kAdminApi,       C::kRestProducer,  C::kMetrics,
      C::kClusterOperator, C::kEntityOperator, C::kCruiseControl, C::kKafkaExporter,
      C::kKafkaConnect,
  };
  return kAll;
}

std::string_view NameLabel(Component component) {
  switch (component) {
    case C::kKafka: return "kafka";
    case C::kZooKeeper: return "zookeeper";
    case C::kGeoReplicator: return "kafka-mirror-maker-2";
    case C::kSchemaRegistry: return "schema-registry";
    case C::kAdminUi: return "admin-ui";
    case C::kAdminApi: return "admin-api";
    case C::kRestProducer: return "rest-producer";
    case C::kMetrics: return "metrics";
    case C::kClusterOperator: return "cluster-operator";
    case C::kEntityOperator: return "entity-operator";
    case C::kCruiseControl: return "cruise-control";
    case C::kKafkaExporter: return "kafka-exporter";
    case C::kKafkaConnect: return "kafka-connect";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Config

void Config::Set(std::string_view assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    throw std::invalid_argument(fmt::format("expected NAME=VALUE, got '{}'", assignment));
  }
  const std::string_view name = assignment.substr(0, eq);
  const std::string_view value = assignment.substr(eq + 1);

  const std::map<std::string_view, std::string*> strings = {
      {"instance", &instance},
      {"namespace", &namespace_name},
      {"operator_namespace", &operator_namespace},
  };
  const std::map<std::string_view, bool*> flags = {
      {"plain_listener", &plain_listener},   {"tls_listener", &tls_listener},
      {"external_listener", &external_listener}, {"metrics", &metrics},
      {"jmx", &jmx},                         {"internal_tls", &internal_tls},
      {"geo_replication", &geo_replication}, {"kafka_connect", &kafka_connect},
      {"cruise_control", &cruise_control},
  };
  if (const auto it = strings.find(name); it != strings.end()) {
    *it->second = std::string(value);
  } else if (const auto flag = flags.find(name); flag != flags.end()) {
    if (value != "true" && value != "false") {
      throw std::invalid_argument(
          fmt::format("flag {} must be true or false, got '{}'", name, value));
    }
    *flag->second = value == "true";
  } else {
    throw std::invalid_argument(fmt::format("unknown parameter or flag '{}'", name));
  }
}

bool Config::Deployed(Component component) const {
  switch (component) {
    case C::kGeoReplicator: return geo_replication;
    case C::kKafkaConnect: return kafka_connect;
    case C::kCruiseControl: return cruise_control;
    default: return true;
  }
}

std::string Config::Describe() const {
  return fmt::format(
      "instance={} namespace={} operator_namespace={} plain_listener={} tls_listener={} "
      "external_listener={} metrics={} jmx={} internal_tls={} geo_replication={} "
      "kafka_connect={} cruise_control={}",
      instance, namespace_name, operator_namespace, plain_listener, tls_listener,
      external_listener, metrics, jmx, internal_tls, geo_replication, kafka_connect,
      cruise_control);
}

bool Holds(Condition condition, const Config& config) {
  switch (condition) {
    case Condition::kAlways: return true;
    case Condition::kPlainListener: return config.plain_listener;
    case Condition::kTlsListener: return config.tls_listener;
    case Condition::kExternalListener: return config.external_listener;
    case Condition::kMetrics: return config.metrics;
    case Condition::kJmx: return config.jmx;
    case Condition::kInternalTls: return config.internal_tls;
    case Condition::kNoInternalTls: return !config.internal_tls;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The page, table by table.

const std::vector<IngressRow>& IngressRows() {
  using Cond = Condition;
  static const std::vector<IngressRow> kRows = {
      // Kafka pod
      {C::kKafka, Pods({C::kAdminApi, C::kRestProducer, C::kSchemaRegistry}), 8091},
      {C::kKafka,
       Pods({C::kKafka, C::kClusterOperator, C::kEntityOperator, C::kCruiseControl,
             C::kKafkaExporter}),
       9091},
      {C::kKafka, Anywhere(), 9092, Cond::kPlainListener},
      {C::kKafka, Anywhere(), 9093, Cond::kTlsListener},
      {C::kKafka, Anywhere(), 9094, Cond::kExternalListener},
      {C::kKafka, Anywhere(), 9404, Cond::kMetrics},
      {C::kKafka, Anywhere(), 9999, Cond::kJmx},
      // ZooKeeper pod ("Other ZooKeeper pods": a selector cannot exclude the
      // pod itself, so ZooKeeper pods).
      {C::kZooKeeper,
       Pods({C::kKafka, C::kZooKeeper, C::kClusterOperator, C::kEntityOperator,
             C::kCruiseControl}),
       2181},
      {C::kZooKeeper, Pods({C::kZooKeeper}), 2888},
      {C::kZooKeeper, Pods({C::kZooKeeper}), 3888},
      {C::kZooKeeper, Anywhere(), 9404, Cond::kMetrics},
      // Geo-replicator pod
      {C::kGeoReplicator, Pods({C::kAdminApi}), 8083},
      {C::kGeoReplicator, Pods({C::kClusterOperator, C::kGeoReplicator}), 8083},
      {C::kGeoReplicator, Anywhere(), 9404, Cond::kMetrics},
      // Schema registry pod
      {C::kSchemaRegistry, Anywhere(), 9443},
      {C::kSchemaRegistry, InstancePods(), 7443, Cond::kInternalTls},
      {C::kSchemaRegistry, InstancePods(), 7080, Cond::kNoInternalTls},
      // Administration UI pod
      {C::kAdminUi, Anywhere(), 3000},
      // Administration server pod
      {C::kAdminApi, Anywhere(), 9443},
      {C::kAdminApi, InstancePods(), 7443, Cond::kInternalTls},
      {C::kAdminApi, InstancePods(), 7080, Cond::kNoInternalTls},
      // REST producer server pod
      {C::kRestProducer, Anywhere(), 9443},
      {C::kRestProducer, InstancePods(), 7443, Cond::kInternalTls},
      {C::kRestProducer, InstancePods(), 7080, Cond::kNoInternalTls},
      // Metrics collector pod
      {C::kMetrics, Anywhere(), 7888},
      {C::kMetrics, InstancePods(), 7443, Cond::kInternalTls},
      {C::kMetrics, InstancePods(), 7080, Cond::kNoInternalTls},
      // Cluster operator pod
      {C::kClusterOperator, Anywhere(), 8080},
      {C::kClusterOperator, Anywhere(), 8081},
      // Cruise Control pod
      {C::kCruiseControl, Pods({C::kClusterOperator}), 9090},
      // Kafka Connect pod
      {C::kKafkaConnect, Pods({C::kClusterOperator, C::kKafkaConnect}), 8083},
      {C::kKafkaConnect, Anywhere(), 9404, Cond::kMetrics},
  };
  return kRows;
}

const std::vector<EgressRow>& EgressRows() {
  static const std::vector<EgressRow> kRows = [] {
    std::vector<EgressRow> rows = {
        // Kafka pod
        {C::kKafka, Pods({C::kKafka}), 9091},
        {C::kKafka, Pods({C::kZooKeeper}), 2181},
        // ZooKeeper pod
        {C::kZooKeeper, Pods({C::kZooKeeper}), 2888},
        {C::kZooKeeper, Pods({C::kZooKeeper}), 3888},
        // Geo-replicator pod; "Geo-replicator destination is external to the
        // cluster": the contract adds every outside address on the same port.
        {C::kGeoReplicator, Pods({C::kGeoReplicator}), 8083},
        {C::kGeoReplicator, ExternalNetworks(), 8083},
        // Schema registry pod
        {C::kSchemaRegistry, Pods({C::kKafka}), 8091},
        // Administration server pod
        {C::kAdminApi, Pods({C::kKafka}), 8091},
        {C::kAdminApi, Pods({C::kGeoReplicator}), 8083},
        {C::kAdminApi, Pods({C::kKafkaConnect}), 8083},
        // REST producer server pod
        {C::kRestProducer, Pods({C::kKafka}), 8091},
        // Cluster operator pod
        {C::kClusterOperator, Pods({C::kKafka}), 9091},
        {C::kClusterOperator, Pods({C::kZooKeeper}), 2181},
        {C::kClusterOperator, Pods({C::kGeoReplicator}), 8083},
        {C::kClusterOperator, Pods({C::kKafkaConnect}), 8083},
        {C::kClusterOperator, Pods({C::kAdminApi}), 7443},
        {C::kClusterOperator, Pods({C::kMetrics}), 7443},
        {C::kClusterOperator, Pods({C::kRestProducer}), 7443},
        // Cruise Control pod
        {C::kCruiseControl, Pods({C::kKafka}), 9091},
        {C::kCruiseControl, Pods({C::kZooKeeper}), 2181},
        // Kafka Connect pod
        {C::kKafkaConnect, Pods({C::kKafkaConnect}), 8083},
    };
    // Not on the page (the contract): every pod with egress rows resolves names.
    std::vector<Component> with_egress;
    for (const EgressRow& row : rows) {
      if (std::find(with_egress.begin(), with_egress.end(), row.pod) == with_egress.end()) {
        with_egress.push_back(row.pod);
      }
    }
    for (const Component pod : with_egress) {
      rows.push_back({pod, ClusterDns(), 53, UDP});
      rows.push_back({pod, ClusterDns(), 53, TCP});
    }
    return rows;
  }();
  return kRows;
}

bool HasIngressRows(Component component) {
  const auto& rows = IngressRows();
  return std::any_of(rows.begin(), rows.end(),
                     [&](const IngressRow& row) { return row.pod == component; });
}

bool HasEgressRows(Component component) {
  const auto& rows = EgressRows();
  return std::any_of(rows.begin(), rows.end(),
                     [&](const EgressRow& row) { return row.pod == component; });
}

// ---------------------------------------------------------------------------
// Universe

Universe BuildUniverse(const Config& config) {
  Universe u;
  for (const std::string_view ns :
       {std::string_view(config.namespace_name), kOtherNamespace,
        std::string_view(config.operator_namespace), kKubeSystem}) {
    if (std::find(u.namespaces.begin(), u.namespaces.end(), ns) == u.namespaces.end()) {
      u.namespaces.emplace_back(ns);
    }
  }

  int next_ip = 1;
  const auto add_pod = [&](std::string id, std::string_view ns, verify::Labels labels,
                           std::optional<Component> component, std::string instance,
                           bool is_dns) {
    verify::Endpoint ep{std::move(id), verify::Endpoint::Kind::kPod, std::string(ns),
                        std::move(labels),
                        fmt::format("10.128.{}.{}", next_ip / 250, next_ip % 250 + 1)};
    ++next_ip;
    u.endpoints.push_back({std::move(ep), component, std::move(instance), is_dns});
  };

  const std::string second_instance = config.instance + "2";
  for (const Component c : AllComponents()) {
    const std::string name(NameLabel(c));
    if (c == C::kClusterOperator) {
      for (const std::string_view ns :
           {std::string_view(config.operator_namespace), kOtherNamespace}) {
        add_pod(fmt::format("{}/{}", ns, name), ns, {{std::string(kNameKey), name}}, c, "",
                false);
      }
      continue;
    }
    for (const auto& [ns, instance] :
         {std::pair<std::string_view, std::string_view>{config.namespace_name, config.instance},
          {config.namespace_name, second_instance},
          {kOtherNamespace, config.instance}}) {
      add_pod(fmt::format("{}/{}/{}", ns, instance, name), ns,
              {{std::string(kNameKey), name}, {std::string(kInstanceKey), std::string(instance)}},
              c, std::string(instance), false);
    }
  }
  add_pod(fmt::format("{}/{}/instance-only", config.namespace_name, config.instance),
          config.namespace_name, {{std::string(kInstanceKey), config.instance}}, std::nullopt,
          config.instance, false);
  add_pod(fmt::format("{}/unlabelled", config.namespace_name), config.namespace_name, {},
          std::nullopt, "", false);
  add_pod(fmt::format("{}/kube-dns", kKubeSystem), kKubeSystem, {{"k8s-app", "kube-dns"}},
          std::nullopt, "", true);
  add_pod(fmt::format("{}/kube-dns", kOtherNamespace), kOtherNamespace,
          {{"k8s-app", "kube-dns"}}, std::nullopt, "", true);

  u.endpoints.push_back({verify::Endpoint{fmt::format("external/{}", kExternalIp),
                                          verify::Endpoint::Kind::kExternal, "", {},
                                          std::string(kExternalIp)},
                         std::nullopt, "", false});

  for (const int port : {53, 80, 2181, 2888, 3000, 3888, 7080, 7443, 7888, 8080, 8081, 8082,
                         8083, 8091, 9090, 9091, 9092, 9093, 9094, 9404, 9443, 9999}) {
    u.ports.emplace_back(TCP, port);
  }
  for (const int port : {53, 8083, 9092}) u.ports.emplace_back(UDP, port);
  u.ports.emplace_back(Protocol::kSCTP, 9091);
  return u;
}

verify::Cluster MakeCluster(const Universe& universe) {
  verify::Cluster cluster;
  for (const std::string& ns : universe.namespaces) cluster.AddNamespace({ns, {}});
  for (const UniverseEndpoint& e : universe.endpoints) cluster.AddEndpoint(e.endpoint);
  return cluster;
}

// ---------------------------------------------------------------------------
// Expectations

namespace {

bool IsPod(const UniverseEndpoint& e) {
  return e.endpoint.kind == verify::Endpoint::Kind::kPod;
}

// A pod of `component` belonging to the configured instance.
bool IsInstanceComponentPod(const UniverseEndpoint& e, Component component,
                            const Config& config) {
  if (!IsPod(e) || e.component != component) return false;
  if (component == C::kClusterOperator) return true;  // Any namespace.
  return e.endpoint.namespace_name == config.namespace_name && e.instance == config.instance;
}

bool Includes(const Party& party, const UniverseEndpoint& e, const Config& config) {
  switch (party.kind) {
    case K::kAnywhere:
      return true;
    case K::kInstancePods:
      return IsPod(e) && e.endpoint.namespace_name == config.namespace_name &&
             e.instance == config.instance;
    case K::kComponents:
      return std::any_of(party.components.begin(), party.components.end(), [&](Component c) {
        return config.Deployed(c) && IsInstanceComponentPod(e, c, config);
      });
    case K::kClusterDns:
      return IsPod(e) && e.is_dns && e.endpoint.namespace_name == kKubeSystem;
    case K::kExternalNetworks:
      // "External to the cluster": every address outside it, never a pod.
      return e.endpoint.kind == verify::Endpoint::Kind::kExternal;
  }
  return false;
}

}  // namespace

bool IsPolicyTarget(const UniverseEndpoint& pod, const Config& config) {
  if (!pod.component || !config.Deployed(*pod.component)) return false;
  const Component c = *pod.component;
  if (!HasIngressRows(c) && !HasEgressRows(c)) return false;
  if (c == C::kClusterOperator) {
    return IsPod(pod) && pod.endpoint.namespace_name == config.operator_namespace;
  }
  return IsInstanceComponentPod(pod, c, config);
}

ConnectionSet ExpectedIngress(const Universe& universe, const Config& config,
                              const UniverseEndpoint& pod) {
  const bool isolated = IsPolicyTarget(pod, config) && HasIngressRows(*pod.component);
  std::vector<const IngressRow*> rows;  // The pod's rows enabled in `config`.
  if (isolated) {
    for (const IngressRow& row : IngressRows()) {
      if (row.pod == *pod.component && Holds(row.condition, config)) rows.push_back(&row);
    }
  }
  ConnectionSet result;
  for (const UniverseEndpoint& src : universe.endpoints) {
    for (const auto& [protocol, port] : universe.ports) {
      const auto admits = [&](const IngressRow* row) {
        return row->protocol == protocol && row->port == port &&
               Includes(row->origin, src, config);
      };
      if (!isolated || std::any_of(rows.begin(), rows.end(), admits)) {
        result.insert({protocol, port, src.endpoint.id});
      }
    }
  }
  return result;
}

ConnectionSet ExpectedEgress(const Universe& universe, const Config& config,
                             const UniverseEndpoint& pod) {
  const bool isolated = IsPolicyTarget(pod, config) && HasEgressRows(*pod.component);
  std::vector<const EgressRow*> rows;  // The pod's rows.
  if (isolated) {
    for (const EgressRow& row : EgressRows()) {
      if (row.pod == *pod.component) rows.push_back(&row);
    }
  }
  ConnectionSet result;
  for (const UniverseEndpoint& dst : universe.endpoints) {
    for (const auto& [protocol, port] : universe.ports) {
      const auto admits = [&](const EgressRow* row) {
        return row->protocol == protocol && row->port == port &&
               Includes(row->destination, dst, config);
      };
      if (!isolated || std::any_of(rows.begin(), rows.end(), admits)) {
        result.insert({protocol, port, dst.endpoint.id});
      }
    }
  }
  return result;
}

ConnectionSet ActualIngress(const verify::Cluster& cluster, const Universe& universe,
                            const UniverseEndpoint& pod) {
  ConnectionSet result;
  for (const UniverseEndpoint& src : universe.endpoints) {
    for (const auto& [protocol, port] : universe.ports) {
      if (cluster.IngressAllowed(src.endpoint.id, pod.endpoint.id, protocol, port)) {
        result.insert({protocol, port, src.endpoint.id});
      }
    }
  }
  return result;
}

ConnectionSet ActualEgress(const verify::Cluster& cluster, const Universe& universe,
                           const UniverseEndpoint& pod) {
  ConnectionSet result;
  for (const UniverseEndpoint& dst : universe.endpoints) {
    for (const auto& [protocol, port] : universe.ports) {
      if (cluster.EgressAllowed(pod.endpoint.id, dst.endpoint.id, protocol, port)) {
        result.insert({protocol, port, dst.endpoint.id});
      }
    }
  }
  return result;
}

namespace {

// The connections of `a` not in `b`, by port: "    TCP 9092 from:" and one
// peer per line, or "    TCP 9092 from every probed endpoint (44)".
std::string ListMissingFrom(const ConnectionSet& a, const ConnectionSet& b,
                            std::string_view peer_word, std::size_t endpoint_count,
                            std::size_t& count) {
  std::map<std::pair<Protocol, int>, std::vector<std::string>> by_port;
  for (const Connection& c : a) {
    if (b.count(c) == 0) by_port[{c.protocol, c.port}].push_back(c.peer);
  }
  std::string text;
  count = 0;
  for (const auto& [key, peers] : by_port) {
    count += peers.size();
    const std::string_view protocol = verify::ToString(key.first);
    if (peers.size() == endpoint_count) {
      text += fmt::format("    {} {} {} every probed endpoint ({})\n", protocol, key.second,
                          peer_word, peers.size());
      continue;
    }
    text += fmt::format("    {} {} {}:\n", protocol, key.second, peer_word);
    for (const std::string& peer : peers) text += fmt::format("      {}\n", peer);
  }
  return text;
}

}  // namespace

std::string DescribeDifference(const ConnectionSet& actual, const ConnectionSet& expected,
                               std::string_view peer_word, std::size_t endpoint_count) {
  std::size_t extra_count = 0;
  std::size_t missing_count = 0;
  const std::string extra =
      ListMissingFrom(actual, expected, peer_word, endpoint_count, extra_count);
  const std::string missing =
      ListMissingFrom(expected, actual, peer_word, endpoint_count, missing_count);
  std::string text;
  if (extra_count != 0) {
    text += fmt::format("  allowed by the YAML, not by the page ({}):\n{}", extra_count, extra);
  }
  if (missing_count != 0) {
    text += fmt::format("  required by the page, denied by the YAML ({}):\n{}", missing_count,
                        missing);
  }
  return text;
}

}  // namespace netpolc::semantic
