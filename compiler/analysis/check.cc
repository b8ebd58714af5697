#include "compiler/analysis/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "compiler/parallel.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc::analysis {
namespace {

using ir::Direction;

constexpr size_t kMaxNotes = 3;
// Flags tried as the switch of two alternative rules (each try restricts
// both conditions): the first ones by display rank.
constexpr size_t kMaxSwitchCandidates = 64;

std::string_view DirectionName(Direction d) {
  return d == Direction::kIngress ? "ingress" : "egress";
}

Direction Opposite(Direction d) {
  return d == Direction::kIngress ? Direction::kEgress : Direction::kIngress;
}

// "a", "a and b", "a, b and c".
std::string JoinNames(const std::vector<std::string>& names, size_t max = 4) {
  std::string out;
  size_t shown = std::min(names.size(), max);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += i + 1 == shown && shown == names.size() ? " and " : ", ";
    out += names[i];
  }
  if (shown < names.size()) out += fmt::format(" and {} more", names.size() - shown);
  return out;
}

// Two rules of one component and direction that open different ports to the
// same peers, one when a flag is on and the other when it is off.
struct Alternative {
  uint32_t component;
  Direction direction;
  uint32_t first, second;  // rule ids, first written first
  uint32_t flag;
};

// `format` with its "{}" replaced by `args` in order, as fmt::format would
// write them, into `out`; false (out unspecified) when the format has any
// other replacement field or does not take as many arguments.
bool SubstituteStrings(std::string_view format, std::initializer_list<std::string_view> args,
                       std::string& out) {
  auto arg = args.begin();
  size_t size = format.size();
  for (std::string_view a : args) size += a.size();
  out.reserve(size);
  while (!format.empty()) {
    size_t brace = 0;
    while (brace < format.size() && format[brace] != '{' && format[brace] != '}') ++brace;
    out.append(format.substr(0, brace));
    if (brace == format.size()) break;
    const char c = format[brace];
    const char next = brace + 1 < format.size() ? format[brace + 1] : '\0';
    if (c == '{' && next == '}') {
      if (arg == args.end()) return false;
      out.append(*arg++);
    } else if (next == c) {
      out += c;  // "{{" or "}}"
    } else {
      return false;
    }
    format.remove_prefix(brace + 2);
  }
  return arg == args.end();
}

// A finding of `kind`, its message formatted from the kind's format.
template <typename... Args>
Finding MakeFinding(DiagnosticKind kind, SourceLoc loc, std::string condition,
                    const Args&... args) {
  const std::string_view format = InfoOf(kind).format;
  std::string message;
  if constexpr ((std::is_convertible_v<const Args&, std::string_view> && ...)) {
    // Texts only, as most findings: without parsing the format each time.
    if (!SubstituteStrings(format, {std::string_view(args)...}, message)) {
      message = fmt::format(fmt::runtime(format), args...);
    }
  } else {
    message = fmt::format(fmt::runtime(format), args...);
  }
  return {kind, loc, std::move(message), std::move(condition), {}};
}

// Where lints put their findings: the last one stays unpacked so that notes
// can be added to it; it is packed when the next comes, or at the end.
class Findings {
 public:
  template <typename... Args>
  Finding& Emit(DiagnosticKind kind, SourceLoc loc, std::string condition, const Args&... args) {
    Pack();
    last_ = MakeFinding(kind, loc, std::move(condition), args...);
    has_last_ = true;
    return last_;
  }
  // All of them, sorted.
  FindingList Take() {
    Pack();
    FindingList list = std::exchange(list_, FindingList());
    list.Sort();
    return list;
  }

 private:
  void Pack() {
    if (has_last_) list_.Add(last_);
    has_last_ = false;
  }
  FindingList list_;
  Finding last_;
  bool has_last_ = false;
};

// The lints of declarations that nothing uses: they read the module and the
// configuration only.
class DeclarationChecker {
 public:
  DeclarationChecker(const ir::Module& module, const ir::Config& config)
      : module_(module), config_(config) {}

  FindingList Run() {
    UnusedFlags();
    UnusedParams();
    UnusedComponents();
    return out_.Take();
  }

 private:
  template <typename... Args>
  Finding& Emit(DiagnosticKind kind, SourceLoc loc, std::string condition, const Args&... args) {
    return out_.Emit(kind, loc, std::move(condition), args...);
  }

  // --- Unused declarations ----------------------------------------------------

  void UnusedFlags() {
    const ir::Module& module = module_;
    std::vector<bool> used(module.flags.size());
    auto mark = [&](const ir::Condition& condition) {
      for (const ir::Condition::Node& node : condition.nodes) {
        if (node.op == ir::Condition::Op::kFlag && node.flag < used.size()) used[node.flag] = true;
      }
    };
    for (const ir::Component& c : module.components) {
      mark(c.when);
      for (const ir::Rule& r : c.rules) mark(r.when);
      mark(c.policy_when);
      if (c.isolate_ingress) mark(*c.isolate_ingress);
      if (c.isolate_egress) mark(*c.isolate_egress);
    }
    for (size_t i = 0; i < module.flags.size(); ++i) {
      if (!used[i]) Emit(DiagnosticKind::kUnusedFlag, module.flags[i].loc, "", module.flags[i].name);
    }
  }

