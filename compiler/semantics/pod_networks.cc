#include "compiler/semantics/pod_networks.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "compiler/semantics/k8s_names.h"

namespace netpolc {
namespace {

std::optional<Cidr> Parse(std::string_view text) {
  std::string error;
  return ParseCidr(text, error);
}

// Whether every address of `inner` is in `outer`.
bool Contains(const Cidr& outer, const Cidr& inner) {
  if (outer.v6 != inner.v6 || outer.prefix > inner.prefix) return false;
  for (int bit = 0; bit < outer.prefix; ++bit) {
    int byte = bit / 8, shift = 7 - bit % 8;
    if (((outer.address[byte] >> shift) & 1) != ((inner.address[byte] >> shift) & 1)) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> NormaliseCidrList(std::vector<std::string> cidrs) {
  std::sort(cidrs.begin(), cidrs.end());
  cidrs.erase(std::unique(cidrs.begin(), cidrs.end()), cidrs.end());
  std::vector<std::optional<Cidr>> parsed;
  parsed.reserve(cidrs.size());
  for (const std::string& c : cidrs) parsed.push_back(Parse(c));
  std::vector<std::string> out;
  for (size_t i = 0; i < cidrs.size(); ++i) {
    bool inside = false;
    for (size_t j = 0; j < cidrs.size() && !inside; ++j) {
      inside = j != i && parsed[i] && parsed[j] && Contains(*parsed[j], *parsed[i]);
    }
    if (!inside) out.push_back(cidrs[i]);
  }
  return out;
}

std::optional<std::vector<std::string>> ParseCidrList(std::string_view text, std::string& error) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = Trim(text.substr(start, comma == std::string_view::npos
                                                        ? std::string_view::npos
                                                        : comma - start));
    if (item.empty()) {
      error = text.find_first_not_of(" \t") == std::string_view::npos
                  ? "expected a comma-separated list of CIDRs, like 10.128.0.0/14,192.168.0.0/16"
                  : "an item of the list is empty";
      return std::nullopt;
    }
    if (out.size() == kMaxCidrList) {
      error = "more than " + std::to_string(kMaxCidrList) + " CIDRs";
      return std::nullopt;
    }
    std::string cidr_error;
    std::optional<Cidr> cidr = ParseCidr(item, cidr_error);
    if (!cidr) {
      error = "invalid CIDR '" + std::string(item) + "': " + cidr_error;
      return std::nullopt;
    }
    out.push_back(cidr->text);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return NormaliseCidrList(std::move(out));
}

std::optional<uint32_t> PodNetworksParam(const ir::Module& module) {
  std::optional<uint32_t> index = module.FindParam(kPodNetworksParam);
  if (!index || module.params[*index].type != ir::ParamType::kCidrs) return std::nullopt;
  return index;
}

std::vector<std::string> PodNetworks(const ir::Module& module, const ir::Config& config) {
  std::optional<uint32_t> index = PodNetworksParam(module);
  if (!index || *index >= config.params.size()) return {};
  return config.params[*index].cidrs;
}

std::optional<std::string> EnclosingPodNetwork(const std::string& cidr,
                                               const std::vector<std::string>& networks) {
  std::optional<Cidr> block = Parse(cidr);
  if (!block) return std::nullopt;
  for (const std::string& n : networks) {
    std::optional<Cidr> network = Parse(n);
    if (network && Contains(*network, *block)) return n;
  }
  return std::nullopt;
}

std::vector<std::string> ExceptWithPodNetworks(const std::string& cidr,
                                               const std::vector<std::string>& except,
                                               const std::vector<std::string>& networks) {
  std::optional<Cidr> block = Parse(cidr);
  std::vector<std::string> out = except;
  if (block) {
    for (const std::string& n : networks) {
      std::optional<Cidr> network = Parse(n);
      // CIDR blocks either nest or are disjoint: a network overlapping the
      // block without holding all of it lies strictly inside it.
      if (network && Contains(*block, *network) && network->prefix > block->prefix) {
        out.push_back(network->text);
      }
    }
  }
  return NormaliseCidrList(std::move(out));
}

std::optional<std::string> PodNetworkOf(const std::string& ip,
                                        const std::vector<std::string>& networks) {
  return EnclosingPodNetwork(ip + (ip.find(':') != std::string::npos ? "/128" : "/32"), networks);
}

bool WritesAddressBlock(const ir::PeerRef& peer, const ir::Config& config) {
  switch (peer.kind) {
    case ir::PeerRef::Kind::kExternal:
    case ir::PeerRef::Kind::kCidr:
      return true;
    case ir::PeerRef::Kind::kParam:
      if (peer.index >= config.params.size()) return false;
      return std::any_of(config.params[peer.index].peers.begin(),
                         config.params[peer.index].peers.end(), [](const ir::PeerRef& inner) {
                           return inner.kind == ir::PeerRef::Kind::kExternal ||
                                  inner.kind == ir::PeerRef::Kind::kCidr;
                         });
    default:
      return false;
  }
}

AddressBlockRuleFinder::AddressBlockRuleFinder(const ir::Module& module, const ir::Config& config)
    : module_(module), config_(config) {}

std::optional<uint32_t> AddressBlockRuleFinder::Find(const std::string& id) {
  // Components by id, made when first needed (Module::FindComponent is a
  // linear search: once per policy, the whole would be quadratic).
  if (by_id_.empty()) {
    for (uint32_t i = 0; i < module_.components.size(); ++i) {
      by_id_.emplace(module_.components[i].id, i);  // the first of an id, as FindComponent
    }
  }
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

void AddressBlockRuleFinder::Add(const ir::Policy& policy) {
  for (const auto* side : {&policy.ingress, &policy.egress}) {
    for (const ir::PolicyRule& rule : *side) {
      if (std::none_of(rule.peers.begin(), rule.peers.end(), [](const ir::Peer& p) {
            return p.kind == ir::Peer::Kind::kIpBlock;
          })) {
        continue;
      }
      if (rule.dns) {
        rules_.push_back(module_.dns.loc.valid() ? module_.dns.loc : policy.loc);
        continue;
      }
      size_t before = rules_.size();
      const std::optional<uint32_t> component = Find(policy.component);
      for (SourceLoc loc : rule.sources) {
        if (!component) break;
        for (const ir::Rule& source : module_.components[*component].rules) {
          if (source.loc != loc) continue;
          if (std::any_of(source.peers.begin(), source.peers.end(),
                          [&](const ir::PeerRef& p) { return WritesAddressBlock(p, config_); })) {
            rules_.push_back(loc);
          }
        }
      }
      if (rules_.size() == before) {
        rules_.insert(rules_.end(), rule.sources.begin(), rule.sources.end());
        if (rule.sources.empty()) rules_.push_back(policy.loc);
      }
    }
  }
}

std::vector<SourceLoc> AddressBlockRuleFinder::Take() {
  std::vector<SourceLoc> out = std::move(rules_);
  rules_.clear();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<SourceLoc> AddressBlockRules(const ir::Module& module, const ir::Config& config,
                                         const ir::PolicySet& policies) {
  AddressBlockRuleFinder finder(module, config);
  for (const ir::Policy& policy : policies.policies) finder.Add(policy);
  return finder.Take();
}

void WarnAddressBlocksAdmitPods(const ir::Module& module, const ir::Config& config,
                                const ir::PolicySet& policies, std::string_view target,
                                std::string_view why, Diagnostics& diagnostics) {
  if (!policies.pod_networks.empty()) return;
  WarnAddressBlockRules(AddressBlockRules(module, config, policies), target, why, diagnostics);
}

void WarnAddressBlockRules(std::vector<SourceLoc> rules, std::string_view target,
                           std::string_view why, Diagnostics& diagnostics) {
  std::sort(rules.begin(), rules.end());
  rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i == 0) {
      std::string which = rules.size() == 1 ? "this rule also admits"
                                            : "this rule and those noted below also admit";
      diagnostics.Emit(DiagnosticKind::kAddressBlockAdmitsPods, rules[i], std::string(target),
                       std::string(why) + which);
    } else {
      diagnostics.Emit(DiagnosticKind::kRelatedRule, rules[i], "another rule with address blocks");
    }
  }
}

}  // namespace netpolc
