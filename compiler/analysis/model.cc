#include "compiler/analysis/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>

#include "compiler/parallel.h"
#include "compiler/semantics/k8s_names.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc::analysis {
namespace {

using ir::PeerRef;

constexpr const char* kMetadataName = "kubernetes.io/metadata.name";

std::string LabelsText(const std::vector<ir::Label>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].key + "=" + labels[i].value;
  }
  return out + "}";
}

// Labels and requirements: "{app=x, tier in (a, b), debug notin (1), !y, z}".
std::string SelectorText(const std::vector<ir::Label>& labels,
                         const std::vector<ir::Requirement>& requirements) {
  std::string out = LabelsText(labels);
  if (requirements.empty()) return out;
  out.pop_back();
  for (size_t i = 0; i < requirements.size(); ++i) {
    const ir::Requirement& r = requirements[i];
    if (!labels.empty() || i > 0) out += ", ";
    switch (r.op) {
      case ir::Requirement::Op::kIn:
      case ir::Requirement::Op::kNotIn: {
        out += r.key + (r.op == ir::Requirement::Op::kIn ? " in (" : " notin (");
        for (size_t v = 0; v < r.values.size(); ++v) out += (v > 0 ? ", " : "") + r.values[v];
        out += ")";
        break;
      }
      case ir::Requirement::Op::kExists:
        out += r.key;
        break;
      case ir::Requirement::Op::kDoesNotExist:
        out += "!" + r.key;
        break;
    }
  }
  return out + "}";
}

std::optional<Cidr> ParseBlock(const std::string& text) {
  std::string error;
  return ParseCidr(text, error);
}

std::optional<Cidr> AddressBlock(const std::string& ip) {
  return ParseBlock(ip + (ip.find(':') != std::string::npos ? "/128" : "/32"));
}

bool BlockContains(const Cidr& outer, const Cidr& inner) {
  if (outer.v6 != inner.v6 || outer.prefix > inner.prefix) return false;
  for (int bit = 0; bit < outer.prefix; ++bit) {
    int byte = bit / 8, shift = 7 - bit % 8;
    if (((outer.address[byte] >> shift) & 1) != ((inner.address[byte] >> shift) & 1)) return false;
  }
  return true;
}

bool BlocksOverlap(const Cidr& a, const Cidr& b) {
  return BlockContains(a, b) || BlockContains(b, a);
}

// The namespace labels a pod peer requires, read as a namespace name when
// they are exactly {kubernetes.io/metadata.name: X}.
std::optional<std::string> NamedByLabels(const std::vector<ir::Label>& labels) {
  if (labels.size() == 1 && labels[0].key == kMetadataName) return labels[0].value;
  return std::nullopt;
}

}  // namespace

std::string PortsText(const std::vector<ir::PortRange>& ports) {
  std::string out;
  auto number = [&](uint16_t n) {
    char digits[8];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
  };
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i > 0) out += ", ";
    out += ir::ProtocolName(ports[i].protocol);
    out += ' ';
    number(ports[i].first);
    if (ports[i].last != ports[i].first) {
      out += '-';
      number(ports[i].last);
    }
  }
  return out;
}

bool PortsInclude(const std::vector<ir::PortRange>& outer,
                  const std::vector<ir::PortRange>& inner) {
  for (const ir::PortRange& r : inner) {
    uint32_t pos = r.first;
    while (pos <= r.last) {
      auto it = std::find_if(outer.begin(), outer.end(), [&](const ir::PortRange& o) {
        return o.protocol == r.protocol && o.first <= pos && pos <= o.last;
      });
      if (it == outer.end()) return false;
      pos = static_cast<uint32_t>(it->last) + 1;
    }
  }
  return true;
}

bool PortsOverlap(const std::vector<ir::PortRange>& a, const std::vector<ir::PortRange>& b) {
  for (const ir::PortRange& x : a) {
    for (const ir::PortRange& y : b) {
      if (x.protocol == y.protocol && std::max(x.first, y.first) <= std::min(x.last, y.last)) {
        return true;
      }
    }
  }
  return false;
}