  void UnusedParams() {
    const ir::Module& module = module_;
    std::vector<bool> used(module.params.size());
    auto value = [&](const ir::ValueRef& v) {
      if (v.kind == ir::ValueRef::Kind::kParam && v.param < used.size()) used[v.param] = true;
    };
    auto labels = [&](const std::vector<ir::LabelRef>& list) {
      for (const ir::LabelRef& l : list) value(l.value);
    };
    auto peers = [&](const std::vector<ir::PeerRef>& list) {
      for (const ir::PeerRef& p : list) {
        if (p.kind == ir::PeerRef::Kind::kParam && p.index < used.size()) used[p.index] = true;
        labels(p.pod_labels);
        labels(p.ns_labels);
        if (p.ns == ir::PeerRef::Namespace::kNamed) value(p.ns_name);
        for (const auto* exprs : {&p.pod_exprs, &p.ns_exprs}) {
          for (const ir::RequirementRef& r : *exprs) {
            for (const ir::ValueRef& v : r.values) value(v);
          }
        }
      }
    };
    auto ports = [&](const std::vector<ir::PortRef>& list) {
      for (const ir::PortRef& p : list) {
        value(p.first);
        value(p.last);
      }
    };
    if (module.instance.ns) value(*module.instance.ns);
    if (module.instance.prefix) value(*module.instance.prefix);
    labels(module.instance.labels);
    for (const ir::Module::Product& product : module.products) {
      if (product.instance.ns) value(*product.instance.ns);
      if (product.instance.prefix) value(*product.instance.prefix);
      labels(product.instance.labels);
    }
    peers(module.dns.peers);
    peers(module.kube_apiserver.peers);
    peers(module.nodes.peers);
    for (const ir::Component& c : module.components) {
      labels(c.labels);
      if (c.ns) value(*c.ns);
      for (const ir::Rule& r : c.rules) peers(r.peers);
      // {param} in a policy-name template.
      for (size_t k = c.policy_name.find('{'); k != std::string::npos;
           k = c.policy_name.find('{', k + 1)) {
        size_t close = c.policy_name.find('}', k);
        if (close == std::string::npos) break;
        std::optional<uint32_t> param = module.FindParam(c.policy_name.substr(k + 1, close - k - 1));
        if (param) used[*param] = true;
      }
    }
    // The pod networks are used by every address block (and by the targets).
    if (std::optional<uint32_t> pod_networks = PodNetworksParam(module)) used[*pod_networks] = true;
    ports(module.dns.port_refs);
    for (const ir::Component& c : module.components) {
      for (const ir::Rule& r : c.rules) ports(r.port_refs);
    }
    for (size_t i = 0; i < module.params.size(); ++i) {
      if (!used[i]) Emit(DiagnosticKind::kUnusedParam, module.params[i].loc, "", module.params[i].name);
    }
  }

  void UnusedComponents() {
    const ir::Module& module = module_;
    std::vector<bool> named(module.components.size());
    auto peers = [&](const std::vector<ir::PeerRef>& list) {
      for (const ir::PeerRef& p : list) {
        if (p.kind == ir::PeerRef::Kind::kComponent && p.index < named.size()) named[p.index] = true;
      }
    };
    peers(module.dns.peers);
    for (const ir::Param& p : module.params) peers(p.default_value.peers);
    for (const ir::ParamValue& v : config_.params) peers(v.peers);
    for (const ir::Component& c : module.components) {
      for (const ir::Rule& r : c.rules) peers(r.peers);
    }
    for (size_t i = 0; i < module.components.size(); ++i) {
      if (module.components[i].rules.empty() && !named[i]) {
        Emit(DiagnosticKind::kUnusedComponent, module.components[i].loc, "", module.components[i].id);
      }
    }
  }

  const ir::Module& module_;
  const ir::Config& config_;
  Findings out_;
};

class Checker {
 public:
  Checker(Model& model, Model& open, size_t components_per_part)
      : m_(model), open_(open), per_part_(std::max<size_t>(components_per_part, 1)),
        b_(model.bdd()), ob_(open.bdd()) {}

  std::vector<FindingList> Run() {
    std::vector<FindingList> runs = Blocked();
    FindAlternatives();
    AlternativeOverlapAndGap();
    AlternativeMissing();
    AlternativeNotFollowed();
    MissingDns();
    Shadowed();
    Conditions();
    runs.push_back(out_.Take());
    return runs;
  }

 private:
  const std::string& Id(uint32_t c) const { return m_.component(c).id; }

  // Where the analysis is, for an error if a condition is too complex.
  void Focus(SourceLoc loc) {
    m_.Focus(loc);
    open_.Focus(loc);
  }

  template <typename... Args>
  Finding& Emit(DiagnosticKind kind, SourceLoc loc, std::string condition, const Args&... args) {
    return out_.Emit(kind, loc, std::move(condition), args...);
  }

  // How a rule reads in a note: "ingress TCP 7443 from instance, when internal_tls is true".
  std::string RuleSummary(Model& model, uint32_t id) {
    const RuleInfo& r = model.rule(id);
    std::vector<std::string> peers;
    for (const Term& t : r.terms) peers.push_back(t.text);
    peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
    std::string out = fmt::format("{} {} {} {}", DirectionName(r.direction), PortsText(r.ports),
                                  r.direction == Direction::kIngress ? "from" : "to",
                                  peers.empty() ? "nothing" : JoinNames(peers, 6));
    if (r.when == Bdd::kFalse) {
      out += model.bdd().var_count() == 0 ? ", which does not apply in this configuration"
                                          : ", which applies in no configuration";
    } else if (r.when != Bdd::kTrue) {
      out += ", " + model.bdd().Describe(r.when);
    }
    return out;
  }

  // RuleSummary of a rule of the model, worded once: the notes of thousands
  // of findings name the same rules.
  const std::string& Summary(uint32_t id) {
    auto it = summaries_.find(id);
    if (it == summaries_.end()) it = summaries_.emplace(id, RuleSummary(m_, id)).first;
    return it->second;
  }

