// The policy IR: the concrete network policies of one configuration, in
// canonical form (sorted, deduplicated, merged only where exact). Every
// policy backend renders this and nothing else, so all targets agree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/types.h"
#include "compiler/source.h"

namespace netpolc::ir {

// Which namespaces a pod peer's pods may be in.
enum class NamespaceMatch : uint8_t {
  kNamed,   // exactly the namespace `ns`
  kAny,     // every namespace
  kLabels,  // namespaces carrying `ns_labels`
};

struct Peer {
  enum class Kind : uint8_t {
    kAnywhere,  // every endpoint, in or outside the cluster
    kPods,      // pods carrying pod_labels (all pods if empty) in ns_match
    kIpBlock,   // addresses in cidr, minus except, outside the cluster: never a pod nor a node
    kKubeApiserver,  // the Kubernetes API server
    kNodes,          // the cluster's nodes and the pods on their host network
  };
  Kind kind = Kind::kAnywhere;
  NamespaceMatch ns_match = NamespaceMatch::kNamed;
  std::string ns;
  std::vector<Label> ns_labels;   // sorted by key
  std::vector<Label> pod_labels;  // sorted by key
  std::string cidr;
  std::vector<std::string> except;  // sorted
  std::vector<Requirement> pod_exprs;  // kPods: requirements beside pod_labels, sorted
  std::vector<Requirement> ns_exprs;   // kPods, kLabels: beside ns_labels, sorted
  friend bool operator==(const Peer&, const Peer&) = default;
  friend auto operator<=>(const Peer&, const Peer&) = default;
};

// Admits every peer in `peers` on every port in `ports`: the relation is the
// product, so rules are only merged where that product is exact.
struct PolicyRule {
  std::vector<Peer> peers;       // sorted, unique, non-empty
  std::vector<PortRange> ports;  // sorted, merged, non-empty
  bool dns = false;              // the built-in name-resolution rule
  std::vector<SourceLoc> sources;  // the rules this came from, sorted
  // Container ports by name, beside `ports` (which may then be empty): a rule
  // has at least one of the two. Sorted, unique.
  std::vector<NamedPort> named_ports;
};

struct Policy {
  std::string name;
  std::string ns;
  std::string component;        // component id
  std::vector<Label> selector;  // pod labels, sorted by key
  bool isolate_ingress = false;
  bool isolate_egress = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
  SourceLoc loc;
};

struct PolicySet {
  std::vector<Policy> policies;  // sorted by (ns, name)
  // How targets without API-server and node identities (k8s, calico) write
  // the kKubeApiserver and kNodes peers: the peers of `kube_apiserver = ...;`
  // and `nodes = ...;` in this configuration (canonical: sorted, unique), or
  // nullopt when the file declares none (those targets then refuse the rule).
  std::optional<std::vector<Peer>> kube_apiserver_peers;
  std::optional<std::vector<Peer>> nodes_peers;
  // The cluster's pod networks (the `pod_networks` parameter, when the rules
  // declare it; empty otherwise), sorted. A kIpBlock peer means the addresses
  // of its block outside the cluster's pod network (compiler/semantics/pod_networks.h).
  std::vector<std::string> pod_networks;
};

}  // namespace netpolc::ir
