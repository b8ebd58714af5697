#include "compiler/manifests/import.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "compiler/manifests/connlist.h"

namespace netpolc::manifests {
namespace {

const std::set<std::string> kReserved = {
    "and",      "any",  "anywhere", "cidr",  "cluster",   "component", "dns",   "egress",
    "except",   "external", "false", "flag", "from",      "in",        "ingress", "instance",
    "labels",   "namespace", "namespaces", "not", "note", "off",       "or",    "param",
    "pods",     "scope", "sctp",    "tcp",   "to",        "true",      "udp",   "when"};

// A string literal of the rules language.
std::string Quote(std::string_view text) { return QuoteString(text); }

std::string LabelMap(const Labels& labels) {
  if (labels.empty()) return "{}";
  std::string out = "{ ";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ", ") + Quote(k) + ": " + Quote(v);
    first = false;
  }
  return out + " }";
}

// A selector as a label map of the rules language: its matchLabels, then its
// matchExpressions as requirements (`"k": in [...]`, `not in`, `exists`,
// `not exists`). The language takes a key once per map: a key used twice
// (in matchLabels and an expression, or in two expressions) is reported in
// `error` and nothing is returned.
std::string SelectorMap(const LabelSelector& selector, std::string& error) {
  using Op = verify::LabelSelectorRequirement::Operator;
  std::set<std::string> keys;
  std::string out;
  for (const auto& [k, v] : selector.match_labels) {
    keys.insert(k);
    out += (out.empty() ? "" : ", ") + Quote(k) + ": " + Quote(v);
  }
  for (const verify::LabelSelectorRequirement& r : selector.match_expressions) {
    if (!keys.insert(r.key).second) {
      error = fmt::format("the label key {} appears twice in one selector, which the rules "
                          "language cannot say yet",
                          Quote(EscapeText(r.key)));
      return "";
    }
    std::string entry = Quote(r.key) + ": ";
    switch (r.op) {
      case Op::kExists: entry += "exists"; break;
      case Op::kDoesNotExist: entry += "not exists"; break;
      case Op::kIn:
      case Op::kNotIn: {
        entry += r.op == Op::kIn ? "in [" : "not in [";
        for (size_t i = 0; i < r.values.size(); ++i) entry += (i ? ", " : "") + Quote(r.values[i]);
        entry += "]";
        break;
      }
    }
    out += (out.empty() ? "" : ", ") + entry;
  }
  return out.empty() ? "{}" : "{ " + out + " }";
}

// A port name as the rules language writes it: always quoted, so that a name
// that is also a keyword (`tcp`, `from`) stays a name.
std::string PortName(const std::string& name) { return Quote(name); }

// A name of the language: [A-Za-z_][A-Za-z0-9_]*, not reserved.
std::string Identifier(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
    if (out.size() >= 60) break;
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "c_" + out;
  if (kReserved.count(out)) out += "_";
  return out;
}

std::string ProtocolWord(Protocol p) {
  switch (p) {
    case Protocol::kUDP: return "udp";
    case Protocol::kSCTP: return "sctp";
    default: return "tcp";
  }
}

struct Component {
  std::string id;
  std::string ns;
  Labels labels;
  std::vector<std::string> lines;  // rules and comments, in order
  std::set<std::string> rules;     // to drop repeats
  bool isolates_ingress = false;   // some policy of it isolates its ingress
};

class Importer {
 public:
  explicit Importer(const Manifests& m) : m_(m) {}

