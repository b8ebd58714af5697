// Renders the policy IR as CiliumNetworkPolicy (cilium.io/v2) objects.
//
// Semantics relied on (Cilium 1.18; docs.cilium.io/en/stable/security/policy/):
// - `endpointSelector` selects pods of the policy's own namespace only; a pod
//   is default-deny on a side as soon as a policy selecting it has a non-empty
//   `ingress` / `egress` list (policy/intro "default" enforcement mode, and
//   Rule.Sanitize: "default is true for each traffic direction that has
//   rules"). A side with nothing to admit is written `ingress: [{}]`: a rule
//   with no peer and no port selects nothing (layer3 "Ingress/Egress Default
//   Deny" example).
// - `fromEndpoints` / `toEndpoints` selectors are confined to the policy's
//   namespace unless they name the label `k8s:io.kubernetes.pod.namespace`
//   (policy/kubernetes "Namespaces"); an empty selector matches the policy's
//   namespace only. Every selector written here names that label: the
//   namespace by value, or `Exists` for "any namespace". Namespaces selected by
//   their labels use `k8s:io.cilium.k8s.namespace.labels.<key>` together with
//   the `Exists` requirement: the documentation says namespace labels do not
//   lift the confinement in a CNP, while recent agents do lift it; with the
//   explicit namespace requirement both readings select the same pods.
// - Entities: `all` is every endpoint in or outside the cluster (`anywhere`);
//   `kube-apiserver` the Kubernetes API server, in or outside the cluster;
//   `host` the local node and `remote-node` every other node, and with them
//   the pods on their host network, which have the node's identity
//   (policy/language "Entities based"). The `kube_apiserver` and `nodes`
//   peers are written with them.
//   `world` every endpoint outside the cluster (layer3 "Entities Based":
//   "all connectivity to outside of the cluster"), of both address families.
// - CIDR rules (`fromCIDRSet` / `toCIDRSet`) match only peers that are not
//   Cilium-managed endpoints: "CIDR-based selectors do not match in-cluster
//   entities (pods or nodes)" (layer3 "IP/CIDR based"; policy caveats: CIDR
//   policies are "to and from endpoints which are not managed by Cilium").
//   That is exactly the IR's meaning of an address block (addresses outside
//   the cluster's pod network), so address peers are written as they are:
//   `external` (both /0 blocks, on the ports where a side admits both) as
//   the entity `world`, other blocks as CIDR sets. No pod networks are
//   needed.
// - One rule may use a single kind of peer: combining toEndpoints, toCIDRSet
//   and toEntities in one rule is rejected by the agent ("combining X and Y is
//   not supported yet"), so an IR rule becomes up to three Cilium rules with
//   the same ports.
// - `toPorts[].ports[]`: `port` is a string, `endPort` an integer, `protocol`
//   TCP/UDP/SCTP; at most 40 ports per entry (CRD maxItems).
// - The DNS rule carries `rules: dns: [{matchPattern: "*"}]` on its single
//   TCP/UDP ports so that Cilium's DNS proxy keeps name visibility (DNS L7
//   rules do not support port ranges, so ranges are written without it).
// - Selector requirements (matchExpressions In, NotIn, Exists,
//   DoesNotExist) are those of Kubernetes label selectors; on namespace
//   labels they use the key io.cilium.k8s.namespace.labels.<key>.
// - Named ports: `port: "https"` in an ingress rule is resolved on the
//   policy's own pods, as in Kubernetes; egress rules cannot use them
//   exactly (see CheckNamedPorts).
// - Pod labels that Cilium's default identity-relevant label filter drops
//   (operations/performance/scalability/identity-relevant-labels) cannot be
//   selected: they are reported as errors.
#include "backends/cilium/cilium.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backends/source_name.h"
#include "backends/yaml_writer.h"
#include "compiler/semantics/k8s_names.h"

