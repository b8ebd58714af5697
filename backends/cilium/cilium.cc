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
// - Entities: `all` is every endpoint in or outside the cluster (`anywhere`).
// - CIDR rules (`fromCIDRSet` / `toCIDRSet`) match only peers that are not
//   Cilium-managed endpoints: "CIDR-based selectors do not match in-cluster
//   entities (pods or nodes)" (layer3 "IP/CIDR based"). The IR's ipBlock,
//   like Kubernetes' ipBlock on most plugins and Calico's `nets`, also admits
//   the pods whose address is in the block. So a CIDR peer is exact only
//   where the same rules admit every pod anyway; where the blocks cover every
//   address of both families every pod is admitted too and a selector of all
//   pods is added; anywhere else the compiler reports an error at the rule.
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
//   policy's own pods, as in Kubernetes; egress rules and rules with address
//   peers cannot use them exactly (see CheckNamedPorts).
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
#include "compiler/k8s_names.h"

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

// --- Address sets ----------------------------------------------------------

using U128 = unsigned __int128;

struct Span {
  U128 lo = 0;
  U128 hi = 0;
};

struct AddressSet {
  std::vector<Span> v4, v6;
};

U128 MaxOf(bool v6) { return v6 ? ~U128{0} : U128{0xFFFFFFFFu}; }

std::optional<Span> SpanOf(const std::string& text, bool& v6) {
  std::string error;
  std::optional<Cidr> cidr = ParseCidr(text, error);
  if (!cidr) return std::nullopt;
  v6 = cidr->v6;
  int bits = v6 ? 128 : 32;
  U128 value = 0;
  for (int i = 0; i < bits / 8; ++i) value = (value << 8) | cidr->address[i];
  int host_bits = bits - cidr->prefix;
  U128 host = host_bits == 0 ? 0 : host_bits >= 128 ? ~U128{0} : ((U128{1} << host_bits) - 1);
  return Span{value & ~host, (value & ~host) | host};
}

// Adds the addresses of an ipBlock peer (cidr minus except) to `set`.
void AddBlock(const ir::Peer& peer, AddressSet& set) {
  bool v6 = false;
  std::optional<Span> whole = SpanOf(peer.cidr, v6);
  if (!whole) return;
  std::vector<Span> holes;
  for (const std::string& e : peer.except) {
    bool hole_v6 = false;
    if (std::optional<Span> hole = SpanOf(e, hole_v6); hole && hole_v6 == v6) holes.push_back(*hole);
  }
  std::sort(holes.begin(), holes.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  std::vector<Span>& out = v6 ? set.v6 : set.v4;
  U128 next = whole->lo;
  bool done = false;
  for (const Span& hole : holes) {
    if (done) break;
    if (hole.lo > next) out.push_back({next, hole.lo - 1});
    if (hole.hi >= whole->hi) {
      done = true;
    } else if (hole.hi + 1 > next) {
      next = hole.hi + 1;
    }
  }
  if (!done && next <= whole->hi) out.push_back({next, whole->hi});
}

bool CoversFamily(std::vector<Span> spans, U128 max) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  U128 next = 0;
  for (const Span& s : spans) {
    if (s.lo > next) return false;
    if (s.hi >= max) return true;
    if (s.hi + 1 > next) next = s.hi + 1;
  }
  return false;
}

bool CoversEverything(const AddressSet& set) {
  return CoversFamily(set.v4, MaxOf(false)) && CoversFamily(set.v6, MaxOf(true));
}

// --- Exactness ---------------------------------------------------------------

// Errors are collected, then reported in source order.
using Pending = std::vector<std::pair<SourceLoc, std::string>>;

struct RuleInfo {
  bool all = false;       // admits every endpoint: written as entity `all`
  bool all_pods = false;  // admits every pod through a pod peer
  bool has_blocks = false;
  AddressSet blocks;
};