  // Explicit references: for each component, the (rule, term) pairs of every
  // rule that names it, by the rule's direction.
  void BuildReverseIndex() {
    reverse_.assign(m_.component_count(), {});
    for (uint32_t id = 0; id < m_.rules().size(); ++id) {
      const RuleInfo& r = m_.rule(id);
      if (r.dns) continue;
      for (uint32_t t = 0; t < r.terms.size(); ++t) {
        const Term& term = r.terms[t];
        if (!term.is_explicit) continue;
        auto add = [&](uint32_t target) {
          reverse_[target][r.direction == Direction::kIngress ? 0 : 1].push_back({id, t});
        };
        if (term.component) {
          add(*term.component);  // TermTargets, without a vector
        } else {
          for (uint32_t target : m_.TermTargets(term)) add(target);
        }
      }
    }
  }

  // --- Egress without ingress, ingress without egress ------------------------

  // Whether a rule of (c, d) on named ports may admit `other`: the model does
  // not know which numbers the names stand for, so a finding that such a
  // rule could contradict is not reported.
  bool NamedPortsMayAdmit(uint32_t c, Direction d, uint32_t other) const {
    for (uint32_t id : m_.RulesOf(c, d)) {
      const RuleInfo& r = m_.rule(id);
      if (r.named_ports.empty() || r.active == Bdd::kFalse) continue;
      for (const Term& term : r.terms) {
        if (m_.TermSelects(term, Endpoint::Component(other))) return true;
      }
    }
    return false;
  }

  // Piecewise `f or g` over one port range (both cover it, in order).
  PortPieces OrPieces(const PortPieces& f, const PortPieces& g) {
    PortPieces out;
    size_t i = 0, j = 0;
    while (i < f.size() && j < g.size()) {
      uint16_t first = std::max(f[i].first.first, g[j].first.first);
      uint16_t last = std::min(f[i].first.last, g[j].first.last);
      Ref r = b_.Or(f[i].second, g[j].second);
      if (!out.empty() && out.back().second == r &&
          static_cast<uint32_t>(out.back().first.last) + 1 == first) {
        out.back().first.last = last;
      } else {
        out.push_back({{f[i].first.protocol, first, last}, r});
      }
      if (f[i].first.last == last) ++i;
      if (g[j].first.last == last) ++j;
    }
    return out;
  }

  // What b's ingress admits from a's rules' pods: a's own, and those of the
  // components whose pods a's policy selects too (Model::Covered), which a's
  // egress rules apply to as well.
  PortPieces IngressFromRulesOf(uint32_t a, uint32_t b, const ir::PortRange& range) {
    PortPieces out = m_.IngressOver(Endpoint::Component(a), Endpoint::Component(b), range);
    for (uint32_t s : m_.Covered(a)) {
      // The same labels: the same answer as for a's pods.
      if (m_.Selector(s) == m_.Selector(a)) continue;
      PortPieces more = m_.IngressOver(Endpoint::Component(s), Endpoint::Component(b), range);
      for (auto& piece : more) piece.second = b_.And(m_.Enabled(s), piece.second);
      out = OrPieces(out, more);
    }
    return out;
  }

  // What a's egress allows towards b's rules' pods (likewise).
  PortPieces EgressToRulesOf(uint32_t a, uint32_t b, const ir::PortRange& range) {
    PortPieces out = m_.EgressOver(Endpoint::Component(a), Endpoint::Component(b), range);
    for (uint32_t t : m_.Covered(b)) {
      if (m_.Selector(t) == m_.Selector(b)) continue;
      PortPieces more = m_.EgressOver(Endpoint::Component(a), Endpoint::Component(t), range);
      for (auto& piece : more) piece.second = b_.And(m_.Enabled(t), piece.second);
      out = OrPieces(out, more);
    }
    return out;
  }

  // BlockedEgress and BlockedIngress, the bulk of the work: on parts of
  // per_part_ components in parallel, each part on a view of the model with
  // a fork of the BDD. A reduced ordered BDD is canonical, so the parts'
  // findings read as if one BDD had made them; they are added in the order
  // one pass would have made them (every part's egress findings, then every
  // part's ingress findings). The parts share the budget of steps that
  // remains. If a part finds a condition too complex, or the parts together
  // pass the budget, the lints run again in one pass on the model itself,
  // which reports it where one pass meets it: which of the two happens
  // depends on the parts, never on the threads.
  //
  // Returns the parts' findings, each part's egress and ingress findings
  // sorted (every part's egress findings first), or nothing after one pass,
  // whose findings are with the others' (out_).
  std::vector<FindingList> Blocked() {
    const uint32_t n = static_cast<uint32_t>(m_.component_count());
    const size_t parts = (n + per_part_ - 1) / per_part_;
    if (parts > 1) {
      if (std::optional<std::vector<FindingList>> runs = BlockedInParts(parts)) {
        return std::move(*runs);
      }
    }
    BlockedEgress(0, n);
    BlockedIngress(0, n);
    return {};
  }

  // Blocked's parts, or nothing when one pass is to run instead.
  std::optional<std::vector<FindingList>> BlockedInParts(size_t parts) {
    const uint32_t n = static_cast<uint32_t>(m_.component_count());
    std::vector<FindingList> egress(parts), ingress(parts);
    std::vector<char> done(parts);
    const uint64_t base_steps = b_.step_count();
    const uint64_t budget = b_.limits().max_steps - std::min(base_steps, b_.limits().max_steps);
    std::atomic<uint64_t> used{0};
    ParallelFor(parts, [&](size_t k) {
      if (used.load() > budget) return;  // one pass will run anyway
      Bdd bdd = b_.Fork();
      Model view(m_, bdd);
      Checker part(view, view, per_part_);
      const uint32_t first = static_cast<uint32_t>(k * per_part_);
      const uint32_t last = static_cast<uint32_t>(std::min<size_t>(n, first + per_part_));
      try {
        part.BlockedEgress(first, last);
        egress[k] = part.out_.Take();
        part.BlockedIngress(first, last);
        ingress[k] = part.out_.Take();
      } catch (const Bdd::TooComplex&) {
        return;
      } catch (const ConditionTooComplex&) {
        return;
      }
      used += bdd.step_count() - base_steps;
      done[k] = 1;
    });
    if (used.load() > budget || std::find(done.begin(), done.end(), 0) != done.end()) {
      return std::nullopt;
    }
    for (FindingList& list : ingress) egress.push_back(std::move(list));
    return egress;
  }