std::vector<ir::PortRange> PortsIntersect(const std::vector<ir::PortRange>& a,
                                          const std::vector<ir::PortRange>& b) {
  std::vector<ir::PortRange> out;
  for (const ir::PortRange& x : a) {
    for (const ir::PortRange& y : b) {
      if (x.protocol != y.protocol) continue;
      uint16_t first = std::max(x.first, y.first), last = std::min(x.last, y.last);
      if (first <= last) out.push_back({x.protocol, first, last});
    }
  }
  std::sort(out.begin(), out.end());
  std::vector<ir::PortRange> merged;
  for (const ir::PortRange& r : out) {
    if (!merged.empty() && merged.back().protocol == r.protocol &&
        static_cast<uint32_t>(merged.back().last) + 1 >= r.first) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::string PeerText(const ir::Peer& peer) {
  switch (peer.kind) {
    case ir::Peer::Kind::kAnywhere:
      return "anywhere";
    case ir::Peer::Kind::kIpBlock: {
      std::string out = "cidr " + peer.cidr;
      for (size_t i = 0; i < peer.except.size(); ++i) {
        out += (i == 0 ? " except " : ", ") + peer.except[i];
      }
      return out;
    }
    case ir::Peer::Kind::kPods: {
      std::string out = "pods " + SelectorText(peer.pod_labels, peer.pod_exprs);
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          return out + " in namespace " + peer.ns;
        case ir::NamespaceMatch::kAny:
          return out + " in any namespace";
        case ir::NamespaceMatch::kLabels:
          return out + " in namespaces " + SelectorText(peer.ns_labels, peer.ns_exprs);
      }
      return out;
    }
    case ir::Peer::Kind::kKubeApiserver:
      return "kube_apiserver";
    case ir::Peer::Kind::kNodes:
      return "nodes";
  }
  return {};
}

bool PeerCovers(const ir::Peer& outer, const ir::Peer& inner) {
  if (outer.kind == ir::Peer::Kind::kAnywhere) return true;
  if (inner.kind == ir::Peer::Kind::kAnywhere || outer.kind != inner.kind) return false;
  if (outer.kind == ir::Peer::Kind::kKubeApiserver || outer.kind == ir::Peer::Kind::kNodes) {
    return true;  // the same entity
  }
  if (outer.kind == ir::Peer::Kind::kIpBlock) {
    std::optional<Cidr> o = ParseBlock(outer.cidr), i = ParseBlock(inner.cidr);
    if (!o || !i || !BlockContains(*o, *i)) return false;
    // Every block outer leaves out must be disjoint from inner, or left out
    // by inner too.
    for (const std::string& e : outer.except) {
      std::optional<Cidr> hole = ParseBlock(e);
      if (!hole) return false;
      if (!BlocksOverlap(*hole, *i)) continue;
      bool excluded = std::any_of(inner.except.begin(), inner.except.end(), [&](const std::string& x) {
        std::optional<Cidr> inner_hole = ParseBlock(x);
        return inner_hole && BlockContains(*inner_hole, *hole);
      });
      if (!excluded) return false;
    }
    return true;
  }
  // Pods: fewer required labels select more pods. Requirements: those of
  // `outer` must be among those of `inner` (sound, not complete).
  if (!std::includes(inner.pod_labels.begin(), inner.pod_labels.end(), outer.pod_labels.begin(),
                     outer.pod_labels.end()) ||
      !std::includes(inner.pod_exprs.begin(), inner.pod_exprs.end(), outer.pod_exprs.begin(),
                     outer.pod_exprs.end())) {
    return false;
  }
  if (outer.ns_match == ir::NamespaceMatch::kLabels && !outer.ns_exprs.empty() &&
      (inner.ns_match != ir::NamespaceMatch::kLabels ||
       !std::includes(inner.ns_exprs.begin(), inner.ns_exprs.end(), outer.ns_exprs.begin(),
                      outer.ns_exprs.end()))) {
    return false;
  }
  switch (outer.ns_match) {
    case ir::NamespaceMatch::kAny:
      return true;
    case ir::NamespaceMatch::kNamed:
      if (inner.ns_match == ir::NamespaceMatch::kNamed) return inner.ns == outer.ns;
      if (inner.ns_match == ir::NamespaceMatch::kLabels) {
        std::optional<std::string> name = NamedByLabels(inner.ns_labels);
        return name && *name == outer.ns;
      }
      return false;
    case ir::NamespaceMatch::kLabels:
      if (inner.ns_match == ir::NamespaceMatch::kLabels) {
        return std::includes(inner.ns_labels.begin(), inner.ns_labels.end(),
                             outer.ns_labels.begin(), outer.ns_labels.end());
      }
      if (inner.ns_match == ir::NamespaceMatch::kNamed) {
        return std::all_of(outer.ns_labels.begin(), outer.ns_labels.end(), [&](const ir::Label& l) {
          return l.key == kMetadataName && l.value == inner.ns;
        });
      }
      return outer.ns_labels.empty();
  }
  return false;
}

std::vector<uint32_t> FlagOrder(const ir::Module& module) {
  std::vector<uint32_t> order;
  std::vector<bool> placed(module.flags.size());
  auto visit = [&](const ir::Condition& condition) {
    // Nodes are stored operands first, so flags come left to right.
    for (const ir::Condition::Node& node : condition.nodes) {
      if (node.op == ir::Condition::Op::kFlag && node.flag < placed.size() && !placed[node.flag]) {
        placed[node.flag] = true;
        order.push_back(node.flag);
      }
    }
  };
  for (const ir::Component& c : module.components) {
    visit(c.when);
    for (const ir::Rule& r : c.rules) visit(r.when);
  }
  for (uint32_t i = 0; i < module.flags.size(); ++i) {
    if (!placed[i]) order.push_back(i);
  }
  return order;
}

std::vector<Ref> Model::BindFlags(const ir::Module& module, const ir::Config& config,
                                  const std::vector<bool>& fixed, Bdd& bdd) {
  std::vector<Ref> refs(module.flags.size(), Bdd::kFalse);
  for (uint32_t i : FlagOrder(module)) {
    if (i < fixed.size() && fixed[i]) {
      refs[i] = bdd.Constant(i < config.flags.size() && config.flags[i]);
    } else {
      refs[i] = bdd.Var(bdd.NewVar(module.flags[i].name, i));
    }
  }
  return refs;
}

std::vector<bool> Model::VarAssignment(const std::vector<bool>& flag_values) const {
  std::vector<bool> out(bdd_.var_count());
  for (size_t i = 0; i < flag_refs_.size() && i < flag_values.size(); ++i) {
    if (flag_refs_[i] > Bdd::kTrue) out.at(bdd_.TopVar(flag_refs_[i])) = flag_values[i];
  }
  return out;
}

namespace {

// Components per job when the model's parts are made on the thread pool.
constexpr size_t kComponentsPerJob = 128;

}  // namespace

Model::Facts::Facts(const ir::Module& module, const ir::Config& config)
    : resolver(module, config), pod_networks(PodNetworks(module, config)) {}

Model::Model(const Model& base, Bdd& bdd)
    : module_(base.module_),
      config_(base.config_),
      bdd_(bdd),
      flag_refs_(base.flag_refs_),
      facts_(base.facts_),
      f_(*facts_) {}

void Model::Free() {
  DestroyInParallel(f_.rules);
  DestroyInParallel(f_.ingress_index);
  DestroyInParallel(f_.egress_index);
  DestroyInParallel(f_.component_peers);
  admits_cache_ = {};
}

Model::Model(const ir::Module& module, const ir::Config& config, Bdd& bdd,
             std::vector<Ref> flag_refs)
    : module_(module),
      config_(config),
      bdd_(bdd),
      flag_refs_(std::move(flag_refs)),
      facts_(std::make_shared<Facts>(module, config)),
      f_(*facts_) {
  size_t n = module_.components.size();
  f_.enabled.resize(n);
  f_.ingress_of.resize(n);
  f_.egress_of.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const ir::Component& c = module_.components[i];
    f_.enabled[i] = ConditionRefAt(c.when, c.loc);
    f_.ingress_isolation.push_back(
        ConditionRefAt(ir::SideCondition(c, ir::Direction::kIngress), c.loc));
    f_.egress_isolation.push_back(ConditionRefAt(ir::SideCondition(c, ir::Direction::kEgress), c.loc));
    for (const ir::Label& label : f_.resolver.Selector(i)) f_.label_index[label].push_back(i);
  }
  ComputeCovering();
  f_.component_peers.resize(n);
  f_.label_bits.resize(n);
  // What does not take the BDD is worked out on the thread pool, a range of
  // components per job: the components' peers here, the rules' ports and
  // peers and the indexes below. Conditions are added in one pass, in order.
  ParallelForRanges(n, kComponentsPerJob, [&](uint32_t i) {
    PeerRef ref;
    ref.kind = PeerRef::Kind::kComponent;
    ref.index = i;
    f_.resolver.AppendPeers(ref, f_.component_peers[i]);
    for (const ir::Label& label : f_.resolver.Selector(i)) {
      size_t h = std::hash<std::string>{}(label.key) * 31 + std::hash<std::string>{}(label.value);
      f_.label_bits[i] |= uint64_t{1} << (h % 64);
    }
  });
  // Rule ids in component order: component i's rules from first_rule[i].
  std::vector<uint32_t> first_rule(n + 1);
  for (uint32_t i = 0; i < n; ++i) {
    first_rule[i + 1] = first_rule[i] + static_cast<uint32_t>(module_.components[i].rules.size());
  }
  f_.rules.reserve(first_rule[n] + 1);  // and the DNS rule's
  f_.rules.resize(first_rule[n]);
  ParallelForRanges(n, kComponentsPerJob, [&](uint32_t i) {
    const ir::Component& c = module_.components[i];
    for (uint32_t r = 0; r < c.rules.size(); ++r) {
      const ir::Rule& rule = c.rules[r];
      RuleInfo& info = f_.rules[first_rule[i] + r];
      info.component = i;
      info.index = r;
      info.direction = rule.direction;
      info.ports = rule.ports;
      // Ports from parameters, as instantiation resolves them (a value that
      // is missing or out of range was reported when the input was loaded).
      for (const ir::PortRef& ref : rule.port_refs) {
        if (std::optional<ir::PortRange> range = f_.resolver.Port(ref)) info.ports.push_back(*range);
      }
      if (!rule.port_refs.empty()) {
        // Sorted, overlapping ranges merged, as in the policies.
        info.ports = ir::NormalisePorts(std::move(info.ports));
      }
      info.named_ports = rule.named_ports;
      info.loc = rule.loc;
      for (const PeerRef& peer : rule.peers) Expand(peer, peer.loc, std::nullopt, 0, info.terms);
      (rule.direction == ir::Direction::kIngress ? f_.ingress_of : f_.egress_of)[i].push_back(
          first_rule[i] + r);
    }
  });
  for (uint32_t i = 0; i < n; ++i) {
    const ir::Component& c = module_.components[i];
    for (uint32_t r = 0; r < c.rules.size(); ++r) {
      const ir::Rule& rule = c.rules[r];
      RuleInfo& info = f_.rules[first_rule[i] + r];
      info.when = ConditionRefAt(rule.when, rule.loc);
      try {
        info.active = bdd_.And(f_.enabled[i], info.when);
      } catch (const Bdd::TooComplex& e) {
        throw ConditionTooComplex{rule.when.loc.valid() ? rule.when.loc : rule.loc, e.what()};
      }
    }
  }
  if (module_.dns.enabled && !module_.dns.ports.empty()) {
    RuleInfo info;
    info.dns = true;
    info.direction = ir::Direction::kEgress;
    info.ports = module_.dns.ports;
    for (const ir::PortRef& ref : module_.dns.port_refs) {
      if (std::optional<ir::PortRange> range = f_.resolver.Port(ref)) info.ports.push_back(*range);
    }
    info.named_ports = module_.dns.named_ports;
    std::sort(info.ports.begin(), info.ports.end());
    info.loc = module_.dns.loc;
    for (const PeerRef& peer : module_.dns.peers) Expand(peer, peer.loc, std::nullopt, 0, info.terms);
    // After the components' rules; in neither list of rules by component.
    f_.dns_rule = static_cast<uint32_t>(f_.rules.size());
    f_.rules.push_back(std::move(info));
  }
  f_.ingress_index.resize(n);
  f_.egress_index.resize(n);
  ParallelForRanges(n, kComponentsPerJob, [&](uint32_t i) {
    f_.ingress_index[i] = BuildIndex(f_.rules, f_.ingress_of[i]);
    f_.egress_index[i] = BuildIndex(f_.rules, f_.egress_of[i]);
  });
}

