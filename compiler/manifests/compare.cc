#include "compiler/manifests/compare.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <cstdlib>
#include <set>
#include <tuple>

#include "compiler/manifests/connlist.h"
#include "compiler/verify/calico_eval.h"
#include "compiler/verify/cilium_eval.h"
#include "compiler/verify/ir_eval.h"

namespace netpolc::manifests {
namespace {

using verify::Endpoint;
using verify::PortSet;
using verify::Side;

PortSet Intersect(const PortSet& a, const PortSet& b) { return a.Minus(a.Minus(b)); }

std::string LabelText(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

Labels ToLabels(const std::vector<ir::Label>& labels) {
  Labels out;
  for (const ir::Label& l : labels) out[l.key] = l.value;
  return out;
}

// One pod of the universe, and the workload view that the manifests'
// NetworkPolicy reading (Sides) takes of it.
struct Pod {
  std::string id;
  Workload view;
};

class UniverseBuilder {
 public:
  UniverseBuilder(const ir::PolicySet& rules, const Manifests& m) : rules_(rules), m_(m) {}

  verify::Universe Build() {
    for (const Namespace& ns : m_.namespaces) namespaces_[ns.name] = ns.labels;
    CollectPortNames();
    for (const ir::Policy& p : rules_.policies) {
      Workload w;
      w.namespace_name = p.ns;
      w.labels = ToLabels(p.selector);
      AddPod(p.ns + "/" + p.component, std::move(w));
    }
    for (const ir::Policy& p : rules_.policies) {
      for (const auto* side : {&p.ingress, &p.egress}) {
        for (const ir::PolicyRule& rule : *side) {
          for (const ir::Peer& peer : rule.peers) AddRulePeer(peer, p.ns);
        }
      }
    }
    for (const Workload& w : m_.workloads) AddPod(w.Id(), w);
    for (const NetworkPolicy& p : m_.policies) {
      for (const auto* side : {&p.ingress, &p.egress}) {
        for (const PolicyRule& rule : *side) {
          for (const PolicyPeer& peer : rule.peers) {
            if (peer.ip_block) AddExternalsFor(peer.ip_block->cidr, peer.ip_block->except);
          }
        }
      }
    }
    for (const char* ip : {"203.0.113.7", "2001:db8::7", "192.168.10.10", "172.16.5.5"}) {
      AddExternal(ip);
    }

    verify::Universe u;
    for (const Pod& pod : pods_) AddNamespace(pod.view.namespace_name, {});
    for (const auto& [name, labels] : namespaces_) u.AddNamespace({name, labels});
    size_t i = 0;
    for (Pod& pod : pods_) {
      Endpoint e{pod.id, Endpoint::Kind::kPod, pod.view.namespace_name, pod.view.labels, PodIp(i++)};
      for (const ContainerPort& c : pod.view.ports) e.ports.push_back({c.name, c.protocol, c.port});
      u.AddEndpoint(std::move(e));
    }
    for (const std::string& ip : externals_) {
      u.AddEndpoint({ip + "[External]", Endpoint::Kind::kExternal, "", {}, ip});
    }
    return u;
  }

  std::vector<Pod> pods_;
  std::vector<std::string> externals_;
  const std::vector<ContainerPort>& port_names() const { return port_names_; }

 private:
  void AddNamespace(const std::string& name, const Labels& labels) {
    if (name.empty()) return;
    auto [it, inserted] = namespaces_.emplace(name, labels);
    if (inserted) it->second.emplace("kubernetes.io/metadata.name", name);
    for (const auto& [k, v] : labels) it->second.emplace(k, v);
  }

  // The port names that the rules and the policies of the manifests use,
  // each with the protocol it is first used with and a number of its own
  // (from 49152 up): the container ports of the pods that stand for the
  // rules' components and peers, so that a named port admits the same port
  // on both sides, and a name that one side admits and the other does not is
  // a difference. (A pod names a port once: a name used with two protocols is
  // given the first.)
  void CollectPortNames() {
    auto add = [&](const std::string& name, Protocol protocol) {
      if (name.empty() || port_names_.size() >= kMaxPortNames) return;
      for (const ContainerPort& c : port_names_) {
        if (c.name == name) return;
      }
      port_names_.push_back({name, kFirstNamedPort + static_cast<int>(port_names_.size()), protocol});
    };
    for (const ir::Policy& p : rules_.policies) {
      for (const auto* side : {&p.ingress, &p.egress}) {
        for (const ir::PolicyRule& rule : *side) {
          for (const ir::NamedPort& n : rule.named_ports) add(n.name, verify::ToProtocol(n.protocol));
        }
      }
    }
    for (const NetworkPolicy& p : m_.policies) {
      for (const auto* side : {&p.ingress, &p.egress}) {
        for (const PolicyRule& rule : *side) {
          for (const PolicyPort& port : rule.ports) add(port.named_port, port.protocol);
        }
      }
    }
    for (const auto* docs : {&m_.cilium, &m_.calico}) {
      for (const ForeignDocument& d : *docs) {
        for (const auto& [name, protocol] : d.port_names) add(name, protocol);
      }
    }
  }

  static constexpr int kFirstNamedPort = 49152;
  static constexpr size_t kMaxPortNames = 65535 - kFirstNamedPort + 1;

  void AddPod(std::string id, Workload view) {
    // One pod per id, and per (namespace, labels) but for the manifests'
    // workloads, which keep their names (and their container ports).
    std::string shape = view.namespace_name + "/" + LabelText(view.labels);
    bool workload = !view.kind.empty();
    if (!workload) view.ports = port_names_;
    if (!workload && shapes_.count(shape)) return;
    if (!ids_.insert(id).second) return;
    shapes_.insert(shape);
    AddNamespace(view.namespace_name, {});
    pods_.push_back({std::move(id), std::move(view)});
  }

  void AddRulePeer(const ir::Peer& peer, const std::string& policy_ns) {
    if (peer.kind == ir::Peer::Kind::kIpBlock) {
      AddExternalsFor(peer.cidr, peer.except);
      return;
    }
    if (peer.kind != ir::Peer::Kind::kPods) return;
    Labels labels = ToLabels(peer.pod_labels);
    std::string ns = policy_ns;
    if (peer.ns_match == ir::NamespaceMatch::kNamed) {
      ns = peer.ns;
    } else if (peer.ns_match == ir::NamespaceMatch::kLabels) {
      ns = fmt::format("netpolc-labelled-{}", labelled_++);
      AddNamespace(ns, ToLabels(peer.ns_labels));
    } else {
      ns = "netpolc-other";
    }
    Workload w;
    w.namespace_name = ns;
    w.labels = labels;
    AddPod(ns + "/pods{" + LabelText(labels) + "}", std::move(w));
  }

  // Pods take their addresses from the cluster's pod networks, as they do
  // in a cluster: from the rules' `pod_networks` when declared (so that an
  // ipBlock of the manifests that excepts them is compared exactly), else
  // from 10.244.0.0/16 and fd00:10:244::/64.
  std::string PodIp(size_t i) const {
    const std::vector<std::string>& networks = rules_.pod_networks;
    if (!networks.empty()) {
      const std::string& network = networks[i % networks.size()];
      if (std::optional<std::string> ip = AddressIn(network, 0x10 + i / networks.size())) return *ip;
    }
    if (i % 3 == 2) return fmt::format("fd00:10:244::{:x}", 0x8000 + i);
    return fmt::format("10.244.{}.{}", 128 + i / 250, 1 + i % 250);
  }

  bool InPodNetwork(const std::string& ip) const {
    if (rules_.pod_networks.empty()) {
      return ip.rfind("10.244.", 0) == 0 || ip.rfind("fd00:10:244::", 0) == 0;
    }
    return InAny(ip, rules_.pod_networks);
  }

  // The address `offset` past the start of `cidr`, when the block holds it.
  static std::optional<std::string> AddressIn(const std::string& cidr, unsigned __int128 offset) {
    size_t slash = cidr.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::string address = cidr.substr(0, slash);
    int prefix = std::atoi(cidr.c_str() + slash + 1);
    bool v6 = address.find(':') != std::string::npos;
    unsigned char bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes) != 1) return std::nullopt;
    int bits = v6 ? 128 : 32;
    if (prefix < 0 || prefix > bits) return std::nullopt;
    using U128 = unsigned __int128;
    U128 base = 0;
    for (int i = 0; i < bits / 8; ++i) base = (base << 8) | bytes[i];
    int host_bits = bits - prefix;
    U128 span = host_bits >= 127 ? ~U128{0} : (U128{1} << host_bits) - 1;
    if (offset > span) return std::nullopt;
    U128 value = (base & ~span) + offset;
    unsigned char out[16] = {};
    for (int i = bits / 8 - 1; i >= 0; --i) {
      out[i] = static_cast<unsigned char>(value & 0xFF);
      value >>= 8;
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, out, text, sizeof text);
    return std::string(text);
  }

