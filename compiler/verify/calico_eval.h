// Evaluator of Calico NetworkPolicy (projectcalico.org/v3) semantics,
// reading the manifests back from YAML. An independent oracle for the calico
// target: it shares no code with the backend.
//
// Semantics implemented (Calico 3.32: docs.tigera.io/calico/latest/reference/
// resources/networkpolicy and its Rule, EntityRule, Selector and Ports
// sections; libcalico-go updateprocessors/rules.go for how a namespaced
// policy's rule selectors are scoped):
//  * Labels seen by selectors: a pod has its labels plus
//    projectcalico.org/namespace=<ns> and projectcalico.org/orchestrator=k8s;
//    a namespace has its labels (with kubernetes.io/metadata.name) plus
//    projectcalico.org/name=<name>. External endpoints have no labels and
//    are matched only by address.
//  * A NetworkPolicy applies to the pods of its namespace matching
//    `selector` (default all()), in the directions of `types` (default:
//    Ingress when there are ingress rules or no rules at all, plus Egress
//    when there are egress rules).
//  * For a side of a pod, the policies that apply are taken by ascending
//    `order` (absent = after all others), then name; their rules in order;
//    the first rule that matches decides (Allow or Deny; Log continues). If
//    no rule matches, the connection is denied. A side to which no policy
//    applies allows everything (Kubernetes' default profile).
//  * A rule matches when all of its criteria match: protocol / notProtocol,
//    ipVersion, and the source and destination entity rules. For ingress the
//    source is the peer and the destination the pod; for egress the reverse.
//  * An entity rule: `nets` / `notNets` match the endpoint's address (pods
//    included); `ports` / `notPorts` the destination port (numbers or
//    "first:last"); if any of `selector`, `notSelector`, `namespaceSelector`
//    is present the endpoint must be a pod in scope: in the namespaces
//    matching `namespaceSelector` (all() = every namespace, global() = none),
//    else in the policy's namespace; and match `selector` when present.
//    `notSelector` excludes the pods it matches, in any namespace.
//  * Selector syntax: all(), global(), has(k), k == 'v', k != 'v',
//    k in {...}, k not in {...}, contains, starts with, ends with, !, &&, ||,
//    parentheses.
//  * A named port in a destination's `ports` matches the destination
//    endpoint's container port of that name and the rule's protocol (only
//    pods have named ports).
// Not modelled (rejected as unsupported): Pass actions, named ports in
// notPorts, source ports, serviceAccounts, services, HTTP and ICMP matches, tiers other than
// default, GlobalNetworkPolicy and network sets.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/verify/model.h"

namespace netpolc::verify {

// A parsed Calico selector expression.
class CalicoSelector {
 public:
  // Throws Error (with `text` and the position) on a syntax error.
  static CalicoSelector Parse(std::string_view text);
  // `global` is true for a non-namespaced resource (global() matches it).
  bool Matches(const Labels& labels, bool global = false) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

class CalicoEvaluator : public Evaluator {
 public:
  // Parses every document of `yaml`; each must be a projectcalico.org/v3
  // NetworkPolicy. Throws Error on anything malformed or unsupported. Keeps a
  // reference to `universe`.
  CalicoEvaluator(const Universe& universe, std::string_view yaml,
                  std::string_view source_name = "<input>");
  ~CalicoEvaluator() override;
  PortSet Allowed(Side side, size_t subject, size_t peer) const override;

  struct Policy;

 private:
  const Universe& universe_;
  std::vector<Policy> policies_;
  std::vector<Labels> pod_labels_;        // selector labels of each pod
  std::vector<Labels> namespace_labels_;  // namespace selector labels of each pod
};

}  // namespace netpolc::verify
