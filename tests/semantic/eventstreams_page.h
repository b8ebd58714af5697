// A hand transcription of the IBM Event Streams "Network policies" page
// (shared/spec/network-policies.md) and the connections it implies.
//
// This is the expectation side of the Event Streams semantic test. It is
// written from the page and the netpolc contract only, never from the rules
// file or the compiler, so that the test is an independent check:
//
//  * Config: the compiler parameters and flags (`--set NAME=VALUE`).
//  * IngressRows() / EgressRows(): the page's tables, one row per line, plus
//    the DNS egress the contract adds for every pod with egress rows.
//  * BuildUniverse(): namespaces, pods and an external address to probe.
//  * ExpectedIngress() / ExpectedEgress(): what each pod must admit.
#pragma once

#include <compare>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/verify/k8s_eval.h"

namespace netpolc::semantic {

using verify::Protocol;

// Pods of an Event Streams installation, by their app.kubernetes.io/name.
enum class Component {
  kKafka,
  kZooKeeper,
  kGeoReplicator,  // kafka-mirror-maker-2
  kSchemaRegistry,
  kAdminUi,
  kAdminApi,  // "Administration server", "REST API", "Admin API"
  kRestProducer,
  kMetrics,  // "Metrics collector"
  kClusterOperator,
  kEntityOperator,
  kCruiseControl,
  kKafkaExporter,
  kKafkaConnect,
};

const std::vector<Component>& AllComponents();
// The app.kubernetes.io/name label value, e.g. "kafka-mirror-maker-2".
std::string_view NameLabel(Component component);

inline constexpr std::string_view kNameKey = "app.kubernetes.io/name";
inline constexpr std::string_view kInstanceKey = "app.kubernetes.io/instance";

// Compiler parameters and flags, with the contract's defaults.
struct Config {
  std::string instance = "es";
  std::string namespace_name = "event-streams";
  std::string operator_namespace = "openshift-operators";

  bool plain_listener = false;
  bool tls_listener = true;
  bool external_listener = true;
  bool metrics = false;
  bool jmx = false;
  bool internal_tls = false;
  // Optional components.
  bool geo_replication = true;
  bool kafka_connect = true;
  bool cruise_control = true;

  // Applies one `--set` value, "NAME=VALUE". Throws std::invalid_argument for
  // an unknown name or a flag value other than true/false.
  void Set(std::string_view assignment);
  // False only for an optional component whose flag is off.
  bool Deployed(Component component) const;
  std::string Describe() const;
};

// "Enabled in policy" column.
enum class Condition {
  kAlways,
  kPlainListener,
  kTlsListener,
  kExternalListener,
  kMetrics,
  kJmx,
  kInternalTls,
  kNoInternalTls,
};

bool Holds(Condition condition, const Config& config);

// The other side of a row: an origin (ingress) or a destination (egress).
struct Party {
  enum class Kind {
    kAnywhere,        // Every source, in or outside the cluster.
    kInstancePods,    // Pods with the instance label in the instance namespace.
    kComponents,      // Pods of the listed components of this instance (the
                      // cluster operator: in any namespace).
    kClusterDns,      // k8s-app=kube-dns pods in kube-system.
    kExternalNetworks,  // "External to the cluster": addresses outside it, never a pod.
  };
  Kind kind = Kind::kAnywhere;
  std::vector<Component> components;  // kComponents only.
};

struct IngressRow {
  Component pod;
  Party origin;
  int port;
  Condition condition = Condition::kAlways;
  Protocol protocol = Protocol::kTCP;
};

struct EgressRow {
  Component pod;
  Party destination;
  int port;
  Protocol protocol = Protocol::kTCP;
};

// The ingress tables of the page.
const std::vector<IngressRow>& IngressRows();
// The egress tables of the page, the geo-replicator's external destination,
// and DNS (UDP and TCP 53 to kube-dns) for every pod that has egress rows.
const std::vector<EgressRow>& EgressRows();

bool HasIngressRows(Component component);
bool HasEgressRows(Component component);

// ---------------------------------------------------------------------------
// The universe of endpoints the test probes.

struct UniverseEndpoint {
  verify::Endpoint endpoint;            // id, kind, namespace, labels, ip.
  std::optional<Component> component;  // From the name label.
  std::string instance;                 // From the instance label; "" if none.
  bool is_dns = false;                  // Has k8s-app=kube-dns.
};

struct Universe {
  std::vector<std::string> namespaces;
  std::vector<UniverseEndpoint> endpoints;
  std::vector<std::pair<Protocol, int>> ports;  // Probed on every pair.
};

// For `config`: namespaces <namespace>, other-ns, <operator_namespace>,
// kube-system; each component's pod in the instance, in a second instance
// (<instance>2) of the same namespace and with the instance label in other-ns;
// cluster-operator pods in <operator_namespace> and other-ns; a pod with only
// the instance label; kube-dns in kube-system and an impostor in other-ns; an
// unlabelled pod; one external address.
Universe BuildUniverse(const Config& config);

// A cluster holding the universe's namespaces and endpoints.
verify::Cluster MakeCluster(const Universe& universe);

// The instance's own pods that must carry a policy: the pod of each deployed
// component with rows on the page (cluster operator: the one in
// <operator_namespace>).
bool IsPolicyTarget(const UniverseEndpoint& pod, const Config& config);

// One connection seen from a fixed pod: the peer and the port.
struct Connection {
  Protocol protocol;
  int port;
  std::string peer;  // Endpoint id.

  auto operator<=>(const Connection&) const = default;
};
using ConnectionSet = std::set<Connection>;

// Every (source, protocol, port) the page lets into `pod`. A pod that is not
// a policy target admits everything.
ConnectionSet ExpectedIngress(const Universe& universe, const Config& config,
                              const UniverseEndpoint& pod);
// Every (destination, protocol, port) the page lets `pod` connect to.
ConnectionSet ExpectedEgress(const Universe& universe, const Config& config,
                             const UniverseEndpoint& pod);

// What the loaded policies admit, over the same universe and ports.
ConnectionSet ActualIngress(const verify::Cluster& cluster, const Universe& universe,
                            const UniverseEndpoint& pod);
ConnectionSet ActualEgress(const verify::Cluster& cluster, const Universe& universe,
                           const UniverseEndpoint& pod);

// Readable difference, grouped by port; "" when equal. `peer_word` is
// "from" or "to"; `endpoint_count` (the universe's) lets a port that differs
// for every endpoint be summarised in one line.
std::string DescribeDifference(const ConnectionSet& actual,
                               const ConnectionSet& expected,
                               std::string_view peer_word, std::size_t endpoint_count);

}  // namespace netpolc::semantic
