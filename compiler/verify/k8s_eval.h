// Evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics.
//
// Given a model of a cluster (namespaces, pods and external addresses) and a
// set of NetworkPolicy objects read from YAML, answers "is a connection from A
// to B on protocol P, port N allowed?" the way a conforming network plugin
// would. It is an independent oracle for what netpolc emits; it does not share
// code with the compiler.
//
// Semantics implemented (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
//  * A pod is isolated for ingress (egress) when at least one policy in the
//    pod's own namespace selects it with its spec.podSelector and has Ingress
//    (Egress) among its effective policy types. When spec.policyTypes is absent
//    or empty the effective types are Ingress, plus Egress when spec.egress has
//    at least one rule.
//  * A non-isolated side allows everything. An isolated side allows a
//    connection iff some rule (of the matching direction) of some policy that
//    isolates the pod admits the peer and the port. Rules are additive.
//  * A rule with `from`/`to` absent or empty admits every peer; with `ports`
//    absent or empty it admits every protocol and port.
//  * Peer: podSelector alone = pods of the policy's namespace; namespaceSelector
//    alone = all pods of the matching namespaces; both = pods matching both;
//    ipBlock = endpoints whose IP is inside `cidr` and outside every `except`.
//    ipBlock is applied to pod IPs as well as to external addresses (the
//    conservative reading: a plugin may do either).
//  * Port: protocol defaults to TCP; `port` absent = every port of that
//    protocol; `endPort` makes an inclusive range. A named port (`port:
//    https`) matches the destination pod's container port of that name and
//    protocol: the policy's pod for ingress, the peer for egress (never an
//    external endpoint). Endpoints carry their named container ports.
//  * External endpoints are never isolated: no policy applies to them.
//
// Not modelled: traffic from a pod's own node (always allowed by Kubernetes),
// AdminNetworkPolicy, Services / NAT.
//
// Input is validated like the API server does (selector operators and values,
// protocols, port ranges, endPort, peers, CIDRs and `except` subsets, policy
// types), and unknown fields inside `spec` are rejected, since a misspelt field
// would silently change the meaning. An absent spec.podSelector selects every
// pod (the API reference documents it as optional, defaulting to the empty
// selector); an explicit null is read as absent, as Go's decoder does. Any
// malformed document raises netpolc::verify::Error with a message naming the
// source, the document number, the policy and the field.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}  // namespace YAML

namespace netpolc::verify {

// Raised for malformed policies, invalid cluster models and bad queries.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Protocol { kTCP, kUDP, kSCTP };

// "TCP", "UDP" or "SCTP".
std::string_view ToString(Protocol protocol);

// How a YAML node reads in an error message: "a map", "a list", "a scalar",
// "null" or "missing". Shared by the evaluators' document readers.
std::string_view DescribeNode(const YAML::Node& node);
// Parses the exact (case-sensitive) Kubernetes spelling; nullopt otherwise.
std::optional<Protocol> ParseProtocol(std::string_view text);

using Labels = std::map<std::string, std::string, std::less<>>;

// ---------------------------------------------------------------------------
// IP addresses and CIDR blocks (IPv4 and IPv6).

class IpAddress {
 public:
  enum class Family { kV4, kV6 };

  // Parses a dotted-quad IPv4 or a textual IPv6 address; nullopt if invalid.
  static std::optional<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  // Number of address bits: 32 or 128.
  int bit_count() const { return family_ == Family::kV4 ? 32 : 128; }
  // Bit `index` counted from the most significant bit.
  bool bit(int index) const;
  // This address with every bit after the first `prefix_length` cleared.
  IpAddress Masked(int prefix_length) const;
  // Canonical text (inet_ntop).
  std::string ToString() const;

  bool operator==(const IpAddress&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first 4 bytes.
};

class Cidr {
 public:
  // Parses "address/prefix". Host bits beyond the prefix are ignored (as the
  // API server historically accepted them). nullopt if invalid.
  static std::optional<Cidr> Parse(std::string_view text);

  // False for an address of the other family (so ::/0 contains no IPv4).
  bool Contains(const IpAddress& address) const;
  // True if every address of `other` is in this block.
  bool Contains(const Cidr& other) const;

  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_length_; }

 private:
  Cidr(IpAddress network, int prefix_length)
      : network_(network), prefix_length_(prefix_length) {}

  IpAddress network_;
  int prefix_length_;
};

// ---------------------------------------------------------------------------
// Parsed NetworkPolicy model.

struct LabelSelectorRequirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kExists;
  std::vector<std::string> values;
};

// A metav1.LabelSelector. The empty selector matches everything.
struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  bool Matches(const Labels& labels) const;
};

struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;

  bool Matches(const IpAddress& address) const;
};

// One element of `from` / `to`. Exactly one of these shapes is set:
// ip_block; or pod_selector and/or namespace_selector.
struct Peer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;
};

// A container port of a pod (the pod spec's containers[].ports[]).
struct ContainerPort {
  std::string name;  // IANA_SVC_NAME; unique in the pod
  Protocol protocol = Protocol::kTCP;
  int port = 0;
};

struct Endpoint;