Ref Model::ConditionRefAt(const ir::Condition& condition, SourceLoc fallback) const {
  try {
    return ConditionRef(condition);
  } catch (const Bdd::TooComplex& e) {
    throw ConditionTooComplex{condition.loc.valid() ? condition.loc : fallback, e.what()};
  }
}

Ref Model::ConditionRef(const ir::Condition& condition) const {
  if (condition.always()) return Bdd::kTrue;
  std::vector<Ref> values(condition.nodes.size());
  for (size_t i = 0; i < condition.nodes.size(); ++i) {
    const ir::Condition::Node& node = condition.nodes[i];
    switch (node.op) {
      case ir::Condition::Op::kTrue:
        values[i] = Bdd::kTrue;
        break;
      case ir::Condition::Op::kFalse:
        values[i] = Bdd::kFalse;
        break;
      case ir::Condition::Op::kFlag:
        values[i] = node.flag < flag_refs_.size() ? flag_refs_[node.flag] : Bdd::kFalse;
        break;
      case ir::Condition::Op::kNot:
        values[i] = bdd_.Not(values[node.operands.at(0)]);
        break;
      case ir::Condition::Op::kAnd:
      case ir::Condition::Op::kOr: {
        std::vector<Ref> operands;
        operands.reserve(node.operands.size());
        for (uint32_t o : node.operands) operands.push_back(values[o]);
        values[i] = node.op == ir::Condition::Op::kAnd ? bdd_.AndAll(std::move(operands))
                                                       : bdd_.OrAll(std::move(operands));
        break;
      }
    }
  }
  return values.back();
}

