// The API server and node peers (ir::Peer::kKubeApiserver, kNodes) on
// targets that have no identity for them (Kubernetes NetworkPolicy, Calico):
// they are written as the peers the rules file declares for them
// (`kube_apiserver = PEERS;`, `nodes = PEERS;`), or refused.
#pragma once

#include <optional>
#include <string_view>

#include "backends/backend.h"

namespace netpolc::backends {

// The policies of `input` with every API-server or node peer replaced by the
// declared peers, and the address blocks of the nodes' declaration subtracted
// from every other address block (an address block means addresses outside
// the cluster, and the nodes are in it: as Cilium's CIDR rules read it) (each rule keeps its ports, so the replacement is exact
// when the declared peers select exactly the API server or the nodes).
// When a rule needs a declaration the file does not make, reports
// [target-cannot-express] at the rule, saying what to write, and returns
// nullopt.
std::optional<ir::PolicySet> ExpandEntityPeers(const Input& input, std::string_view target,
                                               Diagnostics& diagnostics);

// Whether some rule names the API server or the nodes, or the nodes are
// declared by address blocks (when neither, the policies are rendered as
// they are, without a copy).
bool HasEntityPeers(const ir::PolicySet& policies);

// What a target without API-server and node identities renders:
// input.policies itself when HasEntityPeers is false, else their expansion
// (ExpandEntityPeers), held in `storage`. nullptr when the expansion failed
// (reported).
const ir::PolicySet* PoliciesWithEntitiesExpanded(const Input& input, std::string_view target,
                                                  std::optional<ir::PolicySet>& storage,
                                                  Diagnostics& diagnostics);

}  // namespace netpolc::backends