RuleInfo Analyse(const ir::PolicyRule& rule) {
  RuleInfo info;
  for (const ir::Peer& peer : rule.peers) {
    switch (peer.kind) {
      case ir::Peer::Kind::kAnywhere:
        info.all = true;
        break;
      case ir::Peer::Kind::kPods:
        if (peer.pod_labels.empty() && peer.ns_match == ir::NamespaceMatch::kAny) {
          info.all_pods = true;
        }
        break;
      case ir::Peer::Kind::kIpBlock:
        info.has_blocks = true;
        AddBlock(peer, info.blocks);
        break;
    }
  }
  if (!info.all && info.has_blocks && CoversEverything(info.blocks)) info.all = true;
  return info;
}

// A port segment on which the set of rules that apply does not change.
struct Segment {
  ir::Protocol protocol;
  int first;
  int last;
};

bool Covers(const ir::PolicyRule& rule, ir::Protocol protocol, int port) {
  for (const ir::PortRange& r : rule.ports) {
    if (r.protocol == protocol && r.first <= port && port <= r.last) return true;
  }
  return false;
}

// The segments of every protocol, from the boundaries of every rule's ports.
std::vector<Segment> Segments(const std::vector<ir::PolicyRule>& rules) {
  std::map<ir::Protocol, std::set<int>> bounds;
  for (const ir::PolicyRule& rule : rules) {
    for (const ir::PortRange& r : rule.ports) {
      bounds[r.protocol].insert(r.first);
      bounds[r.protocol].insert(r.last + 1);
    }
  }
  std::vector<Segment> out;
  for (const auto& [protocol, points] : bounds) {
    std::vector<int> p(points.begin(), points.end());
    for (size_t i = 0; i + 1 < p.size(); ++i) out.push_back({protocol, p[i], p[i + 1] - 1});
  }
  return out;
}

std::string PortText(ir::Protocol protocol, int first, int last) {
  if (first == last) return fmt::format("{} {}", ir::ProtocolName(protocol), first);
  return fmt::format("{} {}-{}", ir::ProtocolName(protocol), first, last);
}

// The module rule written at `loc` in `component`, if any.
const ir::Rule* FindRule(const ir::Module& module, const std::string& component, SourceLoc loc) {
  std::optional<uint32_t> index = module.FindComponent(component);
  if (!index) return nullptr;
  for (const ir::Rule& rule : module.components[*index].rules) {
    if (rule.loc == loc) return &rule;
  }
  return nullptr;
}

bool WritesAddresses(const ir::PeerRef& peer, const ir::Config& config) {
  switch (peer.kind) {
    case ir::PeerRef::Kind::kExternal:
    case ir::PeerRef::Kind::kCidr:
      return true;
    case ir::PeerRef::Kind::kParam:
      if (peer.index >= config.params.size()) return false;
      for (const ir::PeerRef& inner : config.params[peer.index].peers) {
        if (inner.kind == ir::PeerRef::Kind::kExternal || inner.kind == ir::PeerRef::Kind::kCidr) {
          return true;
        }
      }
      return false;
    default:
      return false;
  }
}

// Where to report a problem with the address peers of `rule`: the source
// rules that wrote addresses, else every source, else the component.
std::vector<SourceLoc> AddressSources(const Input& input, const ir::Policy& policy,
                                      const ir::PolicyRule& rule) {
  std::vector<SourceLoc> out;
  if (rule.dns) {
    out.push_back(input.module.dns.loc.valid() ? input.module.dns.loc : policy.loc);
    return out;
  }
  for (SourceLoc loc : rule.sources) {
    const ir::Rule* source = FindRule(input.module, policy.component, loc);
    if (source == nullptr) continue;
    if (std::any_of(source->peers.begin(), source->peers.end(),
                    [&](const ir::PeerRef& p) { return WritesAddresses(p, input.config); })) {
      out.push_back(loc);
    }
  }
  if (out.empty()) out = rule.sources;
  if (out.empty()) out.push_back(policy.loc);
  return out;
}