void Model::Expand(const PeerRef& ref, SourceLoc loc, std::optional<uint32_t> param,
                   uint32_t param_item, std::vector<Term>& out) const {
  if (ref.kind == PeerRef::Kind::kParam) {
    if (ref.index >= config_.params.size()) return;
    for (uint32_t i = 0; i < config_.params[ref.index].peers.size(); ++i) {
      const PeerRef& inner = config_.params[ref.index].peers[i];
      if (inner.kind != PeerRef::Kind::kParam) Expand(inner, loc, ref.index, i, out);
    }
    return;
  }
  if (ref.kind == PeerRef::Kind::kComponent && ref.index >= module_.components.size()) return;
  Term term;
  term.loc = loc;
  term.param = param;
  term.param_item = param_item;
  // The peers are resolved exactly as instantiation resolves them (a
  // component's once, in f_.component_peers).
  if (ref.kind != PeerRef::Kind::kComponent) f_.resolver.AppendPeers(ref, term.peers);
  switch (ref.kind) {
    case PeerRef::Kind::kAnywhere:
      term.text = "anywhere";
      break;
    case PeerRef::Kind::kInstance:
      term.text = "instance";
      break;
    case PeerRef::Kind::kExternal:
      term.text = "external";
      break;
    case PeerRef::Kind::kCidr:
      term.text = PeerText(term.peers.front());
      break;
    case PeerRef::Kind::kPods:
      term.is_explicit = !term.peers.front().pod_labels.empty() ||
                         std::any_of(term.peers.front().pod_exprs.begin(),
                                     term.peers.front().pod_exprs.end(),
                                     [](const ir::Requirement& r) {
                                       return r.op == ir::Requirement::Op::kIn ||
                                              r.op == ir::Requirement::Op::kExists;
                                     });
      term.text = PeerText(term.peers.front());
      break;
    case PeerRef::Kind::kComponent:
      term.guard = f_.enabled[ref.index];
      term.is_explicit = true;
      term.component = ref.index;
      term.text = module_.components[ref.index].id;
      break;
    case PeerRef::Kind::kParam:
      return;  // expanded above
    case PeerRef::Kind::kKubeApiserver:
      term.text = "kube_apiserver";
      break;
    case PeerRef::Kind::kNodes:
      term.text = "nodes";
      break;
  }
  out.push_back(std::move(term));
}