  Imported Run() {
    // Components first, so that peers can name them.
    for (const NetworkPolicy& p : m_.policies) {
      if (!Subject(p)) continue;
      std::string key = Key(p.namespace_name, p.pod_selector.match_labels);
      if (by_key_.count(key)) continue;
      by_key_[key] = components_.size();
      components_.push_back({"", p.namespace_name, p.pod_selector.match_labels, {}, {}});
    }
    std::set<std::string> used;
    for (Component& c : components_) {
      std::string base = Identifier(BaseName(c));
      std::string id = base;
      for (int n = 2; used.count(id); ++n) id = fmt::format("{}_{}", base, n);
      used.insert(id);
      c.id = id;
    }
    for (const NetworkPolicy& p : m_.policies) {
      if (!Subject(p)) continue;
      Component& c = components_[by_key_.at(Key(p.namespace_name, p.pod_selector.match_labels))];
      size_t before_errors = out_.errors.size();
      std::vector<std::string> lines;
      lines.push_back("// NetworkPolicy " + EscapeText(p.Id()) + " (" + EscapeText(p.where.ToString()) + ")");
      for (bool ingress : {true, false}) {
        bool affects = ingress ? p.affects_ingress : p.affects_egress;
        const std::vector<PolicyRule>& rules = ingress ? p.ingress : p.egress;
        if (!affects) continue;
        if (rules.empty()) {
          lines.push_back(fmt::format("{} 1 {} anywhere when false;", ingress ? "ingress" : "egress",
                                      ingress ? "from" : "to"));
          continue;
        }
        for (const PolicyRule& rule : rules) {
          std::string text = Rule(p, rule, ingress);
          if (!text.empty()) lines.push_back(text);
        }
      }
      if (out_.errors.size() != before_errors) continue;
      if (p.affects_ingress) c.isolates_ingress = true;
      for (std::string& line : lines) {
        bool comment = line.rfind("//", 0) == 0;
        if (!comment && !c.rules.insert(line).second) continue;
        if (!comment) ++out_.rules;
        c.lines.push_back(std::move(line));
      }
    }
    out_.text = "// Imported by netpolc from Kubernetes NetworkPolicies.\n";
    out_.text += "// The policies admit name resolution themselves: no built-in DNS rule.\n";
    out_.text += "dns off;\n";
    for (const Component& c : components_) {
      if (c.labels.empty()) {
        // An empty pod selector: every pod of the namespace.
        out_.text += fmt::format("\ncomponent {} {{\n  labels any;\n  scope namespace;\n  namespace {};\n",
                                 c.id, Quote(c.ns));
      } else {
        out_.text += fmt::format("\ncomponent {} {{\n  labels {}\n  namespace {};\n", c.id,
                                 LabelMap(c.labels), Quote(c.ns));
      }
      for (const std::string& line : c.lines) out_.text += "  " + line + "\n";
      if (!c.isolates_ingress && !c.lines.empty()) {
        // A component with rules is isolated for ingress; no policy isolated it.
        out_.text += "  // No policy isolates its ingress: it admits everything.\n";
        out_.text += "  ingress tcp 1-65535, udp 1-65535, sctp 1-65535 from anywhere;\n";
        ++out_.rules;
      }
      out_.text += "}\n";
    }
    out_.components = components_.size();
    return out_;
  }

 private:
  static std::string Key(const std::string& ns, const Labels& labels) {
    return ns + "\n" + LabelMap(labels);
  }

  void Error(const NetworkPolicy& p, const Location& where, const std::string& message) {
    out_.errors.push_back(fmt::format("{}: NetworkPolicy {}: {}", EscapeText(where.ToString()),
                                      EscapeText(p.Id()), message));
  }

  // Whether the policy's pod selector can be a component; reports it if not.
  bool Subject(const NetworkPolicy& p) {
    if (!p.pod_selector.match_expressions.empty()) {
      if (reported_.insert(p.Id()).second) {
        Error(p, p.where, "a pod selector with matchExpressions cannot name a component yet");
      }
      return false;
    }
    return true;
  }

  std::string BaseName(const Component& c) const {
    if (c.labels.empty()) return "all_pods_" + c.ns;
    const Workload* only = nullptr;
    int count = 0;
    LabelSelector sel;
    sel.match_labels = c.labels;
    for (const Workload& w : m_.workloads) {
      if (w.namespace_name == c.ns && sel.Matches(w.labels)) {
        only = &w;
        ++count;
      }
    }
    if (count == 1) return only->name;
    std::string out;
    for (const auto& [k, v] : c.labels) out += (out.empty() ? "" : "_") + (v.empty() ? k : v);
    return out;
  }