std::vector<SourceLoc> LabelSources(const Input& input, const ir::Policy& policy,
                                    const ir::PolicyRule& rule) {
  if (rule.dns) return {input.module.dns.loc.valid() ? input.module.dns.loc : policy.loc};
  if (rule.sources.empty()) return {policy.loc};
  return rule.sources;
}

std::string BlockList(const ir::PolicyRule& rule) {
  std::string out;
  for (const ir::Peer& peer : rule.peers) {
    if (peer.kind != ir::Peer::Kind::kIpBlock) continue;
    if (!out.empty()) out += ", ";
    out += peer.cidr;
    for (const std::string& e : peer.except) out += " except " + e;
  }
  return out;
}

// Checks one side of a policy. Fills `extra_all_pods` with the port segments
// on which a selector of every pod must be added; reports what cannot be
// expressed. Returns false after reporting.
bool CheckSide(const Input& input, const ir::Policy& policy,
               const std::vector<ir::PolicyRule>& rules, const std::vector<RuleInfo>& infos,
               std::vector<Segment>& extra_all_pods, std::set<SourceLoc>& reported,
               Pending& pending) {
  bool ok = true;
  std::vector<bool> bad(rules.size(), false);
  std::vector<std::string> bad_port(rules.size());
  // Only rules with address peers, or admitting every pod, matter here; most
  // sides have no address peer and cost nothing more.
  std::vector<size_t> relevant;
  std::vector<ir::PolicyRule> relevant_rules;
  bool any_blocks = false;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (infos[i].has_blocks && !infos[i].all) any_blocks = true;
    if (infos[i].has_blocks || infos[i].all || infos[i].all_pods) {
      relevant.push_back(i);
      relevant_rules.push_back(rules[i]);
    }
  }
  if (!any_blocks) return true;
  for (const Segment& seg : Segments(relevant_rules)) {
    bool any = false, covered = false;
    AddressSet blocks;
    std::vector<size_t> with_blocks;
    for (size_t i : relevant) {
      if (!Covers(rules[i], seg.protocol, seg.first)) continue;
      any = true;
      if (infos[i].all || infos[i].all_pods) covered = true;
      if (!infos[i].all && infos[i].has_blocks) {
        with_blocks.push_back(i);
        blocks.v4.insert(blocks.v4.end(), infos[i].blocks.v4.begin(), infos[i].blocks.v4.end());
        blocks.v6.insert(blocks.v6.end(), infos[i].blocks.v6.begin(), infos[i].blocks.v6.end());
      }
    }
    if (!any || covered || with_blocks.empty()) continue;
    if (CoversEverything(blocks)) {
      extra_all_pods.push_back(seg);
      continue;
    }
    for (size_t i : with_blocks) {
      if (!bad[i]) bad_port[i] = PortText(seg.protocol, seg.first, seg.last);
      bad[i] = true;
    }
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!bad[i]) continue;
    ok = false;
    size_t blocks = std::count_if(rules[i].peers.begin(), rules[i].peers.end(),
                                  [](const ir::Peer& p) { return p.kind == ir::Peer::Kind::kIpBlock; });
    std::string message = fmt::format(
        "on {} in the policy of component '{}', the address peer{} {} also admit{} the pods whose "
        "address is in {}, as Kubernetes' ipBlock (on most network plugins) and Calico's nets do, "
        "but Cilium's CIDR rules never match pods; add a peer of every pod on these ports "
        "(`pods {{}} in any namespace`) or admit every address (`external`)",
        bad_port[i], policy.component, blocks == 1 ? "" : "s", BlockList(rules[i]),
        blocks == 1 ? "s" : "", blocks == 1 ? "it" : "them");
    for (SourceLoc loc : AddressSources(input, policy, rules[i])) {
      if (reported.insert(loc).second) pending.emplace_back(loc, message);
    }
  }
  return ok;
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
// Address peers (CIDR rules) do not match pods, whose ports the name refers to.
bool CheckNamedPorts(const Input& input, const ir::Policy& policy, std::set<SourceLoc>& reported,
                     Pending& pending) {
  bool ok = true;
  auto report = [&](const ir::PolicyRule& rule, const std::string& message) {
    ok = false;
    // The source rules that wrote port names (rules merged into this one may
    // not have).
    std::vector<SourceLoc> at;
    for (SourceLoc loc : LabelSources(input, policy, rule)) {
      const ir::Rule* source = FindRule(input.module, policy.component, loc);
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
  for (const ir::PolicyRule& rule : policy.ingress) {
    if (rule.named_ports.empty()) continue;
    RuleInfo info = Analyse(rule);
    // With every endpoint (entity all) or every pod beside the blocks, the
    // pods are admitted on the names anyway; addresses outside the cluster
    // have no named ports.
    if (!info.has_blocks || info.all || info.all_pods) continue;
    report(rule, fmt::format(
                     "the named port{} {} beside the address peers {}: Cilium's CIDR rules never "
                     "match pods, while the IR admits the pods whose address is in the blocks on "
                     "the port of that name; give the address peers numbered ports in a rule of "
                     "their own",
                     rule.named_ports.size() == 1 ? "" : "s", names(rule), BlockList(rule)));
  }
  return ok;
}

// --- YAML ------------------------------------------------------------------

YamlNode PodSelector(const std::vector<ir::Label>& pod_labels, const ir::Peer* peer) {
  YamlNode selector = YamlNode::Map();
  YamlNode labels = YamlNode::Map();
  for (const ir::Label& label : pod_labels) labels.Add(label.key, YamlNode::String(label.value));
  bool any_namespace = false;
  if (peer != nullptr) {
    switch (peer->ns_match) {
      case ir::NamespaceMatch::kNamed:
        labels.Add(kNamespaceKey, YamlNode::String(peer->ns));
        break;
      case ir::NamespaceMatch::kAny:
        any_namespace = true;
        break;
      case ir::NamespaceMatch::kLabels:
        for (const ir::Label& label : peer->ns_labels) {
          labels.Add(std::string(kNamespaceLabelPrefix) + label.key, YamlNode::String(label.value));
        }
        any_namespace = true;
        break;
    }
  }
  if (!labels.empty()) selector.Add("matchLabels", std::move(labels));
  // Requirements on pod labels, then on namespace labels (through the
  // identity labels io.cilium.k8s.namespace.labels.<key>).
  std::vector<std::pair<std::string, const ir::Requirement*>> requirements;
  if (peer != nullptr) {
    for (const ir::Requirement& r : peer->pod_exprs) requirements.emplace_back(r.key, &r);
    if (peer->ns_match == ir::NamespaceMatch::kLabels) {
      for (const ir::Requirement& r : peer->ns_exprs) {
        requirements.emplace_back(std::string(kNamespaceLabelPrefix) + r.key, &r);
      }
    }
  }
  if (any_namespace || !requirements.empty()) {
    YamlNode& expressions = selector.Add("matchExpressions", YamlNode::Seq());
    for (const auto& [key, r] : requirements) {
      YamlNode& node = expressions.Push(YamlNode::Map());
      node.Add("key", YamlNode::String(key));
      node.Add("operator", YamlNode::String(ir::RequirementOpName(r->op)));
      if (r->op == ir::Requirement::Op::kIn || r->op == ir::Requirement::Op::kNotIn) {
        YamlNode& values = node.Add("values", YamlNode::Seq());
        for (const std::string& v : r->values) values.Push(YamlNode::String(v));
      }
    }
    if (any_namespace) {
      YamlNode& requirement = expressions.Push(YamlNode::Map());
      requirement.Add("key", YamlNode::String(kNamespaceKey));
      requirement.Add("operator", YamlNode::String("Exists"));
    }
  }
  return selector;
}

YamlNode AllPodsSelector() {
  ir::Peer all;
  all.kind = ir::Peer::Kind::kPods;
  all.ns_match = ir::NamespaceMatch::kAny;
  return PodSelector({}, &all);
}

YamlNode PortNode(ir::Protocol protocol, int first, int last) {
  YamlNode port = YamlNode::Map();
  port.Add("port", YamlNode::String(std::to_string(first)));
  if (last != first) port.Add("endPort", YamlNode::Number(last));
  port.Add("protocol", YamlNode::String(ir::ProtocolName(protocol)));
  return port;
}

void AddPortEntries(YamlNode& to_ports, const std::vector<YamlNode>& ports, bool dns) {
  for (size_t start = 0; start < ports.size(); start += kMaxPortsPerEntry) {
    YamlNode& entry = to_ports.Push(YamlNode::Map());
    YamlNode& list = entry.Add("ports", YamlNode::Seq());
    for (size_t i = start; i < ports.size() && i < start + kMaxPortsPerEntry; ++i) {
      list.Push(ports[i]);
    }
    if (dns) {
      YamlNode& rules = entry.Add("rules", YamlNode::Map());
      YamlNode& patterns = rules.Add("dns", YamlNode::Seq());
      patterns.Push(YamlNode::Map()).Add("matchPattern", YamlNode::String("*"));
    }
  }
}

YamlNode ToPorts(const std::vector<ir::PortRange>& ranges, bool dns,
                 const std::vector<ir::NamedPort>& named = {}) {
  std::vector<YamlNode> with_dns, plain;
  for (const ir::PortRange& r : ranges) {
    bool l7 = dns && r.first == r.last &&
              (r.protocol == ir::Protocol::kTcp || r.protocol == ir::Protocol::kUdp);
    (l7 ? with_dns : plain).push_back(PortNode(r.protocol, r.first, r.last));
  }
  for (const ir::NamedPort& p : named) {
    YamlNode port = YamlNode::Map();
    port.Add("port", YamlNode::String(p.name));
    port.Add("protocol", YamlNode::String(ir::ProtocolName(p.protocol)));
    plain.push_back(std::move(port));
  }
  YamlNode to_ports = YamlNode::Seq();
  AddPortEntries(to_ports, with_dns, true);
  AddPortEntries(to_ports, plain, false);
  return to_ports;
}

std::vector<ir::PortRange> RangesOf(const std::vector<Segment>& segments) {
  std::vector<ir::PortRange> out;
  for (const Segment& s : segments) {
    if (!out.empty() && out.back().protocol == s.protocol && out.back().last + 1 == s.first) {
      out.back().last = static_cast<uint16_t>(s.last);
    } else {
      out.push_back({s.protocol, static_cast<uint16_t>(s.first), static_cast<uint16_t>(s.last)});
    }
  }
  return out;
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

void AddRules(YamlNode& side, const std::vector<ir::PolicyRule>& rules,
              const std::vector<RuleInfo>& infos, const std::vector<Segment>& extra_all_pods,
              const Keys& keys) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const ir::PolicyRule& rule = rules[i];
    if (infos[i].all) {
      YamlNode& node = side.Push(YamlNode::Map());
      node.Add(keys.entities, YamlNode::Seq()).Push(YamlNode::String("all"));
      node.Add("toPorts", ToPorts(rule.ports, rule.dns, rule.named_ports));
      continue;
    }
    YamlNode endpoints = YamlNode::Seq();
    YamlNode blocks = YamlNode::Seq();
    for (const ir::Peer& peer : rule.peers) {
      if (peer.kind == ir::Peer::Kind::kPods) {
        endpoints.Push(PodSelector(peer.pod_labels, &peer));
      } else if (peer.kind == ir::Peer::Kind::kIpBlock) {
        for (const auto& [cidr, except] : Halves(peer)) {
          YamlNode& block = blocks.Push(YamlNode::Map());
          block.Add("cidr", YamlNode::String(cidr));
          if (!except.empty()) {
            YamlNode& list = block.Add("except", YamlNode::Seq());
            for (const std::string& e : except) list.Push(YamlNode::String(e));
          }
        }
      }
    }
    if (!endpoints.empty()) {
      YamlNode& node = side.Push(YamlNode::Map());
      node.Add(keys.endpoints, std::move(endpoints));
      node.Add("toPorts", ToPorts(rule.ports, rule.dns, rule.named_ports));
    }
    if (!blocks.empty()) {
      YamlNode& node = side.Push(YamlNode::Map());
      node.Add(keys.cidr_set, std::move(blocks));
      node.Add("toPorts", ToPorts(rule.ports, rule.dns, rule.named_ports));
    }
  }
  if (!extra_all_pods.empty()) {
    // The address peers cover every address, so they admit every pod too.
    YamlNode& node = side.Push(YamlNode::Map());
    node.Add(keys.endpoints, YamlNode::Seq()).Push(AllPodsSelector());
    node.Add("toPorts", ToPorts(RangesOf(extra_all_pods), false));
  }
}

class CiliumBackend : public Backend {
 public:
  std::string_view name() const override { return kTarget; }
  std::string_view description() const override {
    return "CiliumNetworkPolicy (cilium.io/v2) YAML";
  }

  bool Render(const Input& input, std::string& out, Diagnostics& diagnostics) const override {
    bool ok = true;
    std::string body;
    std::set<SourceLoc> reported;
    Pending pending;
    for (const ir::Policy& policy : input.policies->policies) {
      if (!policy.isolate_ingress && !policy.isolate_egress) continue;  // selects nothing
      ok = CheckLabels(input, policy, reported, pending) && ok;
      ok = CheckNamedPorts(input, policy, reported, pending) && ok;
      std::vector<RuleInfo> in_infos, out_infos;
      for (const ir::PolicyRule& r : policy.ingress) in_infos.push_back(Analyse(r));
      for (const ir::PolicyRule& r : policy.egress) out_infos.push_back(Analyse(r));
      std::vector<Segment> in_extra, out_extra;
      ok = CheckSide(input, policy, policy.ingress, in_infos, in_extra, reported, pending) && ok;
      ok = CheckSide(input, policy, policy.egress, out_infos, out_extra, reported, pending) && ok;
      if (!ok) continue;

      YamlNode doc = YamlNode::Map();
      doc.Add("apiVersion", YamlNode::String("cilium.io/v2"));
      doc.Add("kind", YamlNode::String("CiliumNetworkPolicy"));
      YamlNode& metadata = doc.Add("metadata", YamlNode::Map());
      metadata.Add("name", YamlNode::String(policy.name));
      metadata.Add("namespace", YamlNode::String(policy.ns));
      YamlNode& labels = metadata.Add("labels", YamlNode::Map());
      labels.Add("app.kubernetes.io/managed-by", YamlNode::String("netpolc"));
      YamlNode& spec = doc.Add("spec", YamlNode::Map());
      spec.Add("endpointSelector", PodSelector(policy.selector, nullptr));
      if (policy.isolate_ingress) {
        YamlNode& ingress = spec.Add("ingress", YamlNode::Seq());
        AddRules(ingress, policy.ingress, in_infos, in_extra,
                 {"fromEndpoints", "fromCIDRSet", "fromEntities"});
        if (ingress.empty()) ingress.Push(YamlNode::Map());  // default deny, admits nothing
      }
      if (policy.isolate_egress) {
        YamlNode& egress = spec.Add("egress", YamlNode::Seq());
        AddRules(egress, policy.egress, out_infos, out_extra,
                 {"toEndpoints", "toCIDRSet", "toEntities"});
        if (egress.empty()) egress.Push(YamlNode::Map());
      }
      body += "---\n";
      doc.Write(body);
    }
    if (!ok) {
      std::stable_sort(pending.begin(), pending.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [loc, message] : pending) {
        diagnostics.Emit(DiagnosticKind::kTargetCannotExpress, loc, kTarget, message);
      }
      return false;
    }
    out += "# Generated by netpolc from ";
    out += SourceNameForComment(input.source_name);
    out += ". Do not edit.\n";
    out += body;
    return true;
  }
};

}  // namespace

const Backend& Instance() {
  static const CiliumBackend backend;
  return backend;
}

}  // namespace netpolc::backends::cilium