  void AddExternal(const std::string& ip) {
    if (InPodNetwork(ip)) return;  // an address of a pod, not outside
    if (ips_.insert(ip).second) externals_.push_back(ip);
  }

  static bool InAny(const std::string& ip, const std::vector<std::string>& cidrs) {
    std::optional<verify::IpAddress> address = verify::IpAddress::Parse(ip);
    for (const std::string& c : cidrs) {
      std::optional<verify::Cidr> cidr = verify::Cidr::Parse(c);
      if (address && cidr && cidr->Contains(*address)) return true;
    }
    return false;
  }

  // An address inside `cidr` outside every `except`, and one inside each
  // `except`.
  void AddExternalsFor(const std::string& cidr, const std::vector<std::string>& except) {
    AddExternalIn(cidr, except);
    for (const std::string& e : except) AddExternalIn(e, {});
  }

  void AddExternalIn(const std::string& cidr, const std::vector<std::string>& except) {
    for (unsigned offset : {9u, 10u, 11u, 0x3f1u, 1u, 0u}) {
      std::optional<std::string> ip = AddressIn(cidr, offset);
      if (!ip || InPodNetwork(*ip) || InAny(*ip, except)) continue;
      AddExternal(*ip);
      return;
    }
  }

  const ir::PolicySet& rules_;
  const Manifests& m_;
  std::map<std::string, Labels> namespaces_;
  std::set<std::string> ids_;
  std::set<std::string> shapes_;
  std::set<std::string> ips_;
  int labelled_ = 0;
  std::vector<ContainerPort> port_names_;
};

// What the manifests admit: every kind present must admit.
class ManifestsEvaluator : public verify::Evaluator {
 public:
  ManifestsEvaluator(const verify::Universe& u, const Manifests& m) {
    std::string k8s, cilium, calico;
    for (const NetworkPolicy& p : m.policies) k8s += "---\n" + p.yaml;
    for (const ForeignDocument& d : m.cilium) cilium += "---\n" + d.yaml;
    for (const ForeignDocument& d : m.calico) calico += "---\n" + d.yaml;
    if (!k8s.empty()) parts_.push_back(std::make_unique<verify::K8sEvaluator>(u, k8s, "the NetworkPolicies"));
    if (!cilium.empty()) {
      parts_.push_back(std::make_unique<verify::CiliumEvaluator>(u, cilium, "the Cilium policies"));
    }
    if (!calico.empty()) {
      parts_.push_back(std::make_unique<verify::CalicoEvaluator>(u, calico, "the Calico policies"));
    }
  }
  PortSet Allowed(Side side, size_t subject, size_t peer) const override {
    PortSet out = PortSet::All();
    for (const auto& e : parts_) out = Intersect(out, e->Allowed(side, subject, peer));
    return out;
  }

