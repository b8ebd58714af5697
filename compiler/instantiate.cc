#include "compiler/instantiate.h"

#include <algorithm>
#include <map>
#include <set>

#include "compiler/k8s_names.h"

namespace netpolc {
namespace {

using ir::PeerRef;

// Sorts and merges overlapping ranges of the same protocol. Adjacent ports stay
// separate entries: a range needs endPort, which some network plugins ignore.
std::vector<ir::PortRange> NormalisePorts(std::vector<ir::PortRange> ports) {
  std::sort(ports.begin(), ports.end());
  std::vector<ir::PortRange> out;
  for (const ir::PortRange& p : ports) {
    if (!out.empty() && out.back().protocol == p.protocol &&
        out.back().last >= p.first) {
      out.back().last = std::max(out.back().last, p.last);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

class Instantiator {
 public:
  Instantiator(const ir::Module& module, const ir::Config& config, Diagnostics& diagnostics)
      : module_(module), config_(config), diagnostics_(diagnostics) {}

  std::optional<ir::PolicySet> Run() {
    size_t errors_before = diagnostics_.error_count();
    instance_ns_ = module_.instance.ns ? Namespace(*module_.instance.ns) : "default";
    instance_labels_ = Labels(module_.instance.labels);
    enabled_.resize(module_.components.size());
    selectors_.resize(module_.components.size());
    namespaces_.resize(module_.components.size());
    for (size_t i = 0; i < module_.components.size(); ++i) {
      const ir::Component& c = module_.components[i];
      enabled_[i] = c.when.Evaluate(config_.flags);
      selectors_[i] = Labels(c.labels);
      if (c.scope == ir::Scope::kInstance) {
        selectors_[i].insert(selectors_[i].end(), instance_labels_.begin(), instance_labels_.end());
        std::sort(selectors_[i].begin(), selectors_[i].end());
      }
      namespaces_[i] = c.ns ? Namespace(*c.ns) : instance_ns_;
    }
    std::string prefix = module_.instance.prefix ? Resolve(*module_.instance.prefix) : "";

    ir::PolicySet set;
    for (size_t i = 0; i < module_.components.size(); ++i) {
      const ir::Component& c = module_.components[i];
      if (!enabled_[i] || c.rules.empty()) continue;
      ir::Policy policy;
      std::string id = c.id;
      std::replace(id.begin(), id.end(), '_', '-');
      policy.name = prefix.empty() ? id : prefix + "-" + id;
      std::string error = CheckDns1123Subdomain(policy.name);
      if (!error.empty()) {
        diagnostics_.Emit(DiagnosticKind::kInvalidPolicyName, c.loc, policy.name, c.id, error);
      }
      policy.ns = namespaces_[i];
      policy.component = c.id;
      policy.selector = selectors_[i];
      policy.loc = c.loc;
      policy.isolate_ingress = true;
      policy.isolate_egress = c.has_egress();
      std::vector<ir::PolicyRule> ingress, egress;
      for (const ir::Rule& rule : c.rules) {
        if (!rule.when.Evaluate(config_.flags)) continue;
        ir::PolicyRule out;
        out.ports = rule.ports;
        out.sources = {rule.loc};
        for (const PeerRef& peer : rule.peers) AppendPeers(peer, out.peers);
        // A rule whose peers all dropped out admits nothing; it must not
        // become a rule without peers, which would admit everyone.
        if (out.peers.empty() || out.ports.empty()) continue;
        (rule.direction == ir::Direction::kIngress ? ingress : egress).push_back(std::move(out));
      }
      policy.ingress = CanonicalRules(std::move(ingress));
      policy.egress = CanonicalRules(std::move(egress));
      if (policy.isolate_egress && module_.dns.enabled) {
        ir::PolicyRule dns;
        dns.ports = module_.dns.ports;
        dns.dns = true;
        if (module_.dns.loc.valid()) dns.sources = {module_.dns.loc};
        for (const PeerRef& peer : module_.dns.peers) AppendPeers(peer, dns.peers);
        if (!dns.peers.empty() && !dns.ports.empty()) {
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
    if (diagnostics_.error_count() > errors_before) return std::nullopt;
    return set;
  }

 private:
  std::string Resolve(const ir::ValueRef& value) {
    if (value.kind == ir::ValueRef::Kind::kLiteral) return value.literal;
    if (value.param >= config_.params.size()) return {};
    return config_.params[value.param].text;
  }

  // Where a parameter's value is used, say which parameter it came from.
  std::string From(const ir::ValueRef& value) {
    if (value.kind != ir::ValueRef::Kind::kParam || value.param >= module_.params.size()) return {};
    return " (from parameter '" + module_.params[value.param].name + "')";
  }

  std::string Namespace(const ir::ValueRef& value) {
    std::string ns = Resolve(value);
    if (value.kind == ir::ValueRef::Kind::kParam) {
      std::string error = CheckDns1123Label(ns);
      if (!error.empty() && reported_.insert(value.loc).second) {
        diagnostics_.Emit(DiagnosticKind::kInvalidNamespace, value.loc, ns, error + From(value));
      }
    }
    return ns;
  }

  std::vector<ir::Label> Labels(const std::vector<ir::LabelRef>& refs) {
    std::vector<ir::Label> labels;
    labels.reserve(refs.size());
    for (const ir::LabelRef& ref : refs) {
      std::string value = Resolve(ref.value);
      if (ref.value.kind == ir::ValueRef::Kind::kParam) {
        std::string error = CheckLabelValue(value);
        if (!error.empty() && reported_.insert(ref.value.loc).second) {
          diagnostics_.Emit(DiagnosticKind::kInvalidLabelValue, ref.value.loc, value,
                            error + From(ref.value));
        }
      }
      labels.push_back({ref.key, std::move(value)});
    }
    std::sort(labels.begin(), labels.end());
    return labels;
  }

  void AppendPeers(const PeerRef& ref, std::vector<ir::Peer>& out) {
    ir::Peer peer;
    switch (ref.kind) {
      case PeerRef::Kind::kAnywhere:
        peer.kind = ir::Peer::Kind::kAnywhere;
        out.push_back(std::move(peer));
        return;
      case PeerRef::Kind::kInstance:
        peer.kind = ir::Peer::Kind::kPods;
        peer.ns_match = ir::NamespaceMatch::kNamed;
        peer.ns = instance_ns_;
        peer.pod_labels = instance_labels_;
        out.push_back(std::move(peer));
        return;
      case PeerRef::Kind::kExternal:
        peer.kind = ir::Peer::Kind::kIpBlock;
        peer.cidr = "0.0.0.0/0";
        out.push_back(peer);
        peer.cidr = "::/0";
        out.push_back(std::move(peer));
        return;
      case PeerRef::Kind::kCidr:
        peer.kind = ir::Peer::Kind::kIpBlock;
        peer.cidr = ref.cidr;
        peer.except = ref.except;
        std::sort(peer.except.begin(), peer.except.end());
        out.push_back(std::move(peer));
        return;
      case PeerRef::Kind::kPods:
        peer.kind = ir::Peer::Kind::kPods;
        peer.pod_labels = Labels(ref.pod_labels);
        switch (ref.ns) {
          case PeerRef::Namespace::kInstance:
            peer.ns_match = ir::NamespaceMatch::kNamed;
            peer.ns = instance_ns_;
            break;
          case PeerRef::Namespace::kNamed:
            peer.ns_match = ir::NamespaceMatch::kNamed;
            peer.ns = Namespace(ref.ns_name);
            break;
          case PeerRef::Namespace::kAny:
            peer.ns_match = ir::NamespaceMatch::kAny;
            break;
          case PeerRef::Namespace::kLabels:
            peer.ns_match = ir::NamespaceMatch::kLabels;
            peer.ns_labels = Labels(ref.ns_labels);
            break;
        }
        out.push_back(std::move(peer));
        return;
      case PeerRef::Kind::kComponent: {
        if (ref.index >= module_.components.size() || !enabled_[ref.index]) return;
        const ir::Component& c = module_.components[ref.index];
        peer.kind = ir::Peer::Kind::kPods;
        peer.pod_labels = selectors_[ref.index];
        if (c.scope == ir::Scope::kCluster) {
          peer.ns_match = ir::NamespaceMatch::kAny;
        } else {
          peer.ns_match = ir::NamespaceMatch::kNamed;
          peer.ns = namespaces_[ref.index];
        }
        out.push_back(std::move(peer));
        return;
      }
      case PeerRef::Kind::kParam:
        if (ref.index >= config_.params.size()) return;
        // Parameter values never refer to parameters (checked when lowered),
        // so this recursion is one level deep.
        for (const PeerRef& inner : config_.params[ref.index].peers) {
          if (inner.kind != PeerRef::Kind::kParam) AppendPeers(inner, out);
        }
        return;
    }
  }

  const ir::Module& module_;
  const ir::Config& config_;
  Diagnostics& diagnostics_;
  std::string instance_ns_;
  std::vector<ir::Label> instance_labels_;
  std::vector<bool> enabled_;
  std::vector<std::vector<ir::Label>> selectors_;
  std::vector<std::string> namespaces_;
  std::set<SourceLoc> reported_;
};

}  // namespace

std::vector<ir::PolicyRule> CanonicalRules(std::vector<ir::PolicyRule> rules) {
  // peer -> (ports, sources)
  std::map<ir::Peer, std::pair<std::vector<ir::PortRange>, std::vector<SourceLoc>>> by_peer;
  for (ir::PolicyRule& rule : rules) {
    for (ir::Peer& peer : rule.peers) {
      auto& [ports, sources] = by_peer[peer];
      ports.insert(ports.end(), rule.ports.begin(), rule.ports.end());
      sources.insert(sources.end(), rule.sources.begin(), rule.sources.end());
    }
  }
  // ports -> (peers, sources)
  std::map<std::vector<ir::PortRange>, ir::PolicyRule> by_ports;
  for (auto& [peer, entry] : by_peer) {
    std::vector<ir::PortRange> ports = NormalisePorts(std::move(entry.first));
    ir::PolicyRule& rule = by_ports[ports];
    rule.peers.push_back(peer);  // map order: sorted and unique
    rule.sources.insert(rule.sources.end(), entry.second.begin(), entry.second.end());
  }
  std::vector<ir::PolicyRule> out;
  out.reserve(by_ports.size());
  for (auto& [ports, rule] : by_ports) {
    rule.ports = ports;
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

}  // namespace netpolc