  // Egress rules of components [first, last) naming components whose
  // ingress does not admit them.
  void BlockedEgress(uint32_t first, uint32_t last) {
    for (uint32_t a = first; a < last; ++a) {
      for (uint32_t id : m_.RulesOf(a, Direction::kEgress)) {
        const RuleInfo& rule = m_.rule(id);
        Focus(rule.loc);
        if (rule.active == Bdd::kFalse) continue;
        for (const Term& term : rule.terms) {
          if (!term.is_explicit) continue;
          for (uint32_t b : m_.TermTargets(term)) {
            if (!m_.IngressIsolated(b)) continue;
            if (NamedPortsMayAdmit(b, Direction::kIngress, a)) continue;
            Ref applies = b_.And(b_.And(rule.active, term.guard), m_.Enabled(b));
            if (applies == Bdd::kFalse) continue;
            std::map<Ref, std::vector<ir::PortRange>> blocked;
            for (const ir::PortRange& range : rule.ports) {
              for (const auto& [piece, admitted] : IngressFromRulesOf(a, b, range)) {
                Ref bad = b_.AndNot(applies, admitted);
                if (bad != Bdd::kFalse) blocked[bad].push_back(piece);
              }
            }
            for (const auto& [bad, ports] : blocked) {
              std::string ports_text = PortsText(ports);
              Finding& f = Emit(DiagnosticKind::kEgressNotAdmitted, term.loc, b_.Compact(bad),
                                Id(a), Id(b), ports_text, Id(b), b_.Describe(bad));
              RelatedRules(f, b, Direction::kIngress, ports, ports_text, a);
            }
          }
        }
      }
    }
  }

  // Ingress rules of components [first, last) naming components whose
  // egress does not allow them.
  void BlockedIngress(uint32_t first, uint32_t last) {
    for (uint32_t b = first; b < last; ++b) {
      for (uint32_t id : m_.RulesOf(b, Direction::kIngress)) {
        const RuleInfo& rule = m_.rule(id);
        Focus(rule.loc);
        if (rule.active == Bdd::kFalse) continue;
        for (const Term& term : rule.terms) {
          if (!term.is_explicit) continue;
          for (uint32_t a : m_.TermTargets(term)) {
            if (!m_.EgressIsolated(a)) continue;
            if (NamedPortsMayAdmit(a, Direction::kEgress, b)) continue;
            Ref applies = b_.And(b_.And(rule.active, term.guard), m_.Enabled(a));
            if (applies == Bdd::kFalse) continue;
            std::map<Ref, std::vector<ir::PortRange>> blocked;
            for (const ir::PortRange& range : rule.ports) {
              for (const auto& [piece, allowed] : EgressToRulesOf(a, b, range)) {
                Ref bad = b_.AndNot(applies, allowed);
                if (bad != Bdd::kFalse) blocked[bad].push_back(piece);
              }
            }
            for (const auto& [bad, ports] : blocked) {
              std::string ports_text = PortsText(ports);
              Finding& f = Emit(DiagnosticKind::kIngressNotAllowed, term.loc, b_.Compact(bad),
                                Id(b), Id(a), ports_text, Id(a), b_.Describe(bad));
              RelatedRules(f, a, Direction::kEgress, ports, ports_text, b);
            }
          }
        }
      }
    }
  }

  // Notes for a blocked connection: the rules of `owner` in `direction` on
  // those ports (`ports_text` is PortsText(ports)), else its rules naming
  // `other`, else its declaration.
  void RelatedRules(Finding& f, uint32_t owner, Direction direction,
                    const std::vector<ir::PortRange>& ports, const std::string& ports_text,
                    uint32_t other) {
    // The first kMaxNotes of each kind, and whether there are rules on the ports.
    std::array<uint32_t, kMaxNotes> on_ports{}, naming{};
    size_t on_ports_count = 0, naming_count = 0;
    for (uint32_t id : m_.RulesOf(owner, direction)) {
      const RuleInfo& r = m_.rule(id);
      if (PortsOverlap(r.ports, ports)) {
        if (on_ports_count < kMaxNotes) on_ports[on_ports_count] = id;
        ++on_ports_count;
      } else if (on_ports_count == 0 && naming_count < kMaxNotes &&
                 std::any_of(r.terms.begin(), r.terms.end(), [&](const Term& t) {
                   return m_.TermSelects(t, Endpoint::Component(other));
                 })) {
        naming[naming_count++] = id;
      }
    }
    const bool by_ports = on_ports_count > 0;
    const size_t shown = by_ports ? std::min(on_ports_count, kMaxNotes) : naming_count;
    for (size_t i = 0; i < shown; ++i) {
      const uint32_t id = by_ports ? on_ports[i] : naming[i];
      std::string note = Id(owner);
      note += " has ";
      note += Summary(id);
      if (by_ports) {
        Ref admits = m_.RuleAdmits(id, Endpoint::Component(other));
        if (admits == Bdd::kFalse) {
          note += ", which does not include ";
          note += Id(other);
        } else if (admits != Bdd::kTrue) {
          note += ", which includes ";
          note += Id(other);
          note += " only ";
          note += b_.Describe(admits);
        }
      }
      f.notes.push_back({m_.rule(id).loc, std::move(note)});
    }
    if (shown == 0) {
      std::string note = Id(owner);
      note += " has no ";
      note += DirectionName(direction);
      note += " rule for ";
      note += ports_text;
      note += " or for ";
      note += Id(other);
      f.notes.push_back({m_.component(owner).loc, std::move(note)});
    }
  }