 private:
  std::vector<std::unique_ptr<verify::Evaluator>> parts_;
};

std::string FormatLoc(const SourceManager& sources, const SourceLoc& loc) {
  if (!loc.valid() || loc.file >= sources.size()) return "a built-in rule";
  return EscapeText(fmt::format("{}:{}:{}", sources.file(loc.file).path, loc.line, loc.column));
}

bool Selects(const ir::Policy& p, const verify::Universe& u, size_t endpoint) {
  if (!u.is_pod(endpoint)) return false;
  const Endpoint& e = u.endpoint(endpoint);
  if (e.namespace_name != p.ns) return false;
  for (const ir::Label& l : p.selector) {
    auto it = e.labels.find(l.key);
    if (it == e.labels.end() || it->second != l.value) return false;
  }
  return true;
}

class Locator {
 public:
  Locator(const ir::PolicySet& rules, const SourceManager& sources, const Manifests& m,
          const verify::Universe& u, const std::vector<Pod>& pods)
      : rules_(rules), sources_(sources), m_(m), u_(u), ir_(u, rules), sides_(m) {
    for (const Pod& p : pods) views_[p.id] = &p.view;
    for (const auto& [docs, kind] : {std::pair{&m.cilium, 0}, std::pair{&m.calico, 1}}) {
      for (const ForeignDocument& d : *docs) {
        std::unique_ptr<verify::Evaluator> e;
        if (kind == 0) e = std::make_unique<verify::CiliumEvaluator>(u, d.yaml, d.kind);
        else e = std::make_unique<verify::CalicoEvaluator>(u, d.yaml, d.kind);
        foreign_.push_back({fmt::format("{} {} {}", EscapeText(d.api_version), d.kind, EscapeText(d.name)),
                            std::move(e)});
      }
    }
  }