Model::Index Model::BuildIndex(const std::vector<RuleInfo>& rules,
                               const std::vector<uint32_t>& ids) {
  // Sweep over interval end points, one protocol at a time: each segment is a
  // maximal range covered by the same rules.
  struct Event {
    ir::Protocol protocol;
    uint32_t pos;
    bool open;
    uint32_t rule;
  };
  std::vector<Event> events;
  for (uint32_t id : ids) {
    for (const ir::PortRange& p : rules[id].ports) {
      events.push_back({p.protocol, p.first, true, id});
      events.push_back({p.protocol, static_cast<uint32_t>(p.last) + 1, false, id});
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.protocol, a.pos) < std::tie(b.protocol, b.pos);
  });
  Index index;
  std::map<uint32_t, int> active;
  for (size_t i = 0; i < events.size();) {
    ir::Protocol protocol = events[i].protocol;
    uint32_t pos = events[i].pos;
    for (; i < events.size() && events[i].protocol == protocol && events[i].pos == pos; ++i) {
      if (events[i].open) {
        ++active[events[i].rule];
      } else if (--active[events[i].rule] == 0) {
        active.erase(events[i].rule);
      }
    }
    if (active.empty() || i == events.size() || events[i].protocol != protocol) continue;
    Segment segment{protocol, static_cast<uint16_t>(pos), static_cast<uint16_t>(events[i].pos - 1), {}};
    for (const auto& [rule, count] : active) segment.rules.push_back(rule);
    index.push_back(std::move(segment));
  }
  return index;
}