  std::string Ports(const NetworkPolicy& p, const PolicyRule& rule) {
    if (rule.ports.empty()) return "tcp 1-65535, udp 1-65535, sctp 1-65535";
    std::string out;
    for (const PolicyPort& port : rule.ports) {
      std::string item = ProtocolWord(port.protocol) + " ";
      if (!port.named_port.empty()) {
        // Resolved, as in Kubernetes, against the pod receiving the connection.
        // A quoted number (`port: "80"`) is a name no container port has,
        // which the language does not take as a name.
        bool letter = std::any_of(port.named_port.begin(), port.named_port.end(),
                                  [](char c) { return c >= 'a' && c <= 'z'; });
        if (!letter) {
          Error(p, rule.where,
                fmt::format("the port {} is a quoted number, a port name that no container port "
                            "can have; the rules language cannot say it (write the number)",
                            Quote(EscapeText(port.named_port))));
          return "";
        }
        item += PortName(port.named_port);
      } else if (!port.port) {
        item += "1-65535";
      } else if (port.end_port && *port.end_port != *port.port) {
        item += fmt::format("{}-{}", *port.port, *port.end_port);
      } else {
        item += std::to_string(*port.port);
      }
      out += (out.empty() ? "" : ", ") + item;
    }
    return out;
  }

  std::string Peer(const NetworkPolicy& p, const PolicyRule& rule, const PolicyPeer& peer) {
    if (peer.ip_block) {
      std::string out = "cidr " + Quote(peer.ip_block->cidr);
      if (!peer.ip_block->except.empty()) {
        out += " except [";
        for (size_t i = 0; i < peer.ip_block->except.size(); ++i) {
          out += (i ? ", " : "") + Quote(peer.ip_block->except[i]);
        }
        out += "]";
      }
      return out;
    }
    LabelSelector pods = peer.pod_selector.value_or(LabelSelector{});
    std::string error;
    std::string pods_map = SelectorMap(pods, error);
    std::string ns_name;  // a single namespace, when the peer names one
    std::string scope;
    if (!peer.namespace_selector) {
      ns_name = p.namespace_name;
    } else {
      const LabelSelector& ns = *peer.namespace_selector;
      auto it = ns.match_labels.find("kubernetes.io/metadata.name");
      if (ns.match_labels.empty() && ns.match_expressions.empty()) {
        scope = " in any namespace";
      } else if (ns.match_labels.size() == 1 && it != ns.match_labels.end() &&
                 ns.match_expressions.empty()) {
        ns_name = it->second;
      } else {
        scope = " in namespaces " + SelectorMap(ns, error);
      }
    }
    if (!error.empty()) {
      Error(p, rule.where, error);
      return "";
    }
    if (!ns_name.empty()) {
      if (pods.match_expressions.empty()) {
        // A component: the same namespace and exactly its labels (the
        // component of every pod of the namespace for an empty selector).
        auto c = by_key_.find(Key(ns_name, pods.match_labels));
        if (c != by_key_.end()) return components_[c->second].id;
      }
      scope = " in namespace " + Quote(ns_name);
    }
    return "pods " + pods_map + scope;
  }

  std::string Rule(const NetworkPolicy& p, const PolicyRule& rule, bool ingress) {
    std::string ports = Ports(p, rule);
    if (ports.empty()) return "";
    std::string peers;
    if (rule.peers.empty()) {
      peers = "anywhere";
    } else {
      std::set<std::string> seen;
      for (const PolicyPeer& peer : rule.peers) {
        std::string text = Peer(p, rule, peer);
        if (text.empty()) return "";
        if (!seen.insert(text).second) continue;
        peers += (peers.empty() ? "" : ", ") + text;
      }
    }
    return fmt::format("{} {} {} {};", ingress ? "ingress" : "egress", ports, ingress ? "from" : "to",
                       peers);
  }

  const Manifests& m_;
  std::vector<Component> components_;
  std::map<std::string, size_t> by_key_;
  std::set<std::string> reported_;
  Imported out_;
};

}  // namespace

Imported ImportRules(const Manifests& manifests) { return Importer(manifests).Run(); }

}  // namespace netpolc::manifests