  // --- Conditional ports -------------------------------------------------------

  // Identifies the peers of a rule, for grouping rules with the same peers.
  static std::string PeersKey(const RuleInfo& r) {
    std::vector<std::string> keys;
    for (const Term& t : r.terms) {
      keys.push_back(t.param ? fmt::format("${}#{}", *t.param, t.param_item) : t.text);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::string out;
    for (const std::string& k : keys) out += k + "\n";
    return out;
  }

  std::optional<uint32_t> SwitchFlag(Ref w1, Ref w2) {
    std::vector<uint32_t> s1 = ob_.Support(w1), s2 = ob_.Support(w2), both;
    std::set_intersection(s1.begin(), s1.end(), s2.begin(), s2.end(), std::back_inserter(both));
    if (both.size() > kMaxSwitchCandidates) {
      std::partial_sort(both.begin(), both.begin() + kMaxSwitchCandidates, both.end(),
                        [&](uint32_t a, uint32_t b) { return ob_.DisplayRank(a) < ob_.DisplayRank(b); });
      both.resize(kMaxSwitchCandidates);
    }
    for (uint32_t v : both) {
      if ((ob_.PositiveIn(w1, v) && ob_.NegativeIn(w2, v)) ||
          (ob_.NegativeIn(w1, v) && ob_.PositiveIn(w2, v))) {
        return v;
      }
    }
    return std::nullopt;
  }

  void FindAlternatives() {
    in_pair_.assign(open_.rules().size(), false);
    for (uint32_t c = 0; c < open_.component_count(); ++c) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        std::map<std::string, std::vector<uint32_t>> by_peers;
        for (uint32_t id : open_.RulesOf(c, d)) {
          const RuleInfo& r = open_.rule(id);
          if (r.when == Bdd::kTrue || r.when == Bdd::kFalse || r.terms.empty()) continue;
          by_peers[PeersKey(r)].push_back(id);
        }
        for (const auto& [key, ids] : by_peers) {
          for (size_t i = 0; i < ids.size(); ++i) {
            for (size_t j = i + 1; j < ids.size(); ++j) {
              const RuleInfo& r1 = open_.rule(ids[i]);
              const RuleInfo& r2 = open_.rule(ids[j]);
              if (PortsOverlap(r1.ports, r2.ports)) continue;
              Focus(r2.loc);
              std::optional<uint32_t> flag = SwitchFlag(r1.when, r2.when);
              if (!flag) continue;
              alternatives_.push_back({c, d, ids[i], ids[j], *flag});
              in_pair_[ids[i]] = in_pair_[ids[j]] = true;
            }
          }
        }
      }
    }
  }

  std::string FlagName(uint32_t var) const { return ob_.VarName(var); }

  void AlternativeOverlapAndGap() {
    for (const Alternative& alt : alternatives_) {
      const RuleInfo& r1 = open_.rule(alt.first);
      const RuleInfo& r2 = open_.rule(alt.second);
      Focus(r2.loc);
      Ref exists = open_.Enabled(alt.component);
      std::string ports = fmt::format("{} and {}", PortsText(r1.ports), PortsText(r2.ports));

      Ref overlap = ob_.And(exists, ob_.And(r1.when, r2.when));
      if (overlap != Bdd::kFalse) {
        Finding& f = Emit(DiagnosticKind::kPortAlternativeOverlap, r2.loc, ob_.Compact(overlap),
                          Id(alt.component), DirectionName(alt.direction), ports,
                          FlagName(alt.flag), ob_.Describe(overlap));
        f.notes.push_back({r1.loc, "the other alternative is here"});
      }
      Ref either = ob_.Or(r1.when, r2.when);
      Ref gap = ob_.And(exists, ob_.AndNot(ob_.Exists(either, alt.flag), either));
      if (gap != Bdd::kFalse) {
        Finding& f = Emit(DiagnosticKind::kPortAlternativeGap, r2.loc, ob_.Compact(gap),
                          Id(alt.component), DirectionName(alt.direction), ports,
                          FlagName(alt.flag), ob_.Describe(gap));
        f.notes.push_back({r1.loc, "the other alternative is here"});
      }
    }
  }

  // A conditional port that elsewhere comes with an alternative, without one here.
  void AlternativeMissing() {
    struct Pattern {
      std::vector<ir::PortRange> other_ports;
      Ref other_when;
      std::vector<std::string> components;
    };
    using Key = std::tuple<Direction, std::vector<ir::PortRange>, Ref>;
    std::map<Key, std::vector<Pattern>> patterns;
    auto record = [&](const RuleInfo& r, const RuleInfo& other, uint32_t c) {
      std::vector<Pattern>& list = patterns[{r.direction, r.ports, r.when}];
      for (Pattern& p : list) {
        if (p.other_ports == other.ports && p.other_when == other.when) {
          if (std::find(p.components.begin(), p.components.end(), Id(c)) == p.components.end()) {
            p.components.push_back(Id(c));
          }
          return;
        }
      }
      list.push_back({other.ports, other.when, {Id(c)}});
    };
    for (const Alternative& alt : alternatives_) {
      record(open_.rule(alt.first), open_.rule(alt.second), alt.component);
      record(open_.rule(alt.second), open_.rule(alt.first), alt.component);
    }
    if (patterns.empty()) return;
    for (uint32_t c = 0; c < open_.component_count(); ++c) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        for (uint32_t id : open_.RulesOf(c, d)) {
          const RuleInfo& r = open_.rule(id);
          Focus(r.loc);
          if (in_pair_[id] || r.when == Bdd::kTrue || r.when == Bdd::kFalse) continue;
          auto it = patterns.find({d, r.ports, r.when});
          if (it == patterns.end()) continue;
          for (const Pattern& p : it->second) {
            bool has_other = std::any_of(
                open_.RulesOf(c, d).begin(), open_.RulesOf(c, d).end(), [&](uint32_t other) {
                  const RuleInfo& o = open_.rule(other);
                  return o.when == p.other_when && PortsInclude(o.ports, p.other_ports);
                });
            if (has_other) continue;
            Emit(DiagnosticKind::kPortAlternativeMissing, r.loc, ob_.Compact(p.other_when),
                fmt::format("{} opens {} for {} only {}, with no alternative port {}; {} {} {} then",
                            Id(c), PortsText(r.ports), DirectionName(d), ob_.Describe(r.when),
                            ob_.Describe(p.other_when), JoinNames(p.components),
                            p.components.size() == 1 ? "opens" : "open", PortsText(p.other_ports)));
            break;
          }
        }
      }
    }
  }

  // The other end of an alternative keeps using one port in the
  // configurations where the component has switched to the other.
  void AlternativeNotFollowed() {
    if (alternatives_.empty()) return;
    BuildReverseIndex();
    for (const Alternative& alt : alternatives_) {
      uint32_t c = alt.component;
      Focus(m_.rule(alt.second).loc);
      for (auto [p_id, q_id] : {std::pair{alt.first, alt.second}, std::pair{alt.second, alt.first}}) {
        const RuleInfo& rp = m_.rule(p_id);
        const RuleInfo& rq = m_.rule(q_id);
        Ref switched = b_.AndNot(rq.when, rp.when);
        if (switched == Bdd::kFalse) continue;
        Direction other_dir = Opposite(alt.direction);
        const auto& refs = reverse_[c][other_dir == Direction::kIngress ? 0 : 1];
        for (const auto& [s_id, t_index] : refs) {
          const RuleInfo& s = m_.rule(s_id);
          if (s.component == c) continue;
          std::vector<ir::PortRange> used = PortsIntersect(s.ports, rp.ports);
          if (used.empty()) continue;
          const Term& term = s.terms[t_index];
          uint32_t a = s.component;
          Ref sw = b_.And(b_.And(b_.And(s.active, term.guard), m_.Enabled(c)), switched);
          if (sw == Bdd::kFalse) continue;
          // Whether a's side allows the alternative ports.
          Ref allows = Bdd::kTrue;
          for (const ir::PortRange& range : rq.ports) {
            PortPieces pieces =
                alt.direction == Direction::kIngress
                    ? m_.EgressOver(Endpoint::Component(a), Endpoint::Component(c), range)
                    : m_.IngressOver(Endpoint::Component(c), Endpoint::Component(a), range);
            for (const auto& [piece, r] : pieces) allows = b_.And(allows, r);
          }
          Ref bad = b_.AndNot(sw, allows);
          if (bad == Bdd::kFalse) continue;
          std::string message;
          if (alt.direction == Direction::kIngress) {
            message = fmt::format(
                "egress from {} to {} on {} does not follow {}'s alternative on flag '{}': {}, "
                "{} admits {} instead, which {}'s egress does not allow",
                Id(a), Id(c), PortsText(used), Id(c), FlagName(alt.flag), b_.Describe(bad), Id(c),
                PortsText(rq.ports), Id(a));
          } else {
            message = fmt::format(
                "ingress to {} from {} on {} does not follow {}'s alternative on flag '{}': {}, "
                "{} sends to {} instead, which {}'s ingress does not admit",
                Id(a), Id(c), PortsText(used), Id(c), FlagName(alt.flag), b_.Describe(bad), Id(c),
                PortsText(rq.ports), Id(a));
          }
          Finding& f = Emit(DiagnosticKind::kPortAlternativeNotFollowed, term.loc, b_.Compact(bad),
                            message);
          f.notes.push_back({rq.loc, fmt::format("{} has {}", Id(c), Summary(q_id))});
        }
      }
    }
  }

  // --- DNS -----------------------------------------------------------------------

  void MissingDns() {
    const ir::Dns& dns = m_.module().dns;
    if (dns.enabled) return;
    const std::vector<ir::PortRange> kDnsPorts = {{ir::Protocol::kTcp, 53, 53},
                                                  {ir::Protocol::kUdp, 53, 53}};
    for (uint32_t c = 0; c < m_.component_count(); ++c) {
      const std::vector<uint32_t>& egress = m_.RulesOf(c, Direction::kEgress);
      if (egress.empty()) continue;
      Ref resolves = Bdd::kFalse;
      for (uint32_t id : egress) {
        const RuleInfo& r = m_.rule(id);
        Focus(r.loc);
        if (!PortsOverlap(r.ports, kDnsPorts)) continue;
        Ref peers = Bdd::kFalse;
        for (const Term& t : r.terms) peers = b_.Or(peers, t.guard);
        resolves = b_.Or(resolves, b_.And(r.when, peers));
      }
      Ref bad = b_.AndNot(m_.Enabled(c), resolves);
      if (bad == Bdd::kFalse) continue;
      Finding& f = Emit(DiagnosticKind::kEgressWithoutDns, m_.rule(egress.front()).loc,
                        b_.Compact(bad), Id(c), b_.Describe(bad));
      if (dns.loc.valid()) f.notes.push_back({dns.loc, "'dns off' is here"});
    }
  }

  // --- Duplicate and shadowed rules ----------------------------------------------

  bool TermCovers(const Term& outer, const Term& inner) const {
    const std::vector<ir::Peer>& outer_peers = open_.TermPeers(outer);
    const std::vector<ir::Peer>& inner_peers = open_.TermPeers(inner);
    if (outer.param || inner.param) {
      // A parameter's value is configuration: only the same item of the same
      // parameter, or anywhere, covers it whatever the value.
      if (outer.param && inner.param) {
        return *outer.param == *inner.param && outer.param_item == inner.param_item;
      }
      return !outer.param && outer_peers.size() == 1 &&
             outer_peers[0].kind == ir::Peer::Kind::kAnywhere;
    }
    return std::all_of(inner_peers.begin(), inner_peers.end(), [&](const ir::Peer& p) {
      return std::any_of(outer_peers.begin(), outer_peers.end(),
                         [&](const ir::Peer& o) { return PeerCovers(o, p); });
    });
  }

  // Whether everything rule `inner` admits, in every configuration, rule
  // `outer` admits too.
  bool RuleCovers(uint32_t outer_id, uint32_t inner_id) {
    const RuleInfo& outer = open_.rule(outer_id);
    const RuleInfo& inner = open_.rule(inner_id);
    if (!PortsInclude(outer.ports, inner.ports)) return false;
    for (const Term& t : inner.terms) {
      Ref need = ob_.And(inner.active, t.guard);
      Ref have = Bdd::kFalse;
      for (const Term& o : outer.terms) {
        if (TermCovers(o, t)) have = ob_.Or(have, o.guard);
      }
      if (!ob_.Implies(need, ob_.And(outer.active, have))) return false;
    }
    return true;
  }

  void Shadowed() {
    for (uint32_t c = 0; c < open_.component_count(); ++c) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        for (uint32_t id : open_.RulesOf(c, d)) {
          const RuleInfo& r = open_.rule(id);
          Focus(r.loc);
          if (r.ports.empty() || r.terms.empty() || r.active == Bdd::kFalse) continue;
          // Only rules covering r's first port can cover r.
          const ir::PortRange& first = r.ports.front();
          for (uint32_t other : open_.RulesAt(c, d, first.protocol, first.first)) {
            if (other == id || open_.rule(other).terms.empty() || !RuleCovers(other, id)) continue;
            bool equivalent = RuleCovers(id, other);
            if (equivalent && other > id) continue;  // reported at the later rule
            const RuleInfo& o = open_.rule(other);
            DiagnosticKind kind =
                equivalent ? DiagnosticKind::kEquivalentRules : DiagnosticKind::kShadowedRule;
            Finding& f = Emit(kind, r.loc, "", DirectionName(d), o.loc.line);
            f.notes.push_back({o.loc, equivalent ? "the equivalent rule is here"
                                                 : "the rule that covers it is here"});
            break;
          }
        }
      }
    }
  }

  // --- Conditions --------------------------------------------------------------

  void Conditions() {
    for (uint32_t c = 0; c < open_.component_count(); ++c) {
      const ir::Component& comp = open_.component(c);
      Focus(comp.loc);
      Ref exists = open_.Enabled(c);
      if (!comp.when.always()) {
        if (exists == Bdd::kFalse) {
          Emit(DiagnosticKind::kConditionNeverHolds, comp.when.loc, "",
               fmt::format(", so component '{}' never exists", comp.id));
          continue;
        }
        if (exists == Bdd::kTrue) Emit(DiagnosticKind::kConditionAlwaysHolds, comp.when.loc, "", "");
      }
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        for (uint32_t id : open_.RulesOf(c, d)) {
          const RuleInfo& r = open_.rule(id);
          Focus(r.loc);
          const ir::Condition& when = comp.rules[r.index].when;
          if (!when.always()) {
            if (r.when == Bdd::kFalse) {
              Emit(DiagnosticKind::kConditionNeverHolds, when.loc, "", "");
              continue;
            }
            if (r.active == Bdd::kFalse) {
              Emit(DiagnosticKind::kConditionNeverHolds, when.loc, "",
                   fmt::format(" while component '{}' exists ({})", comp.id, ob_.Describe(exists)));
              continue;
            }
            if (r.when == Bdd::kTrue) Emit(DiagnosticKind::kConditionAlwaysHolds, when.loc, "", "");
          }
          if (r.active == Bdd::kFalse) continue;
          Ref peers = Bdd::kFalse;
          for (const Term& t : r.terms) peers = ob_.Or(peers, t.guard);
          if (ob_.And(r.active, peers) != Bdd::kFalse) continue;
          std::string why;
          if (r.terms.empty()) {
            why = "it has no peers";
          } else {
            std::vector<std::string> names;
            for (const Term& t : r.terms) names.push_back(t.text);
            why = fmt::format("{} never {} while it applies", JoinNames(names),
                              names.size() == 1 ? "exists" : "exist");
          }
          Emit(DiagnosticKind::kRuleNeverApplies, r.loc, "", why);
        }
      }
    }
  }

  Model& m_;
  Model& open_;
  size_t per_part_;  // components per part of Blocked
  std::unordered_map<uint32_t, std::string> summaries_;  // Summary's
  Bdd& b_;
  Bdd& ob_;
  Findings out_;
  // reverse_[c][0]: ingress rules naming c; [1]: egress rules naming c.
  std::vector<std::array<std::vector<std::pair<uint32_t, uint32_t>>, 2>> reverse_;
  std::vector<Alternative> alternatives_;
  std::vector<bool> in_pair_;
};

}  // namespace