void Model::ComputeCovering() {
  size_t n = module_.components.size();
  f_.covering.assign(n, {});
  f_.covered.assign(n, {});
  f_.own_ingress_isolation = f_.ingress_isolation;
  f_.own_egress_isolation = f_.egress_isolation;
  // j's policy selects i's pods when j is in i's namespace and every label
  // of j's selector is one of i's. Each labelled j is indexed under the
  // rarest of its labels (as f_.label_index counts them: any choice is
  // correct, a rare one makes fewer candidates), so that i looks only at
  // the components indexed under one of its own labels; components without
  // labels cover every component of their namespace. Bounded: more pairs or
  // candidates than below is ConditionTooComplex.
  std::map<ir::Label, std::vector<uint32_t>> by_rarest;
  std::map<std::string, std::vector<uint32_t>> unlabelled;
  for (uint32_t j = 0; j < n; ++j) {
    const std::vector<ir::Label>& labels = f_.resolver.Selector(j);
    if (labels.empty()) {
      unlabelled[f_.resolver.NamespaceOf(j)].push_back(j);
      continue;
    }
    const ir::Label* rarest = &labels.front();
    size_t fewest = f_.label_index[*rarest].size();
    for (const ir::Label& l : labels) {
      size_t count = f_.label_index[l].size();
      if (count < fewest) {
        rarest = &l;
        fewest = count;
      }
    }
    by_rarest[*rarest].push_back(j);
  }
  constexpr size_t kMaxCoveringPairs = 20000;
  constexpr size_t kMaxCoveringWork = 20000000;  // candidates compared
  size_t pairs = 0, work = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string& ns = f_.resolver.NamespaceOf(i);
    const std::vector<ir::Label>& mine = f_.resolver.Selector(i);
    std::vector<uint32_t>& out = f_.covering[i];
    if (auto it = unlabelled.find(ns); it != unlabelled.end()) {
      for (uint32_t j : it->second) {
        if (j != i) out.push_back(j);
      }
    }
    for (const ir::Label& l : mine) {
      auto it = by_rarest.find(l);
      if (it == by_rarest.end()) continue;
      work += it->second.size();
      for (uint32_t j : it->second) {
        const std::vector<ir::Label>& theirs = f_.resolver.Selector(j);
        if (j != i && f_.resolver.NamespaceOf(j) == ns &&
            std::includes(mine.begin(), mine.end(), theirs.begin(), theirs.end())) {
          out.push_back(j);
        }
      }
    }
    std::sort(out.begin(), out.end());
    pairs += out.size();
    if (pairs > kMaxCoveringPairs || work > kMaxCoveringWork) {
      // Each pair multiplies the work of every query on those components.
      throw ConditionTooComplex{module_.components[i].loc,
                                pairs > kMaxCoveringPairs
                                    ? "the policies of more than 20000 pairs of components select "
                                      "the same pods"
                                    : "too many components share labels to find which policies "
                                      "select the same pods"};
    }
    for (uint32_t j : out) {
      f_.covered[j].push_back(i);
      focus_ = module_.components[j].loc;
      f_.ingress_isolation[i] =
          bdd_.Or(f_.ingress_isolation[i], bdd_.And(f_.enabled[j], f_.own_ingress_isolation[j]));
      f_.egress_isolation[i] =
          bdd_.Or(f_.egress_isolation[i], bdd_.And(f_.enabled[j], f_.own_egress_isolation[j]));
    }
  }
}

const std::vector<uint32_t>& Model::RulesAt(uint32_t c, ir::Direction d, ir::Protocol protocol,
                                            uint16_t port) const {
  static const std::vector<uint32_t> kNone;
  const Index& index = IndexOf(c, d);
  auto it = std::upper_bound(index.begin(), index.end(), std::make_pair(protocol, port),
                             [](const std::pair<ir::Protocol, uint16_t>& key, const Segment& s) {
                               return key < std::make_pair(s.protocol, s.first);
                             });
  if (it == index.begin()) return kNone;
  --it;
  if (it->protocol != protocol || port < it->first || port > it->last) return kNone;
  return it->rules;
}

void Model::AddCuts(uint32_t c, ir::Direction d, ir::Protocol protocol, uint16_t first,
                    uint16_t last, std::vector<uint16_t>& cuts) const {
  auto add = [&](uint32_t owner) {
    const Index& index = IndexOf(owner, d);
    auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(protocol, first),
                               [](const Segment& s, const std::pair<ir::Protocol, uint16_t>& key) {
                                 return std::make_pair(s.protocol, s.last) < key;
                               });
    for (; it != index.end() && it->protocol == protocol && it->first <= last; ++it) {
      if (it->first > first) cuts.push_back(it->first);
      if (it->last < last) cuts.push_back(static_cast<uint16_t>(it->last + 1));
    }
  };
  add(c);
  for (uint32_t j : f_.covering[c]) add(j);
}

void Model::AddDnsCuts(const ir::PortRange& range, std::vector<uint16_t>& cuts) const {
  if (!f_.dns_rule) return;
  for (const ir::PortRange& p : f_.rules[*f_.dns_rule].ports) {
    if (p.protocol != range.protocol || p.last < range.first || p.first > range.last) continue;
    if (p.first > range.first) cuts.push_back(p.first);
    if (p.last < range.last) cuts.push_back(static_cast<uint16_t>(p.last + 1));
  }
}

