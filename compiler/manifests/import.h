// `netpolc import`: existing networking.k8s.io/v1 NetworkPolicies (and the
// workloads beside them, to name components) as a rules file.
//
//  * One component per distinct pod selector (namespace and matchLabels),
//    named after the one workload it selects when there is one, else after
//    its label values; `namespace` is always written. An empty pod selector
//    (every pod of the policy's namespace) is a component with `labels any;`
//    and `scope namespace;`.
//  * Each policy rule becomes an ingress or egress rule of that component:
//    ports as written (`tcp 80`, `udp 1000-2000`, named ports as `tcp
//    "http"`; a rule without ports admits every port of every protocol),
//    peers as components where a peer's selector is exactly a component's
//    (same namespace, same labels, no matchExpressions), else `pods {...} in
//    namespace "ns"` / `in any namespace` / `in namespaces {...}`, with
//    matchExpressions as selector requirements (`"k": in [...]`, `not in`,
//    `exists`, `not exists`); address blocks as `cidr "..." except [...]`,
//    no peers as `anywhere`.
//  * A policy that isolates a side without rules on it (admits nothing
//    there) becomes a rule under `when false`: it isolates the side and
//    admits nothing.
//  * `dns off;`: the policies say themselves what name resolution they admit.
//
// What the rules language cannot say yet is refused, located at the policy:
// a pod selector with matchExpressions (component labels are the labels pods
// carry), a selector that names one label key twice (matchLabels and an
// expression, or two expressions), and a quoted number as a port (`port:
// "80"`, a name no container port can have). Cilium and Calico inputs are not
// imported (yet).
#pragma once

#include <string>
#include <vector>

#include "compiler/manifests/reader.h"

namespace netpolc::manifests {

struct Imported {
  std::string text;                 // the rules file (unformatted)
  std::vector<std::string> errors;  // "file:line:col: NetworkPolicy ns/name: ..."
  size_t components = 0;
  size_t rules = 0;
};

Imported ImportRules(const Manifests& manifests);

}  // namespace netpolc::manifests
