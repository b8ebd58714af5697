#include "backends/markdown/wording.h"

#include <set>

#include "backends/markdown/escape.h"

namespace netpolc::backends::markdown {
namespace {

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t at = text.find(from, start);
    if (at == std::string_view::npos) break;
    out.append(text.substr(start, at - start));
    out.append(to);
    start = at + from.size();
  }
  out.append(text.substr(start));
  return out;
}

// --- Conditions -------------------------------------------------------------

// A condition in negation normal form: `not` only on flags, and/or flattened,
// constants folded away (they remain only as the whole term).
struct Term {
  enum class Kind { kTrue, kFalse, kFlag, kAnd, kOr };
  Kind kind = Kind::kTrue;
  uint32_t flag = 0;
  bool positive = true;  // kFlag
  std::vector<Term> children;  // kAnd, kOr
};

// Recursion depth is bounded by the parser's nesting limit.
Term Normalise(const ir::Condition& condition, uint32_t index, bool negate) {
  const ir::Condition::Node& node = condition.nodes.at(index);
  Term term;
  switch (node.op) {
    case ir::Condition::Op::kTrue:
    case ir::Condition::Op::kFalse:
      term.kind = (node.op == ir::Condition::Op::kTrue) != negate ? Term::Kind::kTrue
                                                                  : Term::Kind::kFalse;
      return term;
    case ir::Condition::Op::kFlag:
      term.kind = Term::Kind::kFlag;
      term.flag = node.flag;
      term.positive = !negate;
      return term;
    case ir::Condition::Op::kNot:
      return Normalise(condition, node.operands.at(0), !negate);
    case ir::Condition::Op::kAnd:
    case ir::Condition::Op::kOr:
      break;
  }
  bool is_and = (node.op == ir::Condition::Op::kAnd) != negate;
  term.kind = is_and ? Term::Kind::kAnd : Term::Kind::kOr;
  // The neutral constant is dropped, the absorbing one absorbs the group.
  Term::Kind neutral = is_and ? Term::Kind::kTrue : Term::Kind::kFalse;
  Term::Kind absorbing = is_and ? Term::Kind::kFalse : Term::Kind::kTrue;
  for (uint32_t operand : node.operands) {
    Term child = Normalise(condition, operand, negate);
    if (child.kind == neutral) continue;
    if (child.kind == absorbing) {
      Term constant;
      constant.kind = absorbing;
      return constant;
    }
    if (child.kind == term.kind) {
      for (Term& grandchild : child.children) term.children.push_back(std::move(grandchild));
    } else {
      term.children.push_back(std::move(child));
    }
  }
  if (term.children.empty()) {
    Term constant;
    constant.kind = neutral;
    return constant;
  }
  if (term.children.size() == 1) return std::move(term.children.front());
  return term;
}

bool IsGroup(const Term& term) {
  return term.kind == Term::Kind::kAnd || term.kind == Term::Kind::kOr;
}

std::string WithoutIf(std::string sentence) {
  if (sentence.rfind("If ", 0) == 0) sentence.erase(0, 3);
  return sentence;
}

std::string Clause(const ir::Module& module, const Term& term, bool nested) {
  switch (term.kind) {
    case Term::Kind::kTrue:
      return "always";
    case Term::Kind::kFalse:
      return "never";
    case Term::Kind::kFlag:
      if (term.flag >= module.flags.size()) return "?";
      return WithoutIf(FlagSentence(module.flags[term.flag], term.positive));
    case Term::Kind::kAnd:
    case Term::Kind::kOr:
      break;
  }
  bool is_and = term.kind == Term::Kind::kAnd;
  std::vector<std::string> parts;
  bool grouped = false;
  parts.reserve(term.children.size());
  for (const Term& child : term.children) {
    grouped = grouped || IsGroup(child);
    parts.push_back(Clause(module, child, /*nested=*/true));
  }
  std::string list = JoinList(parts, is_and ? "and" : "or", grouped);
  if (!nested) return list;
  std::string_view lead = parts.size() == 2 ? (is_and ? "both " : "either ")
                                            : (is_and ? "all of " : "any of ");
  return std::string(lead) + list;
}

}  // namespace

std::string JoinList(const std::vector<std::string>& items, std::string_view word, bool grouped) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      bool last = i + 1 == items.size();
      if (!last) {
        out += ", ";
      } else {
        out += grouped ? ", " : " ";
        out += word;
        out += ' ';
      }
    }
    out += items[i];
  }
  return out;
}

std::string FlagSentence(const ir::Flag& flag, bool enabled) {
  std::string doc = flag.link.empty()
                        ? OneLine(flag.doc)
                        : "[" + LinkText(flag.doc) + "](" + LinkDestination(flag.link) + ")";
  return ReplaceAll(enabled ? flag.enabled : flag.disabled, "{doc}", doc);
}

