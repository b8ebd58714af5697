// Evaluator of the policy IR (compiler/ir/policy.h): the reference semantics
// every backend's output is compared with.
//
// Semantics (the meaning the k8s, cilium and calico targets must each
// reproduce exactly):
//  * A Policy selects the pods of its namespace `ns` that carry every label
//    of `selector`. A pod is isolated on a side when some policy selecting it
//    isolates that side (isolate_ingress / isolate_egress); a side that no
//    policy isolates admits everything. External endpoints are never
//    isolated.
//  * An isolated side admits a connection on (protocol, port) iff some rule
//    of that side, in some policy selecting the pod, lists the port and has a
//    peer matching the other endpoint. Rules are additive: the result is the
//    union.
//  * Peers: kAnywhere matches every endpoint, in or outside the cluster.
//    kPods matches pods carrying every label of pod_labels (all pods when
//    empty) whose namespace is `ns` (kNamed), any (kAny), or carries every
//    label of ns_labels (kLabels; namespaces carry
//    kubernetes.io/metadata.name). kIpBlock matches the endpoints outside
//    the cluster (never a pod) whose address is in `cidr`, in no `except`
//    block and in none of the policy set's pod networks: an address block
//    means addresses outside the cluster's pod network
//    (compiler/semantics/pod_networks.h). The k8s and calico targets write the pod
//    networks as except / notNets; Cilium's CIDR rules never match pods.
//    Nodes (endpoints of role kNode) are in the cluster: no block matches
//    them, as no Cilium CIDR rule does.
//    kKubeApiserver matches the endpoints of role kApiServer, kNodes those of
//    role kNode (nodes and the pods on their host network).
//
// BlockReading::kAddresses is the reading of a block written alone for a
// plugin that matches pod addresses (what the k8s and calico outputs mean
// when the rules declare no pod networks): every endpoint, pod or external,
// whose address is in the block. Only tests use it, to check that fallback.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/policy.h"
#include "compiler/verify/model.h"

namespace netpolc::verify {

// Converts an IR protocol to the evaluators' protocol.
Protocol ToProtocol(ir::Protocol protocol);

class IrEvaluator : public Evaluator {
 public:
  enum class BlockReading { kOutsideCluster, kAddresses };
  // Keeps references to both arguments. Throws Error on an invalid CIDR.
  IrEvaluator(const Universe& universe, const ir::PolicySet& policies,
              BlockReading reading = BlockReading::kOutsideCluster);
  PortSet Allowed(Side side, size_t subject, size_t peer) const override;

  // Whether `peer` matches the endpoint.
  bool PeerMatches(const ir::Peer& peer, size_t endpoint) const;

 private:
  struct Block {
    Cidr cidr;
    std::vector<Cidr> except;
  };

  const Universe& universe_;
  const ir::PolicySet& policies_;
  BlockReading reading_;
  std::vector<Cidr> pod_networks_;
  // Parsed ipBlocks, by "cidr|except,..." text.
  std::map<std::string, Block> blocks_;
  // Per side and endpoint: indices of the policies isolating it.
  std::array<std::vector<std::vector<size_t>>, 2> isolating_;
};

}  // namespace netpolc::verify