  // Splits `ports`, admitted on `side` of `subject` by the rules, by the rule
  // admitting them.
  std::vector<std::pair<std::string, PortSet>> Rules(const PortSet& ports, bool ingress,
                                                     size_t subject, size_t peer) const {
    std::vector<std::pair<std::string, PortSet>> out;
    PortSet left = ports;
    for (const ir::Policy& p : rules_.policies) {
      if (left.empty()) break;
      if (!(ingress ? p.isolate_ingress : p.isolate_egress) || !Selects(p, u_, subject)) continue;
      for (const ir::PolicyRule& rule : ingress ? p.ingress : p.egress) {
        bool match = std::any_of(rule.peers.begin(), rule.peers.end(),
                                 [&](const ir::Peer& q) { return ir_.PeerMatches(q, peer); });
        if (!match) continue;
        PortSet rule_ports;
        for (const ir::PortRange& r : rule.ports) {
          rule_ports.Add(verify::ToProtocol(r.protocol), r.first, r.last);
        }
        // Named ports: those of the pod receiving the connection.
        const Endpoint& receiver = u_.endpoint(ingress ? subject : peer);
        for (const ir::NamedPort& named : rule.named_ports) {
          if (receiver.kind != Endpoint::Kind::kPod) break;
          for (const verify::ContainerPort& c : receiver.ports) {
            if (c.name == named.name && c.protocol == verify::ToProtocol(named.protocol)) {
              rule_ports.Add(c.protocol, c.port, c.port);
            }
          }
        }
        PortSet hit = Intersect(left, rule_ports);
        if (hit.empty()) continue;
        SourceLoc loc = rule.sources.empty() ? SourceLoc{} : rule.sources.front();
        out.push_back({FormatLoc(sources_, loc), hit});
        left = left.Minus(hit);
      }
    }
    if (!left.empty()) {
      out.push_back({fmt::format("no rule restricts the {} of {}", ingress ? "ingress" : "egress",
                                 EscapeText(u_.endpoint(subject).id)),
                     left});
    }
    return out;
  }

  // Likewise on the manifests' side.
  std::vector<std::pair<std::string, PortSet>> Manifest(const PortSet& ports, bool ingress,
                                                        size_t subject, size_t peer) const {
    std::vector<std::pair<std::string, PortSet>> out;
    PortSet left = ports;
    const Workload* subject_view = View(subject);
    const Workload* peer_view = View(peer);
    IpRange range{0, 0};
    if (!peer_view) {
      std::optional<verify::IpAddress> ip = u_.ip(peer);
      if (ip && ip->family() == verify::IpAddress::Family::kV4) {
        std::uint32_t v = 0;
        for (int i = 0; i < 32; ++i) v = (v << 1) | (ip->bit(i) ? 1u : 0u);
        range = {v, v};
      }
    }
    if (subject_view) {
      for (size_t index : sides_.Selecting(*subject_view, ingress)) {
        if (left.empty()) break;
        PortSet hit = Intersect(left, sides_.PolicyPorts(index, *subject_view, peer_view, range, ingress));
        if (hit.empty()) continue;
        out.push_back({"NetworkPolicy " + EscapeText(m_.policies[index].Id()), hit});
        left = left.Minus(hit);
      }
    }
    for (const auto& [name, e] : foreign_) {
      if (left.empty()) break;
      PortSet allowed = e->Allowed(ingress ? Side::kIngress : Side::kEgress, subject, peer);
      if (allowed == PortSet::All()) continue;  // does not restrict this side
      PortSet hit = Intersect(left, allowed);
      if (hit.empty()) continue;
      out.push_back({name, hit});
      left = left.Minus(hit);
    }
    if (!left.empty()) {
      out.push_back({fmt::format("no policy restricts the {} of {}", ingress ? "ingress" : "egress",
                                 EscapeText(u_.endpoint(subject).id)),
                     left});
    }
    return out;
  }

