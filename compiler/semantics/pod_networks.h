// Address blocks and the cluster's pod networks.
//
// An address block (`external`, `cidr "..."`, an ipBlock) means the addresses
// in the block, minus its `except` blocks, that lie outside the cluster's pod
// network: never a pod. Cilium's CIDR rules read blocks that way by
// themselves; Kubernetes' ipBlock (on most plugins) and Calico's `nets` match
// pod addresses too, so the k8s and calico targets subtract the pod networks
// (`except` / `notNets`). The pod networks are part of the configuration: the
// parameter `pod_networks`, of type `cidrs`, when the rules declare it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"
#include "compiler/ir/policy.h"

namespace netpolc {

inline constexpr std::string_view kPodNetworksParam = "pod_networks";

// At most this many CIDRs in one list (a bound for hostile input).
inline constexpr size_t kMaxCidrList = 1024;

// Parses a comma-separated list of CIDRs ("10.128.0.0/14,192.168.0.0/16";
// spaces around items are allowed; one CIDR alone is a list). Returns the
// canonical texts, sorted, without blocks that lie inside another of the
// list; on failure sets `error` and returns nullopt. An empty list is an
// error.
std::optional<std::vector<std::string>> ParseCidrList(std::string_view text, std::string& error);

// Sorts canonical CIDR texts and drops those inside another of the list.
std::vector<std::string> NormaliseCidrList(std::vector<std::string> cidrs);

// The module's pod-networks parameter: named pod_networks and of type cidrs.
std::optional<uint32_t> PodNetworksParam(const ir::Module& module);

// The pod networks of a configuration; empty when the rules declare none.
std::vector<std::string> PodNetworks(const ir::Module& module, const ir::Config& config);

// The pod network that holds every address of `cidr`, if one does: such a
// block holds no address outside the cluster.
std::optional<std::string> EnclosingPodNetwork(const std::string& cidr,
                                               const std::vector<std::string>& networks);

// The `except` list that writes block (cidr, except) for a plugin that
// matches pod addresses: `except` plus the pod networks that overlap the
// block (each strictly inside it, since a network holding the whole block is
// excluded by EnclosingPodNetwork), without blocks inside another; sorted.
std::vector<std::string> ExceptWithPodNetworks(const std::string& cidr,
                                               const std::vector<std::string>& except,
                                               const std::vector<std::string>& networks);

// The pod network holding the IP address `ip`, if any.
std::optional<std::string> PodNetworkOf(const std::string& ip,
                                        const std::vector<std::string>& networks);

// Whether a peer of the module writes an address block: `external`, `cidr`,
// or a peers parameter whose value in `config` has one.
bool WritesAddressBlock(const ir::PeerRef& peer, const ir::Config& config);

// The rules (and the DNS declaration) of `policies` that write address
// blocks, by location, sorted and unique: where to report what the blocks
// mean on a target.
std::vector<SourceLoc> AddressBlockRules(const ir::Module& module, const ir::Config& config,
                                         const ir::PolicySet& policies);

// AddressBlockRules a policy at a time, for policies made in batches.
class AddressBlockRuleFinder {
 public:
  AddressBlockRuleFinder(const ir::Module& module, const ir::Config& config);
  // Adds the rules of `policy` that write address blocks.
  void Add(const ir::Policy& policy);
  // The rules added, sorted and unique (and forgets them).
  std::vector<SourceLoc> Take();

 private:
  std::optional<uint32_t> Find(const std::string& id);

  const ir::Module& module_;
  const ir::Config& config_;
  std::unordered_map<std::string_view, uint32_t> by_id_;
  std::vector<SourceLoc> rules_;
};

// When `policies` declare no pod networks, warns once, at the first rule
// writing address blocks (`address-block-admits-pods` for `target`, the
// message `why` followed by "this rule also admits" or "this rule and those
// noted below also admit"), and notes the other such rules.
void WarnAddressBlocksAdmitPods(const ir::Module& module, const ir::Config& config,
                                const ir::PolicySet& policies, std::string_view target,
                                std::string_view why, Diagnostics& diagnostics);

// The warning and notes of WarnAddressBlocksAdmitPods for the rules found
// (AddressBlockRules or AddressBlockRuleFinder::Take; sorted and made unique
// here), when the policies declare no pod networks.
void WarnAddressBlockRules(std::vector<SourceLoc> rules, std::string_view target,
                           std::string_view why, Diagnostics& diagnostics);

}  // namespace netpolc