void FindingList::Add(const Finding& f) {
  size_t total = f.message.size() + f.condition.size();
  for (const Finding::Note& note : f.notes) total += note.message.size();
  // Blocks of 4 KiB, 8 KiB, ... up to 1 MiB: many short lists (a part's,
  // CheckModel) take little more than their texts.
  constexpr size_t kFirstBlockBytes = size_t{1} << 12, kBlockBytes = size_t{1} << 20;
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < total) {
    size_t bytes = blocks_.size() >= 8 ? kBlockBytes : kFirstBlockBytes << blocks_.size();
    blocks_.emplace_back().reserve(std::max(bytes, total));
  }
  std::string& block = blocks_.back();
  Entry e;
  e.loc = f.loc;
  e.kind = f.kind;
  e.block = static_cast<uint32_t>(blocks_.size() - 1);
  e.offset = static_cast<uint32_t>(block.size());
  e.message_size = static_cast<uint32_t>(f.message.size());
  e.condition_size = static_cast<uint32_t>(f.condition.size());
  e.first_note = static_cast<uint32_t>(notes_.size());
  e.note_count = static_cast<uint32_t>(f.notes.size());
  block += f.message;
  block += f.condition;
  for (const Finding::Note& note : f.notes) {
    block += note.message;
    notes_.push_back({note.loc, static_cast<uint32_t>(note.message.size())});
  }
  entries_.push_back(e);
}

