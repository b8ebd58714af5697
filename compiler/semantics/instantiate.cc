#include "compiler/semantics/instantiate.h"

#include <algorithm>
#include <map>
#include <set>

#include "compiler/semantics/k8s_names.h"
#include "compiler/semantics/pod_networks.h"
#include "compiler/semantics/resolve.h"

namespace netpolc {
namespace {

using ir::PeerRef;

using ir::NormalisePorts;

class Instantiator {
 public:
  Instantiator(const ir::Module& module, const ir::Config& config, Diagnostics& diagnostics)
      : module_(module),
        config_(config),
        diagnostics_(diagnostics),
        resolver_(module, config,
                  [this](const ir::ValueRef& ref, const std::string& value, Resolver::Use use) {
                    CheckValue(ref, value, use);
                  }) {}

  std::optional<ir::PolicySet> Run() {
    size_t errors_before = diagnostics_.error_count();
    enabled_.resize(module_.components.size());
    for (size_t i = 0; i < module_.components.size(); ++i) {
      enabled_[i] = module_.components[i].when.Evaluate(config_.flags);
    }
    std::string prefix = module_.instance.prefix ? resolver_.Value(*module_.instance.prefix) : "";

    ir::PolicySet set;
    set.pod_networks = PodNetworks(module_, config_);
    pod_networks_ = &set.pod_networks;
    for (uint32_t i = 0; i < module_.components.size(); ++i) {
      const ir::Component& c = module_.components[i];
      // A policy exists when the pods exist, the policy is deployed and it
      // isolates a side (a component without rules or `isolate` has none).
      if (!enabled_[i] || !c.HasPolicy(config_.flags)) continue;
      ir::Policy policy;
      std::string id = c.id;
      std::string policy_prefix = prefix;
      if (c.product != 0 && c.product <= module_.products.size()) {
        // A component of a product imported `as NAME` is named NAME.id: its
        // policy takes that product's prefix and its own id.
        const ir::Module::Product& product = module_.products[c.product - 1];
        id = id.substr(std::min(id.size(), product.name.size() + 1));
        policy_prefix = product.instance.prefix ? resolver_.Value(*product.instance.prefix) : "";
      }
      std::replace(id.begin(), id.end(), '_', '-');
      policy.name = policy_prefix.empty() ? id : policy_prefix + "-" + id;
      SourceLoc name_loc = c.loc;
      if (!c.policy_name.empty()) {
        policy.name = ExpandPolicyName(c.policy_name);
        name_loc = c.policy_name_loc;
      }
      std::string error = CheckDns1123Subdomain(policy.name);
      if (!error.empty()) {
        diagnostics_.Emit(DiagnosticKind::kInvalidPolicyName, name_loc, policy.name, c.id, error);
      }
      policy.ns = resolver_.NamespaceOf(i);
      policy.component = c.id;
      policy.selector = resolver_.Selector(i);
      policy.loc = c.loc;
      policy.isolate_ingress = c.IsolatesIngress(config_.flags);
      policy.isolate_egress = c.IsolatesEgress(config_.flags);
      std::vector<ir::PolicyRule> ingress, egress;
      for (const ir::Rule& rule : c.rules) {
        if (!rule.when.Evaluate(config_.flags)) continue;
        // Rules of a side the policy does not isolate would admit nothing
        // more than everything: they are left out.
        if (!(rule.direction == ir::Direction::kIngress ? policy.isolate_ingress
                                                        : policy.isolate_egress)) {
          continue;
        }
        ir::PolicyRule out;
        out.ports = rule.ports;
        AddPortExtras(rule.port_refs, rule.named_ports, out);
        out.sources = {rule.loc};
        for (const PeerRef& peer : rule.peers) AppendPeers(peer, out.peers);
        // A rule whose peers all dropped out admits nothing; it must not
        // become a rule without peers, which would admit everyone.
        if (out.peers.empty() || (out.ports.empty() && out.named_ports.empty())) continue;
        (rule.direction == ir::Direction::kIngress ? ingress : egress).push_back(std::move(out));
      }
      policy.ingress = CanonicalRules(std::move(ingress));
      policy.egress = CanonicalRules(std::move(egress));
      if (policy.isolate_egress && module_.dns.enabled) {
        ir::PolicyRule dns;
        dns.ports = module_.dns.ports;
        AddPortExtras(module_.dns.port_refs, module_.dns.named_ports, dns);
        dns.dns = true;
        if (module_.dns.loc.valid()) dns.sources = {module_.dns.loc};
        for (const PeerRef& peer : module_.dns.peers) AppendPeers(peer, dns.peers);
        if (!dns.peers.empty() && (!dns.ports.empty() || !dns.named_ports.empty())) {
          for (ir::PolicyRule& r : CanonicalRules({std::move(dns)})) {
            r.dns = true;
            policy.egress.push_back(std::move(r));
          }
        }
      }
      set.policies.push_back(std::move(policy));
    }
    std::sort(set.policies.begin(), set.policies.end(),
              [](const ir::Policy& a, const ir::Policy& b) {
                return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
              });
    for (size_t k = 1; k < set.policies.size(); ++k) {
      const ir::Policy& a = set.policies[k - 1];
      const ir::Policy& b = set.policies[k];
      if (a.ns == b.ns && a.name == b.name) {
        const ir::Policy& later = a.loc < b.loc ? b : a;
        const ir::Policy& earlier = a.loc < b.loc ? a : b;
        std::optional<uint32_t> index = module_.FindComponent(later.component);
        SourceLoc loc = later.loc;
        if (index && module_.components[*index].policy_name_loc.valid()) {
          loc = module_.components[*index].policy_name_loc;
        }
        diagnostics_.Emit(DiagnosticKind::kDuplicatePolicyName, loc, later.name, later.ns,
                          earlier.component);
      }
    }
    set.kube_apiserver_peers = EntityPeers(module_.kube_apiserver, "kube_apiserver");
    set.nodes_peers = EntityPeers(module_.nodes, "nodes");
    if (diagnostics_.error_count() > errors_before) return std::nullopt;
    return set;
  }