 private:
  const Workload* View(size_t endpoint) const {
    if (!u_.is_pod(endpoint)) return nullptr;
    auto it = views_.find(u_.endpoint(endpoint).id);
    return it == views_.end() ? nullptr : it->second;
  }

  const ir::PolicySet& rules_;
  const SourceManager& sources_;
  const Manifests& m_;
  const verify::Universe& u_;
  verify::IrEvaluator ir_;
  Sides sides_;
  std::map<std::string, const Workload*> views_;
  std::vector<std::pair<std::string, std::unique_ptr<verify::Evaluator>>> foreign_;
};

}  // namespace

Comparison CompareWithRules(const ir::PolicySet& rules, const SourceManager& sources,
                            const Manifests& manifests) {
  UniverseBuilder builder(rules, manifests);
  verify::Universe u = builder.Build();
  verify::IrEvaluator by_rules(u, rules);
  ManifestsEvaluator by_manifests(u, manifests);
  Locator locate(rules, sources, manifests, u, builder.pods_);
  Comparison out;
  out.pods = builder.pods_.size();
  out.externals = builder.externals_.size();
  out.port_names = builder.port_names();
  for (size_t s = 0; s < u.size(); ++s) {
    for (size_t d = 0; d < u.size(); ++d) {
      if (s == d || (!u.is_pod(s) && !u.is_pod(d))) continue;
      PortSet r_eg = by_rules.Allowed(Side::kEgress, s, d);
      PortSet r_in = by_rules.Allowed(Side::kIngress, d, s);
      PortSet m_eg = by_manifests.Allowed(Side::kEgress, s, d);
      PortSet m_in = by_manifests.Allowed(Side::kIngress, d, s);
      PortSet r = Intersect(r_eg, r_in);
      PortSet m = Intersect(m_eg, m_in);
      auto add = [&](bool rules_only, const std::vector<std::pair<std::string, PortSet>>& parts) {
        for (const auto& [where, ports] : parts) {
          out.discrepancies.push_back(
              {rules_only, u.endpoint(s).id, u.endpoint(d).id, ports, where});
        }
      };
      PortSet only_rules = r.Minus(m);
      if (!only_rules.empty()) {
        PortSet by_ingress = only_rules.Minus(m_in);  // the manifests' ingress refuses these
        add(true, locate.Rules(by_ingress, true, d, s));
        add(true, locate.Rules(only_rules.Minus(by_ingress), false, s, d));
      }
      PortSet only_manifests = m.Minus(r);
      if (!only_manifests.empty()) {
        PortSet by_ingress = only_manifests.Minus(r_in);
        add(false, locate.Manifest(by_ingress, true, d, s));
        add(false, locate.Manifest(only_manifests.Minus(by_ingress), false, s, d));
      }
    }
  }
  std::sort(out.discrepancies.begin(), out.discrepancies.end(),
            [](const Discrepancy& a, const Discrepancy& b) {
              if (a.rules_only != b.rules_only) return a.rules_only;
              return std::tie(a.src, a.dst, a.where) < std::tie(b.src, b.dst, b.where);
            });
  return out;
}

std::string FormatComparison(const Comparison& c) {
  std::string out;
  for (const Discrepancy& d : c.discrepancies) {
    out += fmt::format("{}: {} => {} : {} ({})\n", d.rules_only ? "rules only" : "manifests only",
                       EscapeText(d.src), EscapeText(d.dst), ConnString(d.ports), d.where);
  }
  // Which named port a number given to the rules' pods stands for.
  for (const ContainerPort& p : c.port_names) {
    bool shown = std::any_of(c.discrepancies.begin(), c.discrepancies.end(),
                             [&](const Discrepancy& d) { return d.ports.Contains(p.protocol, p.port); });
    if (shown) {
      out += fmt::format("  ({} {} is the container port \"{}\" of the pods standing for the rules' "
                         "components and peers)\n",
                         verify::ToString(p.protocol), p.port, EscapeText(p.name));
    }
  }
  return out;
}

}  // namespace netpolc::manifests