std::string ConditionText(const ir::Module& module, const ir::Condition& condition) {
  if (condition.always()) return "Always";
  Term term = Normalise(condition, static_cast<uint32_t>(condition.nodes.size() - 1), false);
  switch (term.kind) {
    case Term::Kind::kTrue:
      return "Always";
    case Term::Kind::kFalse:
      return "Never";
    case Term::Kind::kFlag:
      if (term.flag >= module.flags.size()) return "?";
      return FlagSentence(module.flags[term.flag], term.positive);
    case Term::Kind::kAnd:
    case Term::Kind::kOr:
      break;
  }
  return "If " + Clause(module, term, /*nested=*/false);
}

std::string Capitalise(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

// --- Peers ------------------------------------------------------------------

PeerWording::PeerWording(const ir::Module& module, const ir::Config& config,
                         const std::vector<bool>& enabled_components)
    : module_(module), config_(config), enabled_components_(enabled_components) {}

std::string PeerWording::Resolve(const ir::ValueRef& value) const {
  if (value.kind == ir::ValueRef::Kind::kLiteral) return value.literal;
  if (value.param >= config_.params.size()) return {};
  return config_.params[value.param].text;
}

std::string PeerWording::LabelText(const ir::LabelRef& label) const {
  return label.key + "=" + Resolve(label.value);
}

// Several labels select pods that carry all of them: kubectl's `k=v,k2=v2`.
std::string PeerWording::LabelList(const std::vector<ir::LabelRef>& labels) const {
  std::string out;
  for (const ir::LabelRef& label : labels) {
    if (!out.empty()) out += ',';
    out += LabelText(label);
  }
  return out;
}

// Labels and requirements in kubectl's selector syntax:
// `app=x,tier in (a,b),tier notin (c),debug,!debug`.
std::string PeerWording::SelectorText(const std::vector<ir::LabelRef>& labels,
                                      const std::vector<ir::RequirementRef>& requirements) const {
  std::string out = LabelList(labels);
  for (const ir::RequirementRef& r : requirements) {
    if (!out.empty()) out += ',';
    switch (r.op) {
      case ir::Requirement::Op::kIn:
      case ir::Requirement::Op::kNotIn: {
        out += r.key + (r.op == ir::Requirement::Op::kIn ? " in (" : " notin (");
        for (size_t i = 0; i < r.values.size(); ++i) out += (i > 0 ? "," : "") + Resolve(r.values[i]);
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
  return out;
}

std::string PeerWording::InstancePhrase() const {
  if (module_.instance.name.empty()) return "any pod in the instance";
  return "any pod in " + module_.instance.name + " instance";
}

std::string PeerWording::PeerPhrase(const ir::PeerRef& peer) const {
  switch (peer.kind) {
    case ir::PeerRef::Kind::kAnywhere:
      return "anywhere";
    case ir::PeerRef::Kind::kInstance:
      if (peer.product != 0) {
        // The instance of a product imported `as NAME`.
        const ir::Instance& instance = module_.InstanceOf(peer.product);
        if (!instance.name.empty()) return "any pod in " + instance.name + " instance";
        return "any pod in the " + module_.products[peer.product - 1].name + " instance";
      }
      return InstancePhrase();
    case ir::PeerRef::Kind::kExternal:
      return "any address outside the cluster";
    case ir::PeerRef::Kind::kCidr: {
      std::string out = "addresses in `" + peer.cidr + "`";
      if (!peer.except.empty()) {
        std::vector<std::string> except;
        for (const std::string& e : peer.except) except.push_back("`" + e + "`");
        out += " except " + JoinList(except, "and");
      }
      return out;
    }
    case ir::PeerRef::Kind::kPods: {
      std::string out = peer.pod_labels.empty() && peer.pod_exprs.empty()
                            ? std::string("any pod")
                            : "pods labelled `" + SelectorText(peer.pod_labels, peer.pod_exprs) + "`";
      switch (peer.ns) {
        case ir::PeerRef::Namespace::kInstance:
          break;  // the instance's namespace, where the policies are
        case ir::PeerRef::Namespace::kAny:
          out += " in any namespace";
          break;
        case ir::PeerRef::Namespace::kNamed:
          out += " in namespace `" + Resolve(peer.ns_name) + "`";
          break;
        case ir::PeerRef::Namespace::kLabels:
          out += peer.ns_labels.empty() && peer.ns_exprs.empty()
                     ? std::string(" in any namespace")
                     : " in namespaces labelled `" + SelectorText(peer.ns_labels, peer.ns_exprs) + "`";
          break;
      }
      return out;
    }
    case ir::PeerRef::Kind::kComponent:
    case ir::PeerRef::Kind::kParam:
      break;  // handled by Word
    case ir::PeerRef::Kind::kKubeApiserver:
      return "the Kubernetes API server";
    case ir::PeerRef::Kind::kNodes:
      return "cluster nodes and host-network pods";
  }
  return {};
}

bool PeerWording::AdmitsNoPeer(const ir::Rule& rule) const {
  auto absent = [&](const ir::PeerRef& peer) {
    if (peer.kind != ir::PeerRef::Kind::kComponent) return false;
    return peer.index >= module_.components.size() ||
           (peer.index < enabled_components_.size() && !enabled_components_[peer.index]);
  };
  for (const ir::PeerRef& peer : rule.peers) {
    if (peer.kind != ir::PeerRef::Kind::kParam) {
      if (!absent(peer)) return false;
      continue;
    }
    if (peer.index >= config_.params.size()) continue;
    for (const ir::PeerRef& inner : config_.params[peer.index].peers) {
      if (inner.kind != ir::PeerRef::Kind::kParam && !absent(inner)) return false;
    }
  }
  return true;
}

PeerWording::Words PeerWording::Word(const ir::Rule& rule) const {
  // The peers in order, parameters replaced by their values.
  std::vector<const ir::PeerRef*> peers;
  for (const ir::PeerRef& peer : rule.peers) {
    if (peer.kind != ir::PeerRef::Kind::kParam) {
      peers.push_back(&peer);
      continue;
    }
    if (peer.index >= config_.params.size()) continue;
    // Parameter values never refer to parameters (checked when lowered).
    for (const ir::PeerRef& inner : config_.params[peer.index].peers) {
      if (inner.kind != ir::PeerRef::Kind::kParam) peers.push_back(&inner);
    }
  }

  bool anywhere = false;
  std::vector<uint32_t> components;  // in order, without repeats
  std::set<uint32_t> seen;
  std::vector<std::string> phrases;  // "" marks where the components go
  std::vector<std::string> labels;   // of the peers that are not components
  for (const ir::PeerRef* peer : peers) {
    switch (peer->kind) {
      case ir::PeerRef::Kind::kAnywhere:
        anywhere = true;
        break;
      case ir::PeerRef::Kind::kComponent:
        if (peer->index >= module_.components.size()) break;
        if (peer->index < enabled_components_.size() && !enabled_components_[peer->index]) break;
        if (!seen.insert(peer->index).second) break;
        if (components.empty()) phrases.emplace_back();
        components.push_back(peer->index);
        break;
      case ir::PeerRef::Kind::kPods:
        phrases.push_back(PeerPhrase(*peer));
        if (!peer->pod_labels.empty() || !peer->pod_exprs.empty()) {
          labels.push_back(SelectorText(peer->pod_labels, peer->pod_exprs));
        }
        break;
      case ir::PeerRef::Kind::kInstance:
        phrases.push_back(PeerPhrase(*peer));
        if (!module_.InstanceOf(peer->product).labels.empty()) {
          labels.push_back(LabelList(module_.InstanceOf(peer->product).labels));
        }
        break;
      default:
        phrases.push_back(PeerPhrase(*peer));
        break;
    }
  }

  Words words;
  words.empty = !anywhere && phrases.empty();
  if (words.empty) return words;
  if (anywhere) {
    words.origin = rule.doc.empty() ? "Anywhere" : rule.doc;
    words.destination = words.origin;
    words.pod_label = "-";
    return words;
  }

  std::vector<std::string> names;
  bool all_cluster = true;
  std::vector<std::string> component_labels;
  for (uint32_t index : components) {
    const ir::Component& c = module_.components[index];
    names.push_back(c.name);
    all_cluster = all_cluster && c.scope == ir::Scope::kCluster;
    if (!c.pod_label.empty()) {
      component_labels.push_back(c.pod_label);
    } else if (!c.labels.empty()) {
      component_labels.push_back(LabelText(c.labels.front()));
    }
  }
  std::string names_text = JoinList(names, "and");

  std::vector<std::string> origin;
  origin.reserve(phrases.size());
  for (std::string& phrase : phrases) {
    // A cluster-scoped component (one per cluster, such as an operator) is
    // named without "pods" when it stands alone.
    origin.push_back(phrase.empty() ? names_text + (all_cluster ? "" : " pods") : phrase);
  }
  words.origin = rule.doc.empty() ? Capitalise(JoinList(origin, "and")) : rule.doc;

  // A destination names the rule's components when it has any; the other
  // peers (say `external` beside a component) are left to a note.
  if (!components.empty()) {
    words.destination = names_text;
    labels = std::move(component_labels);
  } else {
    words.destination = Capitalise(JoinList(origin, "and"));
  }
  if (!rule.doc.empty()) words.destination = rule.doc;
  std::string label_text;
  for (const std::string& label : labels) {
    if (!label_text.empty()) label_text += ", ";
    label_text += label;
  }
  words.pod_label = label_text.empty() ? "-" : label_text;
  return words;
}

}  // namespace netpolc::backends::markdown
