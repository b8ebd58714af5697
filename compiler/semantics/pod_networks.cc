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

std::vector<SourceLoc> AddressBlockRules(const ir::Module& module, const ir::Config& config,
                                         const ir::PolicySet& policies) {
  std::vector<SourceLoc> out;
  // Components by id, made when first needed (Module::FindComponent is a
  // linear search: once per policy, the whole would be quadratic).
  std::unordered_map<std::string_view, uint32_t> by_id;
  auto find = [&](const std::string& id) -> std::optional<uint32_t> {
    if (by_id.empty()) {
      for (uint32_t i = 0; i < module.components.size(); ++i) {
        by_id.emplace(module.components[i].id, i);  // the first of an id, as FindComponent
      }
    }
    auto it = by_id.find(id);
    if (it == by_id.end()) return std::nullopt;
    return it->second;
  };
  for (const ir::Policy& policy : policies.policies) {
    for (const auto* side : {&policy.ingress, &policy.egress}) {
      for (const ir::PolicyRule& rule : *side) {
        if (std::none_of(rule.peers.begin(), rule.peers.end(), [](const ir::Peer& p) {
              return p.kind == ir::Peer::Kind::kIpBlock;
            })) {
          continue;
        }
        if (rule.dns) {
          out.push_back(module.dns.loc.valid() ? module.dns.loc : policy.loc);
          continue;
        }
        size_t before = out.size();
        const std::optional<uint32_t> component = find(policy.component);
        for (SourceLoc loc : rule.sources) {
          if (!component) break;
          for (const ir::Rule& source : module.components[*component].rules) {
            if (source.loc != loc) continue;
            if (std::any_of(source.peers.begin(), source.peers.end(),
                            [&](const ir::PeerRef& p) { return WritesAddressBlock(p, config); })) {
              out.push_back(loc);
            }
          }
        }
        if (out.size() == before) {
          out.insert(out.end(), rule.sources.begin(), rule.sources.end());
          if (rule.sources.empty()) out.push_back(policy.loc);
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void WarnAddressBlocksAdmitPods(const ir::Module& module, const ir::Config& config,
                                const ir::PolicySet& policies, std::string_view target,
                                std::string_view why, Diagnostics& diagnostics) {
  if (!policies.pod_networks.empty()) return;
  std::vector<SourceLoc> rules = AddressBlockRules(module, config, policies);
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