Finding FindingList::Get(size_t i) const {
  const Entry& e = entries_[i];
  std::string_view text = std::string_view(blocks_[e.block]).substr(e.offset);
  Finding f{e.kind, e.loc, std::string(text.substr(0, e.message_size)),
            std::string(text.substr(e.message_size, e.condition_size)), {}};
  size_t at = size_t{e.message_size} + e.condition_size;
  f.notes.reserve(e.note_count);
  for (uint32_t n = e.first_note; n < e.first_note + e.note_count; ++n) {
    f.notes.push_back({notes_[n].loc, std::string(text.substr(at, notes_[n].size))});
    at += notes_[n].size;
  }
  return f;
}

void FindingList::Filter(const std::function<bool(DiagnosticKind)>& keep) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return !keep(e.kind); }),
                 entries_.end());
}

int FindingList::Compare(const Entry& a, const Entry& b) const {
  const auto ka = std::tie(a.loc.file, a.loc.line, a.loc.column, a.kind);
  const auto kb = std::tie(b.loc.file, b.loc.line, b.loc.column, b.kind);
  if (ka != kb) return ka < kb ? -1 : 1;
  return Message(a).compare(Message(b));
}


void FindingList::Sort() {
  // Stable, but in place (a stable sort's buffer would be the size of the
  // list): equal findings keep their order by where they were.
  for (size_t i = 0; i < entries_.size(); ++i) entries_[i].seq = static_cast<uint32_t>(i);
  std::sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    const int order = Compare(a, b);
    return order < 0 || (order == 0 && a.seq < b.seq);
  });
}

