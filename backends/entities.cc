#include "backends/entities.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace netpolc::backends {
namespace {

constexpr std::string_view kApiserverAdvice =
    "Kubernetes NetworkPolicy and Calico cannot select the API server (Cilium has the entity "
    "kube-apiserver); declare what selects it here, e.g. `kube_apiserver = cidr "
    "\"192.0.2.10/32\";` or a peers parameter set at deploy time, `kube_apiserver = $apiserver;`";
constexpr std::string_view kNodesAdvice =
    "Kubernetes NetworkPolicy and Calico cannot select nodes and host-network pods (Cilium has "
    "the entities host and remote-node); declare what selects them here, e.g. `nodes = cidr "
    "\"10.0.0.0/24\";`, or on OpenShift `nodes = pods {} in namespaces "
    "{ \"policy-group.network.openshift.io/host-network\": \"\" };`";

void Expand(const Input& input, const ir::Policy& policy, std::vector<ir::PolicyRule>& rules,
            std::string_view target, std::set<SourceLoc>& reported,
            std::vector<std::pair<SourceLoc, std::string>>& pending) {
  const ir::PolicySet& set = *input.policies;
  for (ir::PolicyRule& rule : rules) {
    std::vector<ir::Peer> peers;
    for (ir::Peer& peer : rule.peers) {
      const std::optional<std::vector<ir::Peer>>* declared = nullptr;
      std::string_view advice;
      if (peer.kind == ir::Peer::Kind::kKubeApiserver) {
        declared = &set.kube_apiserver_peers;
        advice = kApiserverAdvice;
      } else if (peer.kind == ir::Peer::Kind::kNodes) {
        declared = &set.nodes_peers;
        advice = kNodesAdvice;
      } else {
        peers.push_back(std::move(peer));
        continue;
      }
      if (declared->has_value()) {
        peers.insert(peers.end(), (*declared)->begin(), (*declared)->end());
        continue;
      }
      std::vector<SourceLoc> locs = rule.sources;
      if (rule.dns && input.module.dns.loc.valid()) locs = {input.module.dns.loc};
      if (locs.empty()) locs.push_back(policy.loc);
      for (SourceLoc loc : locs) {
        if (reported.insert(loc).second) {
          pending.emplace_back(loc, fmt::format("in the policy of '{}': {}", policy.component,
                                                advice));
        }
      }
    }
    std::sort(peers.begin(), peers.end());
    peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
    rule.peers = std::move(peers);
  }
  // A rule whose declared peers are empty admits nothing: it must not become
  // a rule without peers (which would admit everyone).
  rules.erase(std::remove_if(rules.begin(), rules.end(),
                             [](const ir::PolicyRule& r) { return r.peers.empty(); }),
              rules.end());
  (void)target;
}

}  // namespace

bool HasEntityPeers(const ir::PolicySet& policies) {
  for (const ir::Policy& policy : policies.policies) {
    for (const auto* side : {&policy.ingress, &policy.egress}) {
      for (const ir::PolicyRule& rule : *side) {
        for (const ir::Peer& peer : rule.peers) {
          if (peer.kind == ir::Peer::Kind::kKubeApiserver || peer.kind == ir::Peer::Kind::kNodes) {
            return true;
          }
        }
      }
    }
  }
  return false;
}

std::optional<ir::PolicySet> ExpandEntityPeers(const Input& input, std::string_view target,
                                               Diagnostics& diagnostics) {
  ir::PolicySet out = *input.policies;
  std::set<SourceLoc> reported;
  std::vector<std::pair<SourceLoc, std::string>> pending;
  for (ir::Policy& policy : out.policies) {
    Expand(input, policy, policy.ingress, target, reported, pending);
    Expand(input, policy, policy.egress, target, reported, pending);
  }
  if (pending.empty()) return out;
  std::stable_sort(pending.begin(), pending.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [loc, message] : pending) {
    diagnostics.Emit(DiagnosticKind::kTargetCannotExpress, loc, target, message);
  }
  return std::nullopt;
}

}  // namespace netpolc::backends