bool Model::PeerSelects(const ir::Peer& peer, const Endpoint& e) const {
  if (peer.kind == ir::Peer::Kind::kAnywhere) return true;
  // The API server and the nodes are neither components nor the addresses
  // this model reasons about.
  if (peer.kind == ir::Peer::Kind::kKubeApiserver || peer.kind == ir::Peer::Kind::kNodes) {
    return false;
  }
  if (!e.is_component()) {
    if (peer.kind != ir::Peer::Kind::kIpBlock) return false;
    // An address of the pod networks is a pod's, never outside the cluster.
    if (PodNetworkOf(e.address, f_.pod_networks)) return false;
    std::optional<Cidr> address = AddressBlock(e.address), block = ParseBlock(peer.cidr);
    if (!address || !block || !BlockContains(*block, *address)) return false;
    return std::none_of(peer.except.begin(), peer.except.end(), [&](const std::string& x) {
      std::optional<Cidr> hole = ParseBlock(x);
      return hole && BlockContains(*hole, *address);
    });
  }
  if (peer.kind == ir::Peer::Kind::kIpBlock) return false;
  uint32_t c = e.component;
  const std::vector<ir::Label>& labels = f_.resolver.Selector(c);
  if (!std::includes(labels.begin(), labels.end(), peer.pod_labels.begin(), peer.pod_labels.end())) {
    return false;
  }
  if (!peer.pod_exprs.empty()) {
    // The component's pods carry exactly the labels of its selector.
    std::map<std::string, std::string> carried;
    for (const ir::Label& l : labels) carried.emplace(l.key, l.value);
    if (!ir::SatisfiesAll(carried, peer.pod_exprs)) return false;
  }
  switch (peer.ns_match) {
    case ir::NamespaceMatch::kNamed:
      return peer.ns == f_.resolver.NamespaceOf(c);
    case ir::NamespaceMatch::kAny:
      return true;
    case ir::NamespaceMatch::kLabels: {
      // The namespace's only known label is its name.
      std::map<std::string, std::string> ns_labels = {{kMetadataName, f_.resolver.NamespaceOf(c)}};
      return ir::SatisfiesAll(ns_labels, peer.ns_exprs) &&
             std::all_of(peer.ns_labels.begin(), peer.ns_labels.end(), [&](const ir::Label& l) {
               return l.key == kMetadataName && l.value == f_.resolver.NamespaceOf(c);
             });
    }
  }
  return false;
}

std::vector<uint32_t> Model::Selected(const ir::Peer& peer) const {
  std::vector<uint32_t> out;
  if (peer.kind == ir::Peer::Kind::kIpBlock || peer.kind == ir::Peer::Kind::kKubeApiserver ||
      peer.kind == ir::Peer::Kind::kNodes) {
    return out;
  }
  const std::vector<uint32_t>* candidates = nullptr;
  std::vector<uint32_t> all;
  if (peer.kind == ir::Peer::Kind::kPods && !peer.pod_labels.empty()) {
    static const std::vector<uint32_t> kNone;
    for (const ir::Label& label : peer.pod_labels) {
      auto it = f_.label_index.find(label);
      const std::vector<uint32_t>* list = it == f_.label_index.end() ? &kNone : &it->second;
      if (candidates == nullptr || list->size() < candidates->size()) candidates = list;
    }
  } else {
    for (uint32_t i = 0; i < module_.components.size(); ++i) all.push_back(i);
    candidates = &all;
  }
  for (uint32_t c : *candidates) {
    if (PeerSelects(peer, Endpoint::Component(c))) out.push_back(c);
  }
  return out;
}