FindingList FindingList::MergeSorted(std::vector<FindingList> runs) {
  if (runs.size() == 1) return std::move(runs.front());
  FindingList out;
  size_t entries = 0, notes = 0;
  for (const FindingList& run : runs) {
    entries += run.entries_.size();
    notes += run.notes_.size();
  }
  out.entries_.reserve(entries);
  out.notes_.reserve(notes);
  // Every run's texts and notes, its entries pointing at them in `out`.
  for (FindingList& run : runs) {
    const uint32_t block_base = static_cast<uint32_t>(out.blocks_.size());
    const uint32_t note_base = static_cast<uint32_t>(out.notes_.size());
    for (std::string& block : run.blocks_) out.blocks_.push_back(std::move(block));
    out.notes_.insert(out.notes_.end(), run.notes_.begin(), run.notes_.end());
    std::vector<NoteEntry>().swap(run.notes_);
    for (Entry& e : run.entries_) {
      e.block += block_base;
      e.first_note += note_base;
    }
  }
  // The least first entry of the runs left, earlier runs first among equals:
  // a heap of (run, position), its top the next entry.
  std::vector<std::pair<uint32_t, size_t>> heap;
  auto after = [&](const std::pair<uint32_t, size_t>& a, const std::pair<uint32_t, size_t>& b) {
    const int order = out.Compare(runs[a.first].entries_[a.second], runs[b.first].entries_[b.second]);
    return order > 0 || (order == 0 && a.first > b.first);
  };
  for (uint32_t k = 0; k < runs.size(); ++k) {
    if (!runs[k].entries_.empty()) heap.push_back({k, 0});
  }
  std::make_heap(heap.begin(), heap.end(), after);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    auto& [k, i] = heap.back();
    out.entries_.push_back(runs[k].entries_[i]);
    if (++i < runs[k].entries_.size()) {
      std::push_heap(heap.begin(), heap.end(), after);
    } else {
      std::vector<Entry>().swap(runs[k].entries_);
      heap.pop_back();
    }
  }
  return out;
}

void FindingList::Merge(FindingList other) {
  std::vector<FindingList> runs;
  runs.push_back(std::move(*this));
  runs.push_back(std::move(other));
  *this = MergeSorted(std::move(runs));
}

FindingList CheckDeclarations(const ir::Module& module, const ir::Config& config) {
  return DeclarationChecker(module, config).Run();
}

std::vector<FindingList> CheckModelRuns(Model& model, Model& open, size_t components_per_part) {
  return Checker(model, open, components_per_part).Run();
}

FindingList CheckModel(Model& model, Model& open, size_t components_per_part) {
  return FindingList::MergeSorted(CheckModelRuns(model, open, components_per_part));
}

std::vector<Finding> Check(Model& model, Model& open) {
  FindingList list = CheckModel(model, open);
  list.Merge(CheckDeclarations(model.module(), model.config()));
  std::vector<Finding> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) out.push_back(list.Get(i));
  return out;
}

}  // namespace netpolc::analysis
