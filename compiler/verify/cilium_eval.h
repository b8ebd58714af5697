// Evaluator of CiliumNetworkPolicy (cilium.io/v2) semantics, reading the
// manifests back from YAML. An independent oracle for the cilium target: it
// shares no code with the backend.
//
// Semantics implemented (Cilium 1.18, docs.cilium.io/en/stable/security/
// policy/: intro, language/layer3, layer4, kubernetes; and the agent's rule
// validation):
//  * A pod's identity labels: its pod labels with source `k8s` (minus those
//    the default identity-relevant label filter ignores, e.g. keys starting
//    with `kubernetes.io` or `pod-template-hash`),
//    k8s:io.kubernetes.pod.namespace=<namespace>,
//    k8s:io.cilium.k8s.namespace.labels.<key>=<value> for every label of its
//    namespace, k8s:io.cilium.k8s.policy.cluster=default and
//    k8s:io.cilium.k8s.policy.serviceaccount=default.
//  * Selector keys carry an optional source prefix (`k8s:`, `any:`,
//    `reserved:`); no prefix means any source. matchLabels and
//    matchExpressions (In, NotIn, Exists, DoesNotExist) as in Kubernetes.
//  * `endpointSelector` selects pods of the policy's namespace only.
//    `fromEndpoints` / `toEndpoints` selectors are confined to the policy's
//    namespace unless they have a requirement on the namespace label
//    (io.kubernetes.pod.namespace, source k8s or any); in particular an empty
//    selector matches the pods of the policy's namespace. (Namespace-label
//    keys do not lift the confinement: the documented behaviour for CNPs.)
//  * Entities: `all` matches every endpoint, `world` every external one
//    that is not a node, `cluster` every pod and node; `remote-node` the
//    endpoints of role node (a universe's nodes host none of its pods, so
//    they are remote to every pod), `kube-apiserver` the endpoint of role
//    API server (outside the cluster: it is also `world`); host (the local
//    node, whose traffic Kubernetes always allows and the universe does not
//    model), init, health, unmanaged, ingress and none match no endpoint.
//  * CIDR rules (fromCIDR/toCIDR, fromCIDRSet/toCIDRSet with except) match
//    external endpoints only: never pods, never nodes ("CIDR-based
//    selectors do not match in-cluster entities (pods or nodes)").
//  * A rule may use one kind of peer only (the agent rejects combining
//    Endpoints, CIDR, CIDRSet and Entities). With peers and no toPorts it
//    admits every port; with toPorts and no peer, every peer on those ports;
//    with neither (`{}`), nothing. toPorts[].ports[]: `port` a quoted string
//    (0 = every port), optional `endPort`, protocol TCP, UDP, SCTP or ANY
//    (the default); at most 40 per entry. `rules.dns` (egress only, single
//    ports) does not change which connections are admitted.
//  * A side of a pod is default-deny when a policy selecting it has a
//    non-empty list for that side and enableDefaultDeny is not false for it;
//    it then admits the union of the rules of every policy selecting it. A
//    side with rules but no default-deny policy admits everything. External
//    endpoints are never subject to policy.
// Not modelled (rejected as unsupported): ingressDeny/egressDeny,
// nodeSelector, fromRequires/toRequires, toServices, toFQDNs, groups, nodes,
// ICMP, HTTP/Kafka rules, named ports in egress rules (Cilium resolves them
// through a cluster-wide map of port names), CiliumClusterwideNetworkPolicy.
// A named port in an ingress rule matches the selected pod's container port
// of that name and protocol.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/verify/model.h"

namespace netpolc::verify {

class CiliumEvaluator : public Evaluator {
 public:
  // Parses every document of `yaml`; each must be a CiliumNetworkPolicy.
  // Throws Error with the document, the policy and the field on anything
  // malformed or unsupported. Keeps a reference to `universe`.
  CiliumEvaluator(const Universe& universe, std::string_view yaml,
                  std::string_view source_name = "<input>");
  ~CiliumEvaluator() override;
  PortSet Allowed(Side side, size_t subject, size_t peer) const override;

  // Identity labels of an endpoint as "source:key=value" (tests, debugging).
  std::vector<std::string> IdentityLabels(size_t endpoint) const;

  struct Policy;

 private:
  const Universe& universe_;
  std::vector<Policy> policies_;
  struct Identity;
  std::vector<Identity> identities_;
};

}  // namespace netpolc::verify