// One element of `ports`.
struct PortMatch {
  Protocol protocol = Protocol::kTCP;
  std::optional<int> port;      // nullopt: every port of `protocol`.
  std::optional<int> end_port;  // Inclusive upper bound; needs `port`.
  // A named port (`port: https`): the destination pod's container port of
  // that name and protocol. `port` is then nullopt.
  std::string name;

  // For a named port, false (it needs the destination: the overload below).
  bool Matches(Protocol protocol, int port) const;
  // `destination` is the pod that receives the connection (the policy's pod
  // for ingress, the peer for egress); a named port never matches an
  // external endpoint.
  bool Matches(Protocol protocol, int port, const Endpoint& destination) const;
};

// An ingress or egress rule: `peers` is `from` or `to`. Empty vectors mean
// "all peers" / "all ports".
struct Rule {
  std::vector<Peer> peers;
  std::vector<PortMatch> ports;
};

struct Policy {
  std::string name;
  std::string namespace_name;
  LabelSelector pod_selector;
  bool isolates_ingress = false;  // Ingress is an effective policy type.
  bool isolates_egress = false;   // Egress is an effective policy type.
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
};

// Parses every document of a multi-document YAML string. Empty documents are
// skipped; every other document must be a networking.k8s.io/v1
// NetworkPolicy. `source_name` (e.g. a file name) prefixes error messages.
std::vector<Policy> ParsePolicies(std::string_view yaml,
                                  std::string_view source_name = "<input>");

// ---------------------------------------------------------------------------
// Cluster model and queries.

struct Namespace {
  std::string name;
  Labels labels;  // kubernetes.io/metadata.name=<name> is added automatically.
};

struct Endpoint {
  enum class Kind { kPod, kExternal };

  std::string id;  // Unique; used in queries.
  Kind kind = Kind::kPod;
  std::string namespace_name;  // Pods only; must be a known namespace.
  Labels labels;               // Pods only.
  std::string ip;  // Required for externals; optional for pods (an empty IP
                   // matches no ipBlock).
  // What an external endpoint is, for evaluators that give it an identity
  // (Kubernetes matches it by address only): a node of the cluster (the
  // pods on a node's host network share its address and identity), or the
  // Kubernetes API server (here: a control plane outside the pod network,
  // as managed clusters run it).
  enum class Role { kNone, kNode, kApiServer };
  Role role = Role::kNone;
  std::vector<ContainerPort> ports;  // Pods only: named container ports.
};

// Holds namespaces, endpoints and policies. Adding things is not thread-safe;
// the const queries are safe to call concurrently.
class Cluster {
 public:
  // Throws Error on a duplicate name. The label
  // kubernetes.io/metadata.name=<name> is set as the API server does.
  void AddNamespace(Namespace ns);
  // Throws Error on a duplicate id, an unknown namespace, an invalid IP, or
  // namespace/labels given for an external endpoint.
  void AddEndpoint(Endpoint endpoint);
  // Parses `yaml` (see ParsePolicies) and adds all of its policies, or none
  // of them if it throws.
  void LoadPolicies(std::string_view yaml,
                    std::string_view source_name = "<input>");
  void AddPolicy(Policy policy);

  // Whether the ingress side of `dst` admits the connection (src's egress
  // side is not consulted). Throws Error on an unknown id or a port outside
  // 1..65535.
  bool IngressAllowed(std::string_view src, std::string_view dst,
                      Protocol protocol, int port) const;
  // Whether the egress side of `src` admits the connection.
  bool EgressAllowed(std::string_view src, std::string_view dst,
                     Protocol protocol, int port) const;
  // IngressAllowed && EgressAllowed.
  bool Allowed(std::string_view src, std::string_view dst, Protocol protocol,
               int port) const;

  // Whether any policy isolates the endpoint (always false for externals).
  bool IsolatedForIngress(std::string_view id) const;
  bool IsolatedForEgress(std::string_view id) const;

  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  const std::vector<Policy>& policies() const { return policies_; }

 private:
  enum class Direction { kIngress, kEgress };

  // Per-endpoint data derived once, so that queries stay cheap.
  struct EndpointState {
    std::optional<IpAddress> ip;
    Labels namespace_labels;  // Labels of a pod's namespace.
    // Indices into policies_ of the policies isolating this endpoint.
    std::vector<std::size_t> ingress_policies;
    std::vector<std::size_t> egress_policies;
  };

  std::size_t IndexOf(std::string_view id) const;
  // Records that the policy isolates the endpoint, if it selects it.
  void Link(std::size_t policy_index, std::size_t endpoint_index);
  bool SideAllows(Direction direction, std::size_t subject, std::size_t peer,
                  Protocol protocol, int port) const;
  bool PeerMatches(const Peer& peer, const Policy& policy,
                   std::size_t endpoint) const;

  std::map<std::string, Labels, std::less<>> namespaces_;
  std::vector<Endpoint> endpoints_;
  std::vector<EndpointState> states_;  // Parallel to endpoints_.
  std::map<std::string, std::size_t, std::less<>> endpoint_index_;
  std::vector<Policy> policies_;
};

}  // namespace netpolc::verify
