#include "backends/entities.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "backends/yaml_writer.h"
#include "compiler/semantics/pod_networks.h"

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

// The address blocks of the nodes' declaration (their except lists are not
// read: a node block is taken whole), without blocks inside another.
std::vector<std::string> NodeBlocks(const ir::PolicySet& set) {
  std::vector<std::string> out;
  if (!set.nodes_peers) return out;
  for (const ir::Peer& peer : *set.nodes_peers) {
    if (peer.kind == ir::Peer::Kind::kIpBlock) out.push_back(peer.cidr);
  }
  return NormaliseCidrList(std::move(out));
}

void Expand(const Input& input, const ir::Policy& policy, std::vector<ir::PolicyRule>& rules,
            std::set<SourceLoc>& reported,
            std::vector<std::pair<SourceLoc, std::string>>& pending,
            const std::vector<std::string>& node_blocks) {
  const ir::PolicySet& set = *input.policies;
  for (ir::PolicyRule& rule : rules) {
    std::vector<ir::Peer> peers;
    for (ir::Peer& peer : rule.peers) {
      const std::optional<std::vector<ir::Peer>>* declared = nullptr;
      std::string_view advice;
      if (peer.kind == ir::Peer::Kind::kIpBlock && !node_blocks.empty()) {
        // An address block means addresses outside the cluster: the nodes'
        // addresses are subtracted, as the pod networks are.
        if (EnclosingPodNetwork(peer.cidr, node_blocks)) continue;
        peer.except = ExceptWithPodNetworks(peer.cidr, peer.except, node_blocks);
        peers.push_back(std::move(peer));
        continue;
      }
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
}

bool HasEntityPeers(const ir::Policy& policy) {
  for (const auto* side : {&policy.ingress, &policy.egress}) {
    for (const ir::PolicyRule& rule : *side) {
      for (const ir::Peer& peer : rule.peers) {
        if (peer.kind == ir::Peer::Kind::kKubeApiserver || peer.kind == ir::Peer::Kind::kNodes) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

EntityExpander::EntityExpander(const Input& input, std::string_view target)
    : input_(input), target_(target), node_blocks_(NodeBlocks(*input.policies)) {}

const ir::Policy& EntityExpander::Expand(const ir::Policy& policy,
                                         std::optional<ir::Policy>& storage) {
  // Without entity peers and node blocks the expansion changes nothing.
  if (node_blocks_.empty() && !HasEntityPeers(policy)) return policy;
  storage = policy;
  backends::Expand(input_, *storage, storage->ingress, reported_, pending_, node_blocks_);
  backends::Expand(input_, *storage, storage->egress, reported_, pending_, node_blocks_);
  return *storage;
}

bool EntityExpander::Finish(Diagnostics& diagnostics) {
  if (pending_.empty()) return true;
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [loc, message] : pending_) {
    diagnostics.Emit(DiagnosticKind::kTargetCannotExpress, loc, target_, message);
  }
  return false;
}

ExpandedDocumentWriter::ExpandedDocumentWriter(const Input& input, size_t count,
                                               std::string_view target, std::string_view why,
                                               WriteDocumentFn write_document)
    : input_(input),
      entities_(input, target),
      target_(target),
      why_(why),
      write_document_(write_document),
      count_(count),
      block_rules_(input.module, input.config) {}

void ExpandedDocumentWriter::Write(std::span<const ir::Policy> policies, std::string& out) {
  const std::vector<std::string>& pod_networks = input_.policies->pod_networks;
  if (pod_networks.empty()) {
    for (const ir::Policy& policy : policies) block_rules_.Add(policy);
  }
  // The API server and nodes have no identity here: the declared peers
  // stand for them (or the rule is refused).
  std::vector<std::optional<ir::Policy>> storage(policies.size());
  std::vector<const ir::Policy*> list(policies.size());
  for (size_t i = 0; i < policies.size(); ++i) list[i] = &entities_.Expand(policies[i], storage[i]);
  size_t later = written_ == 0 && count_ > policies.size() ? count_ - policies.size() : 0;
  AppendDocuments(
      list.size(), out,
      [&](size_t index, std::string& text) { write_document_(*list[index], pod_networks, text); },
      later);
  written_ += policies.size();
}

bool ExpandedDocumentWriter::Finish(std::string&, Diagnostics& diagnostics) {
  if (!entities_.Finish(diagnostics)) return false;
  // Without the pod networks the blocks are written alone: say what that admits.
  if (input_.policies->pod_networks.empty()) {
    WarnAddressBlockRules(block_rules_.Take(), target_, why_, diagnostics);
  }
  return true;
}

}  // namespace netpolc::backends