namespace netpolc::backends::cilium {
namespace {

constexpr std::string_view kTarget = "cilium";
constexpr std::string_view kNamespaceKey = "k8s:io.kubernetes.pod.namespace";
constexpr std::string_view kNamespaceLabelPrefix = "k8s:io.cilium.k8s.namespace.labels.";
constexpr size_t kMaxPortsPerEntry = 40;

// The exclusive patterns of Cilium's default label filter, anchored at the
// start of the key.
constexpr std::string_view kIgnoredLabelPrefixes[] = {
    "io.kubernetes",
    "kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "beta.kubernetes.io",
    "k8s.io",
    "pod-template-generation",
    "pod-template-hash",
    "controller-revision-hash",
    "annotation",
    "controller-uid",
    "etcd_node",
};

bool IgnoredByCilium(std::string_view key) {
  for (std::string_view prefix : kIgnoredLabelPrefixes) {
    if (key.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

// Errors are collected, then reported in source order.
using Pending = std::vector<std::pair<SourceLoc, std::string>>;

// The entities of a rule's API-server and node peers: kube-apiserver; host
// and remote-node (the local node and the others, host-network pods
// included). Sorted, unique.
std::vector<std::string> Entities(const ir::PolicyRule& rule) {
  std::vector<std::string> out;
  for (const ir::Peer& peer : rule.peers) {
    if (peer.kind == ir::Peer::Kind::kKubeApiserver) out.push_back("kube-apiserver");
    if (peer.kind == ir::Peer::Kind::kNodes) {
      out.push_back("host");
      out.push_back("remote-node");
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<SourceLoc> LabelSources(const Input& input, const ir::Policy& policy,
                                    const ir::PolicyRule& rule) {
  if (rule.dns) return {input.module.dns.loc.valid() ? input.module.dns.loc : policy.loc};
  if (rule.sources.empty()) return {policy.loc};
  return rule.sources;
}

bool CheckLabels(const Input& input, const ir::Policy& policy, std::set<SourceLoc>& reported,
                 Pending& pending) {
  bool ok = true;
  auto report = [&](SourceLoc loc, const std::string& key) {
    ok = false;
    if (!reported.insert(loc).second) return;
    pending.emplace_back(loc, fmt::format("the pod label '{}' is ignored by Cilium's default "
                                          "identity-relevant label filter, so no selector can "
                                          "match it",
                                          key));
  };
  for (const ir::Label& label : policy.selector) {
    if (IgnoredByCilium(label.key)) report(policy.loc, label.key);
  }
  for (const auto* side : {&policy.ingress, &policy.egress}) {
    for (const ir::PolicyRule& rule : *side) {
      for (const ir::Peer& peer : rule.peers) {
        if (peer.kind != ir::Peer::Kind::kPods) continue;
        for (const ir::Label& label : peer.pod_labels) {
          if (!IgnoredByCilium(label.key)) continue;
          for (SourceLoc loc : LabelSources(input, policy, rule)) report(loc, label.key);
        }
        // A requirement on such a key would see no label at all: `not in`
        // and `not exists` would match pods that carry it.
        for (const ir::Requirement& requirement : peer.pod_exprs) {
          if (!IgnoredByCilium(requirement.key)) continue;
          for (SourceLoc loc : LabelSources(input, policy, rule)) report(loc, requirement.key);
        }
      }
    }
  }
  return ok;
}

// Named ports. Cilium resolves a named port of an ingress rule on the pod the
// policy selects (its own container ports), as Kubernetes does. In an egress
// rule it resolves the name through one cluster-wide map from port names to
// numbers, not through the destination pod's own ports: a name that two pods
// give different numbers is not resolved (cilium/cilium#24779, #30003), and a
// destination without a port of that name is still admitted on the number.
// (Address blocks hold no pod, so a name beside them in an ingress rule is
// exact: addresses outside the cluster have no named ports.)
// The module rule written at `loc` in `component`, if any.
const ir::Rule* SourceRule(const ir::Module& module, const std::string& component, SourceLoc loc) {
  std::optional<uint32_t> index = module.FindComponent(component);
  if (!index) return nullptr;
  for (const ir::Rule& rule : module.components[*index].rules) {
    if (rule.loc == loc) return &rule;
  }
  return nullptr;
}

bool CheckNamedPorts(const Input& input, const ir::Policy& policy, std::set<SourceLoc>& reported,
                     Pending& pending) {
  bool ok = true;
  auto report = [&](const ir::PolicyRule& rule, const std::string& message) {
    ok = false;
    // The source rules that wrote port names (rules merged into this one may
    // not have).
    std::vector<SourceLoc> at;
    for (SourceLoc loc : LabelSources(input, policy, rule)) {
      const ir::Rule* source = SourceRule(input.module, policy.component, loc);
      if (source == nullptr || !source->named_ports.empty()) at.push_back(loc);
    }
    if (at.empty()) at = LabelSources(input, policy, rule);
    for (SourceLoc loc : at) {
      if (reported.insert(loc).second) pending.emplace_back(loc, message);
    }
  };
  auto names = [](const ir::PolicyRule& rule) {
    std::string out;
    for (const ir::NamedPort& p : rule.named_ports) {
      if (!out.empty()) out += ", ";
      out += fmt::format("{} {}", ir::ProtocolName(p.protocol), p.name);
    }
    return out;
  };
  for (const ir::PolicyRule& rule : policy.egress) {
    if (rule.named_ports.empty()) continue;
    report(rule, fmt::format(
                     "the named port{} {} of an egress rule: Cilium resolves a port name in an "
                     "egress rule through one cluster-wide map of port names, not through the "
                     "destination pod's own container ports as Kubernetes does (a name that "
                     "pods number differently is not resolved, and pods without the name are "
                     "admitted on its number); write the port number instead",
                     rule.named_ports.size() == 1 ? "" : "s", names(rule)));
  }
  return ok;
}

// --- YAML ------------------------------------------------------------------

// The entries of a selector's map: matchLabels (the pod labels, then the
// namespace's), then matchExpressions (the requirements on pod labels, then
// on namespace labels through the identity labels
// io.cilium.k8s.namespace.labels.<key>, then `Exists` on the namespace label
// for "any namespace"). `peer` is null for the policy's endpointSelector.
void PodSelector(YamlEmitter& out, const std::vector<ir::Label>& pod_labels, const ir::Peer* peer) {
  const bool named = peer != nullptr && peer->ns_match == ir::NamespaceMatch::kNamed;
  const bool by_labels = peer != nullptr && peer->ns_match == ir::NamespaceMatch::kLabels;
  const bool any_namespace = peer != nullptr && peer->ns_match != ir::NamespaceMatch::kNamed;
  if (!pod_labels.empty() || named || (by_labels && !peer->ns_labels.empty())) {
    out.Map("matchLabels");
    for (const ir::Label& label : pod_labels) out.String(label.key, label.value);
    if (named) out.String(kNamespaceKey, peer->ns);
    if (by_labels) {
      for (const ir::Label& label : peer->ns_labels) {
        out.String(std::string(kNamespaceLabelPrefix) + label.key, label.value);
      }
    }
    out.End();
  }
  // Only a peer has requirements; every peer has one on the namespace label
  // unless it names its namespace.
  if (peer == nullptr || (!any_namespace && peer->pod_exprs.empty())) return;
  auto requirement = [&](std::string_view key, const ir::Requirement& r) {
    const bool listed = r.op == ir::Requirement::Op::kIn || r.op == ir::Requirement::Op::kNotIn;
    SelectorRequirement(out, key, ir::RequirementOpName(r.op), listed ? &r.values : nullptr);
  };
  out.Seq("matchExpressions");
  for (const ir::Requirement& r : peer->pod_exprs) requirement(r.key, r);
  if (by_labels) {
    for (const ir::Requirement& r : peer->ns_exprs) {
      requirement(std::string(kNamespaceLabelPrefix) + r.key, r);
    }
  }
  if (any_namespace) {
    out.ItemMap();
    out.String("key", kNamespaceKey);
    out.String("operator", "Exists");
    out.End();
  }
  out.End();
}

// Writes ports as the items of a toPorts list, in entries of at most
// kMaxPortsPerEntry ports; with `dns` each entry carries the DNS proxy rule.
// Finish closes the last entry.
class PortEntries {
 public:
  PortEntries(YamlEmitter& out, bool dns) : out_(out), dns_(dns) {}
  PortEntries(const PortEntries&) = delete;
  PortEntries& operator=(const PortEntries&) = delete;

  // A port number or range: `port` is a string, `endPort` a number.
  void Add(const ir::PortRange& range) {
    Next();
    out_.ItemMap();
    out_.String("port", std::to_string(range.first));
    if (range.last != range.first) out_.Number("endPort", range.last);
    out_.String("protocol", ir::ProtocolName(range.protocol));
    out_.End();
  }
  // A named port.
  void Add(const ir::NamedPort& port) {
    Next();
    out_.ItemMap();
    out_.String("port", port.name);
    out_.String("protocol", ir::ProtocolName(port.protocol));
    out_.End();
  }

  // Closes the open entry, if any.
  void Finish() {
    if (count_ == 0) return;
    out_.End();  // ports
    if (dns_) {
      out_.Map("rules");
      out_.Seq("dns");
      out_.ItemMap();
      out_.String("matchPattern", "*");
      out_.End();
      out_.End();
      out_.End();
    }
    out_.End();  // the entry
  }

 private:
  // Before a port: opens the first entry, or the next when the open one is
  // full.
  void Next() {
    if (count_ % kMaxPortsPerEntry == 0) {
      Finish();
      out_.ItemMap();
      out_.Seq("ports");
    }
    ++count_;
  }

  YamlEmitter& out_;
  const bool dns_;
  size_t count_ = 0;  // ports added
};

// A rule entry's toPorts: the single TCP and UDP ports of the DNS rule with
// the DNS proxy rule, then the other ports, then the named ports.
void ToPorts(YamlEmitter& out, const std::vector<ir::PortRange>& ranges, bool dns,
             const std::vector<ir::NamedPort>& named = {}) {
  auto l7 = [dns](const ir::PortRange& r) {
    return dns && r.first == r.last &&
           (r.protocol == ir::Protocol::kTcp || r.protocol == ir::Protocol::kUdp);
  };
  out.Seq("toPorts");
  PortEntries with_dns(out, true);
  for (const ir::PortRange& r : ranges) {
    if (l7(r)) with_dns.Add(r);
  }
  with_dns.Finish();
  PortEntries plain(out, false);
  for (const ir::PortRange& r : ranges) {
    if (!l7(r)) plain.Add(r);
  }
  for (const ir::NamedPort& p : named) plain.Add(p);
  plain.Finish();
  out.End();
}

// A block as CIDR-set entries. A /0 block is written as its two /1 halves:
// older agents read 0.0.0.0/0 and ::/0 as the whole `world` entity, of both
// address families.
std::vector<std::pair<std::string, std::vector<std::string>>> Halves(const ir::Peer& peer) {
  std::string error;
  std::optional<Cidr> cidr = ParseCidr(peer.cidr, error);
  if (!cidr || cidr->prefix != 0) return {{peer.cidr, peer.except}};
  std::pair<std::string, std::vector<std::string>> low{cidr->v6 ? "::/1" : "0.0.0.0/1", {}};
  std::pair<std::string, std::vector<std::string>> high{cidr->v6 ? "8000::/1" : "128.0.0.0/1", {}};
  for (const std::string& e : peer.except) {
    std::optional<Cidr> hole = ParseCidr(e, error);
    bool upper = hole && (hole->address[0] & 0x80) != 0;
    (upper ? high : low).second.push_back(e);
  }
  return {low, high};
}

struct Keys {
  const char* endpoints;
  const char* cidr_set;
  const char* entities;
};

// --- `world` ------------------------------------------------------------------

// Sorted, overlapping ranges of one protocol merged (adjacent ports are kept
// apart, as in the IR: no endPort the rules did not write).
using ir::NormalisePorts;

std::vector<ir::PortRange> Intersect(const std::vector<ir::PortRange>& a,
                                     const std::vector<ir::PortRange>& b) {
  std::vector<ir::PortRange> out;
  for (const ir::PortRange& x : a) {
    for (const ir::PortRange& y : b) {
      if (x.protocol != y.protocol) continue;
      uint16_t first = std::max(x.first, y.first), last = std::min(x.last, y.last);
      if (first <= last) out.push_back({x.protocol, first, last});
    }
  }
  return NormalisePorts(std::move(out));
}

// The ports of `a` outside `b`.
std::vector<ir::PortRange> Subtract(const std::vector<ir::PortRange>& a,
                                    const std::vector<ir::PortRange>& b) {
  std::vector<ir::PortRange> out;
  for (const ir::PortRange& x : a) {
    std::vector<ir::PortRange> pieces = {x};
    for (const ir::PortRange& y : b) {
      if (y.protocol != x.protocol) continue;
      std::vector<ir::PortRange> next;
      for (const ir::PortRange& piece : pieces) {
        if (y.last < piece.first || y.first > piece.last) {
          next.push_back(piece);
          continue;
        }
        if (y.first > piece.first) {
          next.push_back({x.protocol, piece.first, static_cast<uint16_t>(y.first - 1)});
        }
        if (y.last < piece.last) {
          next.push_back({x.protocol, static_cast<uint16_t>(y.last + 1), piece.last});
        }
      }
      pieces = std::move(next);
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }
  return NormalisePorts(std::move(out));
}

// A whole address family with no `except`: `external` is one of each.
bool WholeFamily(const ir::Peer& peer, bool v6) {
  return peer.kind == ir::Peer::Kind::kIpBlock && peer.except.empty() &&
         peer.cidr == (v6 ? "::/0" : "0.0.0.0/0");
}

bool HasPeer(const ir::PolicyRule& rule, bool v6) {
  return std::any_of(rule.peers.begin(), rule.peers.end(),
                     [&](const ir::Peer& p) { return WholeFamily(p, v6); });
}

// The ports on which a side admits every address of both families outside
// the cluster: the entity `world` there. The canonical IR may carry the two
// blocks of `external` in different rules (with different other ports), so
// this is computed over the whole side. The DNS rule is kept apart (its
// ports carry the DNS proxy rule).
std::vector<ir::PortRange> WorldPorts(const std::vector<ir::PolicyRule>& rules) {
  std::vector<ir::PortRange> v4, v6;
  for (const ir::PolicyRule& rule : rules) {
    bool all = std::any_of(rule.peers.begin(), rule.peers.end(), [](const ir::Peer& p) {
      return p.kind == ir::Peer::Kind::kAnywhere;
    });
    if (rule.dns || all) continue;  // a rule admitting everything is written `all`
    if (HasPeer(rule, false)) v4.insert(v4.end(), rule.ports.begin(), rule.ports.end());
    if (HasPeer(rule, true)) v6.insert(v6.end(), rule.ports.begin(), rule.ports.end());
  }
  return Intersect(NormalisePorts(std::move(v4)), NormalisePorts(std::move(v6)));
}

// The items of a CIDR set for one block.
void Blocks(YamlEmitter& out, const ir::Peer& peer) {
  for (const auto& [cidr, except] : Halves(peer)) {
    out.ItemMap();
    out.String("cidr", cidr);
    if (!except.empty()) {
      out.Seq("except");
      for (const std::string& e : except) out.ItemString(e);
      out.End();
    }
    out.End();
  }
}

// Which of the Cilium rules made from an IR rule (other than one admitting
// everything) writes a peer: endpoints, CIDR sets of blocks, or CIDR sets of
// whole families; none for the entity peers and for blocks of the DNS rule
// written as `world`.
enum class Part : uint8_t { kNone, kEndpoints, kBlocks, kFamilies };

Part PartOf(const ir::PolicyRule& rule, const ir::Peer& peer, bool dns_world) {
  if (peer.kind == ir::Peer::Kind::kPods) return Part::kEndpoints;
  if (peer.kind != ir::Peer::Kind::kIpBlock || dns_world) return Part::kNone;
  bool whole = !rule.dns && (WholeFamily(peer, false) || WholeFamily(peer, true));
  return whole ? Part::kFamilies : Part::kBlocks;
}

// The items of a side's list (`ingress` or `egress`, opened by the caller).
// Returns whether any was written.
bool AddRules(YamlEmitter& out, const std::vector<ir::PolicyRule>& rules, const Keys& keys) {
  const std::vector<ir::PortRange> world_ports = WorldPorts(rules);
  bool wrote = false;
  // Opens a rule entry and its peer list `key`; then come the peers, the
  // list's End, toPorts and the entry's End.
  auto open = [&](const char* key) {
    out.ItemMap();
    out.Seq(key);
    wrote = true;
  };
  for (const ir::PolicyRule& rule : rules) {
    bool all = std::any_of(rule.peers.begin(), rule.peers.end(), [](const ir::Peer& p) {
      return p.kind == ir::Peer::Kind::kAnywhere;
    });
    if (all) {
      // `anywhere` subsumes the rule's other peers.
      open(keys.entities);
      out.ItemString("all");
      out.End();
      ToPorts(out, rule.ports, rule.dns, rule.named_ports);
      out.End();
      continue;
    }
    // The DNS rule admitting both whole families is `world` on its ports.
    bool dns_world = rule.dns && HasPeer(rule, false) && HasPeer(rule, true);
    // Whole families are written as CIDR sets only off the `world` ports.
    std::vector<ir::PortRange> family_ports = Subtract(rule.ports, world_ports);
    auto has = [&](Part part) {
      return std::any_of(rule.peers.begin(), rule.peers.end(),
                         [&](const ir::Peer& p) { return PartOf(rule, p, dns_world) == part; });
    };
    if (has(Part::kEndpoints)) {
      open(keys.endpoints);
      for (const ir::Peer& peer : rule.peers) {
        if (PartOf(rule, peer, dns_world) != Part::kEndpoints) continue;
        out.ItemMap();
        PodSelector(out, peer.pod_labels, &peer);
        out.End();
      }
      out.End();
      ToPorts(out, rule.ports, rule.dns, rule.named_ports);
      out.End();
    }
    if (has(Part::kBlocks)) {
      open(keys.cidr_set);
      for (const ir::Peer& peer : rule.peers) {
        if (PartOf(rule, peer, dns_world) == Part::kBlocks) Blocks(out, peer);
      }
      out.End();
      ToPorts(out, rule.ports, rule.dns, rule.named_ports);
      out.End();
    }
    // `world` carries numbered ports only: the rule's named ports stay with
    // its whole-family CIDR sets.
    if (has(Part::kFamilies) && (!family_ports.empty() || !rule.named_ports.empty())) {
      open(keys.cidr_set);
      for (const ir::Peer& peer : rule.peers) {
        if (PartOf(rule, peer, dns_world) == Part::kFamilies) Blocks(out, peer);
      }
      out.End();
      ToPorts(out, family_ports, false, rule.named_ports);
      out.End();
    }
    if (dns_world) {
      open(keys.entities);
      out.ItemString("world");
      out.End();
      ToPorts(out, rule.ports, rule.dns);
      out.End();
    }
    if (std::vector<std::string> names = Entities(rule); !names.empty()) {
      open(keys.entities);
      for (const std::string& e : names) out.ItemString(e);
      out.End();
      ToPorts(out, rule.ports, rule.dns, rule.named_ports);
      out.End();
    }
  }
  if (!world_ports.empty()) {
    open(keys.entities);
    out.ItemString("world");
    out.End();
    ToPorts(out, world_ports, false);
    out.End();
  }
  return wrote;
}

void WriteDocument(const ir::Policy& policy, std::string& text) {
  text += "---\n";
  YamlEmitter out(text);
  PolicyDocument(out, "cilium.io/v2", "CiliumNetworkPolicy", policy.name, policy.ns);
  out.Map("spec");
  out.Map("endpointSelector");
  PodSelector(out, policy.selector, nullptr);
  out.End();
  // A side with no rule is written as one empty rule: default deny, admits
  // nothing.
  if (policy.isolate_ingress) {
    out.Seq("ingress");
    if (!AddRules(out, policy.ingress, {"fromEndpoints", "fromCIDRSet", "fromEntities"})) {
      out.ItemMap();
      out.End();
    }
    out.End();
  }
  if (policy.isolate_egress) {
    out.Seq("egress");
    if (!AddRules(out, policy.egress, {"toEndpoints", "toCIDRSet", "toEntities"})) {
      out.ItemMap();
      out.End();
    }
    out.End();
  }
  out.Finish();
}

class CiliumWriter : public PolicyWriter {
 public:
  CiliumWriter(const Input& input, size_t count) : input_(input), count_(count) {}

  void Write(std::span<const ir::Policy> policies, std::string& out) override {
    std::vector<const ir::Policy*> list;
    list.reserve(policies.size());
    for (const ir::Policy& policy : policies) {
      if (!policy.isolate_ingress && !policy.isolate_egress) continue;  // selects nothing
      ok_ = CheckLabels(input_, policy, reported_, pending_) && ok_;
      ok_ = CheckNamedPorts(input_, policy, reported_, pending_) && ok_;
      list.push_back(&policy);
    }
    // Once a policy cannot be written the output is not used.
    if (ok_) {
      size_t later = written_ == 0 && count_ > policies.size() ? count_ - policies.size() : 0;
      AppendDocuments(
          list.size(), out,
          [&](size_t index, std::string& text) { WriteDocument(*list[index], text); }, later);
    }
    written_ += policies.size();
  }

  bool Finish(std::string&, Diagnostics& diagnostics) override {
    if (ok_) return true;
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [loc, message] : pending_) {
      diagnostics.Emit(DiagnosticKind::kTargetCannotExpress, loc, kTarget, message);
    }
    return false;
  }

 private:
  const Input& input_;
  size_t count_;
  size_t written_ = 0;
  bool ok_ = true;
  std::set<SourceLoc> reported_;
  Pending pending_;
};

class CiliumBackend : public Backend {
 public:
  std::string_view name() const override { return kTarget; }
  std::string_view description() const override {
    return "CiliumNetworkPolicy (cilium.io/v2) YAML";
  }

  bool Render(const Input& input, std::string& out, Diagnostics& diagnostics) const override {
    return RenderWithWriter(*this, input, out, diagnostics);
  }

  std::unique_ptr<PolicyWriter> StartPolicies(const Input& input, size_t count,
                                              std::string& out) const override {
    out += "# Generated by netpolc from ";
    out += SourceNameForComment(input.source_name);
    out += ". Do not edit.\n";
    return std::make_unique<CiliumWriter>(input, count);
  }
};

}  // namespace

const Backend& Instance() {
  static const CiliumBackend backend;
  return backend;
}

}  // namespace netpolc::backends::cilium