 private:
  // A policy-name template with each {param} replaced by its value.
  std::string ExpandPolicyName(const std::string& name) const {
    std::string out;
    for (size_t k = 0; k < name.size(); ++k) {
      if (name[k] != '{') {
        out += name[k];
        continue;
      }
      size_t close = name.find('}', k);
      if (close == std::string::npos) return out + name.substr(k);  // checked when lowered
      std::optional<uint32_t> param = module_.FindParam(name.substr(k + 1, close - k - 1));
      if (param && *param < config_.params.size()) out += config_.params[*param].text;
      k = close;
    }
    return out;
  }

  // The peers of `kube_apiserver = ...;` or `nodes = ...;` in this
  // configuration, canonical; nullopt when not declared.
  std::optional<std::vector<ir::Peer>> EntityPeers(const ir::Module::EntityPeers& entity,
                                                   std::string_view name) {
    if (!entity.declared) return std::nullopt;
    std::vector<ir::Peer> out;
    for (const PeerRef& ref : entity.peers) {
      if (ref.kind != PeerRef::Kind::kParam) {
        resolver_.AppendPeers(ref, out);
        continue;
      }
      if (ref.index >= config_.params.size()) continue;
      for (const PeerRef& inner : config_.params[ref.index].peers) {
        if (inner.kind == PeerRef::Kind::kCidr || inner.kind == PeerRef::Kind::kPods) {
          resolver_.AppendPeers(inner, out);
        } else {
          diagnostics_.Emit(DiagnosticKind::kInvalidEntityPeer, ref.loc, name,
                            "a parameter value with other peers (from parameter '" +
                                module_.params[ref.index].name + "')");
          return std::nullopt;
        }
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Values from parameters are checked where they are used, once per use.
  void CheckValue(const ir::ValueRef& ref, const std::string& value, Resolver::Use use) {
    std::string error = use == Resolver::Use::kNamespace ? CheckDns1123Label(value)
                                                         : CheckLabelValue(value);
    if (error.empty() || !reported_.insert(ref.loc).second) return;
    std::string from;
    if (ref.param < module_.params.size()) {
      from = " (from parameter '" + module_.params[ref.param].name + "')";
    }
    diagnostics_.Emit(use == Resolver::Use::kNamespace ? DiagnosticKind::kInvalidNamespace
                                                       : DiagnosticKind::kInvalidLabelValue,
                      ref.loc, value, error + from);
  }

  // Adds the ports from parameters (checked where they are used, once per
  // use) and the named ports of a rule.
  void AddPortExtras(const std::vector<ir::PortRef>& refs, const std::vector<ir::NamedPort>& named,
                     ir::PolicyRule& out) {
    for (const ir::PortRef& ref : refs) {
      Resolver::PortProblem problem;
      if (std::optional<ir::PortRange> range = resolver_.Port(ref, &problem)) {
        out.ports.push_back(*range);
        continue;
      }
      SourceLoc at = problem.at != nullptr ? problem.at->loc : ref.loc;
      if (!reported_.insert(at).second) continue;
      std::string name;
      if (problem.at != nullptr && problem.at->kind == ir::ValueRef::Kind::kParam &&
          problem.at->param < module_.params.size()) {
        name = module_.params[problem.at->param].name;
      }
      switch (problem.kind) {
        case Resolver::PortProblem::Kind::kMissing:
          if (!missing_ports_ok_) diagnostics_.Emit(DiagnosticKind::kParamNotSet, at, name, name);
          break;
        case Resolver::PortProblem::Kind::kOutOfRange:
          diagnostics_.Emit(DiagnosticKind::kPortOutOfRange, at,
                            name.empty() ? std::to_string(problem.value)
                                         : std::to_string(problem.value) + " (from parameter '" +
                                               name + "')");
          break;
        case Resolver::PortProblem::Kind::kEmpty:
        case Resolver::PortProblem::Kind::kNone:
          diagnostics_.Emit(DiagnosticKind::kInvalidPortRange, at, problem.first, problem.last);
          break;
      }
    }
    out.named_ports.insert(out.named_ports.end(), named.begin(), named.end());
    std::sort(out.named_ports.begin(), out.named_ports.end());
    out.named_ports.erase(std::unique(out.named_ports.begin(), out.named_ports.end()),
                          out.named_ports.end());
  }

  // `at` is where a peer taken from a parameter's value is reported: the
  // `$param` of the rule.
  void AppendPeers(const PeerRef& ref, std::vector<ir::Peer>& out,
                   std::optional<SourceLoc> at = std::nullopt) {
    if (ref.kind == PeerRef::Kind::kComponent) {
      // Disabled components drop out of the rules that name them.
      if (ref.index < enabled_.size() && enabled_[ref.index]) resolver_.AppendPeers(ref, out);
      return;
    }
    if (ref.kind == PeerRef::Kind::kParam) {
      if (ref.index >= config_.params.size()) return;
      // Parameter values never refer to parameters (checked when lowered),
      // so this recursion is one level deep.
      for (const PeerRef& inner : config_.params[ref.index].peers) {
        if (inner.kind != PeerRef::Kind::kParam) AppendPeers(inner, out, ref.loc);
      }
      return;
    }
    size_t first = out.size();
    resolver_.AppendPeers(ref, out);
    // An address block inside a pod network holds no address outside the
    // cluster: it admits nothing, on every target. Left out (a rule left
    // with no peers is removed, never turned into "admit everyone").
    for (size_t i = first; i < out.size();) {
      std::optional<std::string> network;
      if (out[i].kind == ir::Peer::Kind::kIpBlock && pod_networks_ != nullptr) {
        network = EnclosingPodNetwork(out[i].cidr, *pod_networks_);
      }
      if (!network) {
        ++i;
        continue;
      }
      SourceLoc loc = at.value_or(ref.loc);
      if (reported_blocks_.insert({loc, out[i].cidr}).second) {
        diagnostics_.Emit(DiagnosticKind::kAddressBlockInPodNetwork, loc, out[i].cidr, *network);
      }
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  const ir::Module& module_;
  const ir::Config& config_;
  Diagnostics& diagnostics_;
  std::set<SourceLoc> reported_;  // declared before resolver_, which reports while built
  Resolver resolver_;
  std::vector<bool> enabled_;
  const std::vector<std::string>* pod_networks_ = nullptr;
  std::set<std::pair<SourceLoc, std::string>> reported_blocks_;

 public:
  bool missing_ports_ok_ = false;  // InstantiateForDocumentation
};

}  // namespace

std::vector<ir::PolicyRule> CanonicalRules(std::vector<ir::PolicyRule> rules) {
  // peer -> (ports, sources, named ports)
  struct PeerEntry {
    std::vector<ir::PortRange> ports;
    std::vector<SourceLoc> sources;
    std::set<ir::NamedPort> named;
  };
  std::map<ir::Peer, PeerEntry> by_peer;
  for (ir::PolicyRule& rule : rules) {
    for (ir::Peer& peer : rule.peers) {
      PeerEntry& entry = by_peer[peer];
      entry.ports.insert(entry.ports.end(), rule.ports.begin(), rule.ports.end());
      entry.sources.insert(entry.sources.end(), rule.sources.begin(), rule.sources.end());
      entry.named.insert(rule.named_ports.begin(), rule.named_ports.end());
    }
  }
  // (ports, named ports) -> (peers, sources)
  using PortsKey = std::pair<std::vector<ir::PortRange>, std::vector<ir::NamedPort>>;
  std::map<PortsKey, ir::PolicyRule> by_ports;
  for (auto& [peer, entry] : by_peer) {
    PortsKey key{NormalisePorts(std::move(entry.ports)),
                 std::vector<ir::NamedPort>(entry.named.begin(), entry.named.end())};
    ir::PolicyRule& rule = by_ports[key];
    rule.peers.push_back(peer);  // map order: sorted and unique
    rule.sources.insert(rule.sources.end(), entry.sources.begin(), entry.sources.end());
  }
  std::vector<ir::PolicyRule> out;
  out.reserve(by_ports.size());
  for (auto& [key, rule] : by_ports) {
    rule.ports = key.first;
    rule.named_ports = key.second;
    std::sort(rule.sources.begin(), rule.sources.end());
    rule.sources.erase(std::unique(rule.sources.begin(), rule.sources.end()), rule.sources.end());
    out.push_back(std::move(rule));
  }
  return out;
}

std::optional<ir::PolicySet> Instantiate(const ir::Module& module, const ir::Config& config,
                                         Diagnostics& diagnostics) {
  return Instantiator(module, config, diagnostics).Run();
}

std::optional<ir::PolicySet> InstantiateForDocumentation(const ir::Module& module,
                                                         const ir::Config& config,
                                                         Diagnostics& diagnostics) {
  Instantiator instantiator(module, config, diagnostics);
  instantiator.missing_ports_ok_ = true;
  return instantiator.Run();
}

}  // namespace netpolc