std::vector<uint32_t> Model::TermTargets(const Term& term) const {
  if (term.component) return {*term.component};
  std::vector<uint32_t> out;
  for (const ir::Peer& peer : term.peers) {
    std::vector<uint32_t> selected = Selected(peer);
    out.insert(out.end(), selected.begin(), selected.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool Model::TermSelects(const Term& term, const Endpoint& e) const {
  if (term.component && e.is_component()) {
    // Shortcuts, same answers: a component's peers select its own pods
    // (its selector, in its namespace), and not those of a component
    // without all of its labels.
    if (*term.component == e.component) return true;
    if ((f_.label_bits[*term.component] & ~f_.label_bits[e.component]) != 0) return false;
  }
  const std::vector<ir::Peer>& peers = TermPeers(term);
  return std::any_of(peers.begin(), peers.end(),
                     [&](const ir::Peer& peer) { return PeerSelects(peer, e); });
}

Ref Model::RuleAdmits(uint32_t id, const Endpoint& e) {
  uint64_t key = (static_cast<uint64_t>(id) << 32) | e.component;
  if (e.is_component()) {
    if (auto it = admits_cache_.find(key); it != admits_cache_.end()) return it->second;
  }
  focus_ = f_.rules[id].loc;
  Ref r = Bdd::kFalse;
  for (const Term& term : f_.rules[id].terms) {
    if (TermSelects(term, e)) r = bdd_.Or(r, term.guard);
  }
  if (e.is_component()) admits_cache_.emplace(key, r);
  return r;
}

Ref Model::IngressSide(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol,
                       uint16_t port) {
  if (!dst.is_component() || !IngressIsolated(dst.component)) return Bdd::kTrue;
  Ref r = Bdd::kFalse;
  ForEachSideRule(dst.component, ir::Direction::kIngress, protocol, port, [&](uint32_t id, Ref guard) {
    Ref admits = RuleAdmits(id, src);
    focus_ = f_.rules[id].loc;
    r = bdd_.Or(r, bdd_.And(guard, bdd_.And(f_.rules[id].when, admits)));
  });
  // Where no policy isolates the side, it admits everything.
  return bdd_.Or(bdd_.Not(IngressIsolation(dst.component)), r);
}

Ref Model::EgressSide(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol,
                      uint16_t port) {
  if (!src.is_component() || !EgressIsolated(src.component)) return Bdd::kTrue;
  Ref r = Bdd::kFalse;
  ForEachSideRule(src.component, ir::Direction::kEgress, protocol, port, [&](uint32_t id, Ref guard) {
    Ref admits = RuleAdmits(id, dst);
    focus_ = f_.rules[id].loc;
    r = bdd_.Or(r, bdd_.And(guard, bdd_.And(f_.rules[id].when, admits)));
  });
  if (f_.dns_rule && PortsInclude(f_.rules[*f_.dns_rule].ports, {{protocol, port, port}})) {
    r = bdd_.Or(r, RuleAdmits(*f_.dns_rule, dst));
  }
  return bdd_.Or(bdd_.Not(EgressIsolation(src.component)), r);
}

Ref Model::Allowed(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol,
                   uint16_t port) {
  if (dst.is_component()) {
    focus_ = module_.components[dst.component].loc;
  } else if (src.is_component()) {
    focus_ = module_.components[src.component].loc;
  }
  Ref exists = bdd_.And(Enabled(src), Enabled(dst));
  if (exists == Bdd::kFalse) return Bdd::kFalse;
  Ref egress = EgressSide(src, dst, protocol, port);
  if (egress == Bdd::kFalse) return Bdd::kFalse;
  return bdd_.And(exists, bdd_.And(egress, IngressSide(src, dst, protocol, port)));
}

template <typename Fn>
PortPieces Model::Over(const ir::PortRange& range, std::vector<uint16_t> cuts, Fn fn) {
  cuts.push_back(range.first);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  PortPieces pieces;
  for (size_t i = 0; i < cuts.size(); ++i) {
    if (cuts[i] < range.first || cuts[i] > range.last) continue;
    uint16_t last = i + 1 < cuts.size() && cuts[i + 1] <= range.last
                        ? static_cast<uint16_t>(cuts[i + 1] - 1)
                        : range.last;
    Ref r = fn(cuts[i]);
    if (!pieces.empty() && pieces.back().second == r &&
        static_cast<uint32_t>(pieces.back().first.last) + 1 == cuts[i]) {
      pieces.back().first.last = last;
    } else {
      pieces.push_back({{range.protocol, cuts[i], last}, r});
    }
  }
  return pieces;
}

PortPieces Model::IngressOver(const Endpoint& src, const Endpoint& dst,
                              const ir::PortRange& range) {
  std::vector<uint16_t> cuts;
  if (dst.is_component()) {
    AddCuts(dst.component, ir::Direction::kIngress, range.protocol, range.first, range.last, cuts);
  }
  return Over(range, std::move(cuts),
              [&](uint16_t port) { return IngressSide(src, dst, range.protocol, port); });
}

PortPieces Model::EgressOver(const Endpoint& src, const Endpoint& dst,
                             const ir::PortRange& range) {
  std::vector<uint16_t> cuts;
  if (src.is_component()) {
    AddCuts(src.component, ir::Direction::kEgress, range.protocol, range.first, range.last, cuts);
  }
  AddDnsCuts(range, cuts);
  return Over(range, std::move(cuts),
              [&](uint16_t port) { return EgressSide(src, dst, range.protocol, port); });
}

PortPieces Model::AllowedOver(const Endpoint& src, const Endpoint& dst,
                              const ir::PortRange& range) {
  std::vector<uint16_t> cuts;
  if (dst.is_component()) {
    AddCuts(dst.component, ir::Direction::kIngress, range.protocol, range.first, range.last, cuts);
  }
  if (src.is_component()) {
    AddCuts(src.component, ir::Direction::kEgress, range.protocol, range.first, range.last, cuts);
  }
  AddDnsCuts(range, cuts);
  return Over(range, std::move(cuts),
              [&](uint16_t port) { return Allowed(src, dst, range.protocol, port); });
}

std::string Model::EndpointText(const Endpoint& e) const {
  return e.is_component() ? module_.components[e.component].id : e.address;
}

}  // namespace netpolc::analysis
