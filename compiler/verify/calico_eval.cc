#include "compiler/verify/calico_eval.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <tuple>

namespace netpolc::verify {

// ---------------------------------------------------------------------------
// Selectors

struct CalicoSelector::Node {
  enum class Kind {
    kAll, kGlobal, kHas, kEq, kNe, kIn, kNotIn, kContains, kStartsWith, kEndsWith,
    kNot, kAnd, kOr,
  };
  Kind kind = Kind::kAll;
  std::string key;
  std::vector<std::string> values;  // one for kEq..kEndsWith (except kIn/kNotIn: the set)
  std::vector<std::shared_ptr<const Node>> children;

  bool Eval(const Labels& labels, bool global) const {
    auto it = key.empty() ? labels.end() : labels.find(key);
    bool present = it != labels.end();
    switch (kind) {
      case Kind::kAll:
        return true;
      case Kind::kGlobal:
        return global;
      case Kind::kHas:
        return present;
      case Kind::kEq:
        return present && it->second == values[0];
      case Kind::kNe:
        return !present || it->second != values[0];
      case Kind::kIn:
        return present && std::find(values.begin(), values.end(), it->second) != values.end();
      case Kind::kNotIn:
        return !present || std::find(values.begin(), values.end(), it->second) == values.end();
      case Kind::kContains:
        return present && it->second.find(values[0]) != std::string::npos;
      case Kind::kStartsWith:
        return present && it->second.compare(0, values[0].size(), values[0]) == 0;
      case Kind::kEndsWith:
        return present && it->second.size() >= values[0].size() &&
               it->second.compare(it->second.size() - values[0].size(), values[0].size(),
                                  values[0]) == 0;
      case Kind::kNot:
        return !children[0]->Eval(labels, global);
      case Kind::kAnd:
        return std::all_of(children.begin(), children.end(),
                           [&](const auto& c) { return c->Eval(labels, global); });
      case Kind::kOr:
        return std::any_of(children.begin(), children.end(),
                           [&](const auto& c) { return c->Eval(labels, global); });
    }
    return false;
  }
};

namespace {

using SelectorNode = CalicoSelector::Node;

struct Token {
  enum class Kind {
    kLabel, kString, kLBrace, kRBrace, kComma, kEq, kNe, kIn, kNot, kNotIn, kContains,
    kStartsWith, kEndsWith, kAll, kGlobal, kHas, kLParen, kRParen, kAnd, kOr, kEof,
  };
  Kind kind;
  std::string value;
  size_t position;
};

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-';
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text) {}

  std::shared_ptr<const SelectorNode> Parse() {
    Tokenize();
    auto root = Or();
    if (Peek().kind != Token::Kind::kEof) Fail(Peek().position, "unexpected token");
    return root;
  }

 private:
  [[noreturn]] void Fail(size_t position, std::string_view message) const {
    throw Error(fmt::format("invalid Calico selector \"{}\" at offset {}: {}", text_, position,
                            message));
  }

  // Skips whitespace, then matches `word` followed by spaces and `next`.
  static size_t MatchWords(std::string_view s, std::string_view first, std::string_view second) {
    if (s.substr(0, first.size()) != first) return 0;
    size_t i = first.size();
    if (second.empty()) return i;
    size_t j = i;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (s.substr(j, second.size()) != second) return 0;
    return j + second.size();
  }

  // Matches name "(" spaces [key] spaces ")"; returns the length, sets key.
  static size_t MatchCall(std::string_view s, std::string_view name, bool with_key, std::string& key) {
    if (s.substr(0, name.size() + 1) != std::string(name) + "(") return 0;
    size_t i = name.size() + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (with_key) {
      size_t start = i;
      while (i < s.size() && IsKeyChar(s[i])) ++i;
      if (i == start || i - start > 512) return 0;
      key = std::string(s.substr(start, i - start));
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    }
    if (i >= s.size() || s[i] != ')') return 0;
    return i + 1;
  }

  void Tokenize() {
    size_t i = 0;
    while (true) {
      while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
      if (i >= text_.size()) {
        tokens_.push_back({Token::Kind::kEof, "", i});
        return;
      }
      const size_t at = i;
      const char c = text_[i];
      const bool after_label = !tokens_.empty() && tokens_.back().kind == Token::Kind::kLabel;
      auto push = [&](Token::Kind kind, size_t length, std::string value = {}) {
        tokens_.push_back({kind, std::move(value), at});
        i += length;
      };
      switch (c) {
        case '(':
          push(Token::Kind::kLParen, 1);
          continue;
        case ')':
          push(Token::Kind::kRParen, 1);
          continue;
        case '{':
          push(Token::Kind::kLBrace, 1);
          continue;
        case '}':
          push(Token::Kind::kRBrace, 1);
          continue;
        case ',':
          push(Token::Kind::kComma, 1);
          continue;
        case '"':
        case '\'': {
          size_t end = text_.find(c, i + 1);
          if (end == std::string_view::npos) Fail(at, "unterminated quote");
          push(Token::Kind::kString, end + 1 - i, std::string(text_.substr(i + 1, end - i - 1)));
          continue;
        }
        case '=':
          if (i + 1 < text_.size() && text_[i + 1] == '=') {
            push(Token::Kind::kEq, 2);
            continue;
          }
          Fail(at, "expected ==");
        case '!':
          if (i + 1 < text_.size() && text_[i + 1] == '=') {
            push(Token::Kind::kNe, 2);
          } else {
            push(Token::Kind::kNot, 1);
          }
          continue;
        case '&':
          if (i + 1 < text_.size() && text_[i + 1] == '&') {
            push(Token::Kind::kAnd, 2);
            continue;
          }
          Fail(at, "expected &&");
        case '|':
          if (i + 1 < text_.size() && text_[i + 1] == '|') {
            push(Token::Kind::kOr, 2);
            continue;
          }
          Fail(at, "expected ||");
        default:
          break;
      }
      std::string_view rest = text_.substr(i);
      if (after_label) {
        size_t n = 0;
        if ((n = MatchWords(rest, "contains", ""))) {
          push(Token::Kind::kContains, n);
        } else if ((n = MatchWords(rest, "starts", "with"))) {
          push(Token::Kind::kStartsWith, n);
        } else if ((n = MatchWords(rest, "ends", "with"))) {
          push(Token::Kind::kEndsWith, n);
        } else if ((n = MatchWords(rest, "not", "in")) && (n >= rest.size() || !IsWordChar(rest[n]))) {
          push(Token::Kind::kNotIn, n);
        } else if (rest.substr(0, 2) == "in" && (rest.size() == 2 || !IsWordChar(rest[2]))) {
          push(Token::Kind::kIn, 2);
        } else {
          Fail(at, "expected an operator after a label");
        }
        continue;
      }
      std::string key;
      size_t n = 0;
      if ((n = MatchCall(rest, "has", true, key))) {
        push(Token::Kind::kHas, n, key);
      } else if ((n = MatchCall(rest, "all", false, key))) {
        push(Token::Kind::kAll, n);
      } else if ((n = MatchCall(rest, "global", false, key))) {
        push(Token::Kind::kGlobal, n);
      } else {
        while (n < rest.size() && IsKeyChar(rest[n])) ++n;
        if (n == 0 || n > 512) Fail(at, "unexpected characters");
        push(Token::Kind::kLabel, n, std::string(rest.substr(0, n)));
      }
    }
  }

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  const Token& Expect(Token::Kind kind, std::string_view what) {
    if (Peek().kind != kind) Fail(Peek().position, fmt::format("expected {}", what));
    return Next();
  }

  std::shared_ptr<const SelectorNode> Or() {
    auto first = And();
    if (Peek().kind != Token::Kind::kOr) return first;
    auto node = std::make_shared<SelectorNode>();
    node->kind = SelectorNode::Kind::kOr;
    node->children.push_back(first);
    while (Peek().kind == Token::Kind::kOr) {
      Next();
      node->children.push_back(And());
    }
    return node;
  }

  std::shared_ptr<const SelectorNode> And() {
    auto first = Unary();
    if (Peek().kind != Token::Kind::kAnd) return first;
    auto node = std::make_shared<SelectorNode>();
    node->kind = SelectorNode::Kind::kAnd;
    node->children.push_back(first);
    while (Peek().kind == Token::Kind::kAnd) {
      Next();
      node->children.push_back(Unary());
    }
    return node;
  }

  std::shared_ptr<const SelectorNode> Unary() {
    auto node = std::make_shared<SelectorNode>();
    const Token& t = Next();
    switch (t.kind) {
      case Token::Kind::kNot:
        node->kind = SelectorNode::Kind::kNot;
        node->children.push_back(Unary());
        return node;
      case Token::Kind::kLParen: {
        auto inner = Or();
        Expect(Token::Kind::kRParen, "')'");
        return inner;
      }
      case Token::Kind::kAll:
        node->kind = SelectorNode::Kind::kAll;
        return node;
      case Token::Kind::kGlobal:
        node->kind = SelectorNode::Kind::kGlobal;
        return node;
      case Token::Kind::kHas:
        node->kind = SelectorNode::Kind::kHas;
        node->key = t.value;
        return node;
      case Token::Kind::kLabel:
        break;
      default:
        Fail(t.position, "expected a selector expression");
    }
    node->key = t.value;
    const Token& op = Next();
    switch (op.kind) {
      case Token::Kind::kEq:
      case Token::Kind::kNe:
      case Token::Kind::kContains:
      case Token::Kind::kStartsWith:
      case Token::Kind::kEndsWith:
        node->kind = op.kind == Token::Kind::kEq           ? SelectorNode::Kind::kEq
                     : op.kind == Token::Kind::kNe         ? SelectorNode::Kind::kNe
                     : op.kind == Token::Kind::kContains   ? SelectorNode::Kind::kContains
                     : op.kind == Token::Kind::kStartsWith ? SelectorNode::Kind::kStartsWith
                                                           : SelectorNode::Kind::kEndsWith;
        node->values.push_back(Expect(Token::Kind::kString, "a quoted string").value);
        return node;
      case Token::Kind::kIn:
      case Token::Kind::kNotIn:
        node->kind = op.kind == Token::Kind::kIn ? SelectorNode::Kind::kIn : SelectorNode::Kind::kNotIn;
        Expect(Token::Kind::kLBrace, "'{'");
        if (Peek().kind != Token::Kind::kRBrace) {
          node->values.push_back(Expect(Token::Kind::kString, "a quoted string").value);
          while (Peek().kind == Token::Kind::kComma) {
            Next();
            node->values.push_back(Expect(Token::Kind::kString, "a quoted string").value);
          }
        }
        Expect(Token::Kind::kRBrace, "'}'");
        return node;
      default:
        Fail(op.position, "expected an operator after a label");
    }
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

CalicoSelector CalicoSelector::Parse(std::string_view text) {
  CalicoSelector selector;
  selector.root_ = SelectorParser(text).Parse();
  return selector;
}

bool CalicoSelector::Matches(const Labels& labels, bool global) const {
  return root_->Eval(labels, global);
}

// ---------------------------------------------------------------------------
// Policies

namespace {

constexpr int kTcp = 6, kUdp = 17, kSctp = 132;

int ProtocolNumber(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTCP:
      return kTcp;
    case Protocol::kUDP:
      return kUdp;
    case Protocol::kSCTP:
      return kSctp;
  }
  return 0;
}

struct CalicoEntity {
  std::vector<Cidr> nets, not_nets;
  std::optional<CalicoSelector> selector, not_selector, namespace_selector;
  bool has_ports = false;
  PortSet ports;
  PortSet not_ports;
  std::vector<std::string> port_names;  // named ports in `ports`
};

struct CalicoRule {
  enum class Action { kAllow, kDeny, kLog };
  Action action = Action::kAllow;
  std::optional<int> protocol, not_protocol;
  std::optional<int> ip_version;
  CalicoEntity source, destination;
};

}  // namespace

struct CalicoEvaluator::Policy {
  std::string name;
  std::string ns;
  double order = std::numeric_limits<double>::infinity();
  CalicoSelector selector;
  bool ingress_type = false, egress_type = false;
  std::vector<CalicoRule> ingress, egress;
};

namespace {

class Parser {
 public:
  explicit Parser(DocReader& reader) : r_(reader) {}
  CalicoEvaluator::Policy ParseDocument(const YAML::Node& doc);

 private:
  CalicoSelector ParseSelector(const YAML::Node& node, const std::string& path) {
    std::string text = r_.String(node, path);
    try {
      return CalicoSelector::Parse(text);
    } catch (const Error& e) {
      r_.Fail(path, e.what());
    }
  }

  int ParseProtocol(const YAML::Node& node, const std::string& path) {
    std::string text = r_.String(node, path);
    if (node.Tag() != "!") {
      int number = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, number);
      if (!text.empty() && ec == std::errc() && ptr == end) {
        if (number < 1 || number > 255) r_.Fail(path, "protocol numbers are 1-255");
        return number;
      }
    }
    static const std::pair<std::string_view, int> kNames[] = {
        {"TCP", kTcp}, {"UDP", kUdp}, {"SCTP", kSctp}, {"ICMP", 1}, {"ICMPv6", 58}, {"UDPLite", 136}};
    for (const auto& [name, number] : kNames) {
      if (text == name) return number;
    }
    r_.Fail(path, fmt::format("unknown protocol '{}'", text));
  }

  void ParsePorts(const YAML::Node& node, const std::string& path, PortSet& out,
                  std::vector<std::string>* names = nullptr) {
    r_.RequireList(node, path);
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = DocReader::Index(path, i);
      std::string text = r_.String(node[i], p);
      int first = 0, last = 0;
      auto parse = [&](std::string_view part) {
        int v = -1;
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || ptr != part.data() + part.size()) return -1;
        return v;
      };
      size_t colon = text.find(':');
      if (colon == std::string::npos) {
        first = last = parse(text);
        if (first < 0 && names != nullptr && !text.empty() &&
            std::all_of(text.begin(), text.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            })) {
          names->push_back(text);  // a named port of the destination endpoint
          continue;
        }
        if (first < 0) r_.Fail(p, fmt::format("named ports are not supported here ('{}')", text));
      } else {
        first = parse(std::string_view(text).substr(0, colon));
        last = parse(std::string_view(text).substr(colon + 1));
        if (first < 0 || last < 0) r_.Fail(p, fmt::format("invalid port range '{}'", text));
      }
      if (first < 0 || last > kMaxPort || first > last) r_.Fail(p, fmt::format("invalid port '{}'", text));
      for (Protocol protocol : kProtocols) out.Add(protocol, first, last);
    }
  }

  CalicoEntity ParseEntity(const YAML::Node& node, const std::string& path, bool destination) {
    CalicoEntity entity;
    if (DocReader::Absent(node)) return entity;
    r_.RequireMap(node, path);
    r_.Unsupported(node, path, {"serviceAccounts", "services"});
    if (!destination) r_.Unsupported(node, path, {"ports", "notPorts"});  // source ports
    r_.CheckKeys(node, path,
                 {"nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports", "notPorts"});
    for (const char* key : {"nets", "notNets"}) {
      YAML::Node list = node[key];
      if (DocReader::Absent(list)) continue;
      std::string p = DocReader::Join(path, key);
      r_.RequireList(list, p);
      std::optional<IpAddress::Family> family;
      for (size_t i = 0; i < list.size(); ++i) {
        std::string q = DocReader::Index(p, i);
        std::string text = r_.String(list[i], q);
        if (text.find('/') == std::string::npos) text += text.find(':') == std::string::npos ? "/32" : "/128";
        std::optional<Cidr> cidr = Cidr::Parse(text);
        if (!cidr) r_.Fail(q, fmt::format("invalid CIDR '{}'", text));
        if (family && *family != cidr->network().family()) r_.Fail(q, "IPv4 and IPv6 CIDRs are mixed");
        family = cidr->network().family();
        (std::string_view(key) == "nets" ? entity.nets : entity.not_nets).push_back(*cidr);
      }
    }
    if (YAML::Node s = node["selector"]; !DocReader::Absent(s)) {
      entity.selector = ParseSelector(s, DocReader::Join(path, "selector"));
    }
    if (YAML::Node s = node["notSelector"]; !DocReader::Absent(s)) {
      entity.not_selector = ParseSelector(s, DocReader::Join(path, "notSelector"));
    }
    if (YAML::Node s = node["namespaceSelector"]; !DocReader::Absent(s)) {
      entity.namespace_selector = ParseSelector(s, DocReader::Join(path, "namespaceSelector"));
    }
    if (YAML::Node p = node["ports"]; !DocReader::Absent(p)) {
      entity.has_ports = true;
      ParsePorts(p, DocReader::Join(path, "ports"), entity.ports, &entity.port_names);
    }
    if (YAML::Node p = node["notPorts"]; !DocReader::Absent(p)) {
      ParsePorts(p, DocReader::Join(path, "notPorts"), entity.not_ports);
    }
    return entity;
  }

  std::vector<CalicoRule> ParseRules(const YAML::Node& node, const std::string& path) {
    std::vector<CalicoRule> rules;
    r_.RequireList(node, path);
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = DocReader::Index(path, i);
      r_.RequireMap(node[i], p);
      r_.Unsupported(node[i], p, {"http", "icmp", "notICMP"});
      r_.CheckKeys(node[i], p,
                   {"action", "protocol", "notProtocol", "ipVersion", "source", "destination", "metadata"});
      CalicoRule rule;
      std::string action = r_.String(node[i]["action"], DocReader::Join(p, "action"));
      if (action == "Allow") {
        rule.action = CalicoRule::Action::kAllow;
      } else if (action == "Deny") {
        rule.action = CalicoRule::Action::kDeny;
      } else if (action == "Log") {
        rule.action = CalicoRule::Action::kLog;
      } else if (action == "Pass") {
        r_.Fail(DocReader::Join(p, "action"), "Pass is not supported by this evaluator");
      } else {
        r_.Fail(DocReader::Join(p, "action"), fmt::format("unknown action '{}'", action));
      }
      if (YAML::Node n = node[i]["protocol"]; !DocReader::Absent(n)) {
        rule.protocol = ParseProtocol(n, DocReader::Join(p, "protocol"));
      }
      if (YAML::Node n = node[i]["notProtocol"]; !DocReader::Absent(n)) {
        rule.not_protocol = ParseProtocol(n, DocReader::Join(p, "notProtocol"));
      }
      if (YAML::Node n = node[i]["ipVersion"]; !DocReader::Absent(n)) {
        int64_t v = r_.Integer(n, DocReader::Join(p, "ipVersion"));
        if (v != 4 && v != 6) r_.Fail(DocReader::Join(p, "ipVersion"), "must be 4 or 6");
        rule.ip_version = static_cast<int>(v);
      }
      rule.source = ParseEntity(node[i]["source"], DocReader::Join(p, "source"), false);
      rule.destination = ParseEntity(node[i]["destination"], DocReader::Join(p, "destination"), true);
      bool ports = rule.destination.has_ports || !rule.destination.not_ports.empty();
      if (ports && (!rule.protocol || (*rule.protocol != kTcp && *rule.protocol != kUdp &&
                                       *rule.protocol != kSctp))) {
        r_.Fail(p, "ports need protocol TCP, UDP or SCTP");
      }
      rules.push_back(std::move(rule));
    }
    return rules;
  }

  DocReader& r_;
};

CalicoEvaluator::Policy Parser::ParseDocument(const YAML::Node& doc) {
  CalicoEvaluator::Policy policy;
  std::tie(policy.name, policy.ns) = r_.ReadHeader(doc, "projectcalico.org/v3", "NetworkPolicy");
  const YAML::Node spec = doc["spec"];
  r_.RequireMap(spec, "spec");
  r_.Unsupported(spec, "spec", {"serviceAccountSelector"});
  r_.CheckKeys(spec, "spec", {"order", "selector", "types", "ingress", "egress", "tier", "performanceHints"});
  if (YAML::Node tier = spec["tier"]; !DocReader::Absent(tier) && r_.String(tier, "spec.tier") != "default") {
    r_.Fail("spec.tier", "only the default tier is supported");
  }
  if (YAML::Node order = spec["order"]; !DocReader::Absent(order)) {
    policy.order = r_.Number(order, "spec.order");
  }
  std::string selector = DocReader::Absent(spec["selector"]) ? "" : r_.String(spec["selector"], "spec.selector");
  policy.selector = selector.empty() ? CalicoSelector::Parse("all()") : ParseSelector(spec["selector"], "spec.selector");
  if (!DocReader::Absent(spec["ingress"])) policy.ingress = ParseRules(spec["ingress"], "spec.ingress");
  if (!DocReader::Absent(spec["egress"])) policy.egress = ParseRules(spec["egress"], "spec.egress");
  if (YAML::Node types = spec["types"]; !DocReader::Absent(types)) {
    r_.RequireList(types, "spec.types");
    if (types.size() == 0 || types.size() > 2) r_.Fail("spec.types", "needs one or two types");
    for (size_t i = 0; i < types.size(); ++i) {
      std::string t = r_.String(types[i], DocReader::Index("spec.types", i));
      if (t == "Ingress") {
        policy.ingress_type = true;
      } else if (t == "Egress") {
        policy.egress_type = true;
      } else {
        r_.Fail(DocReader::Index("spec.types", i), fmt::format("unknown type '{}'", t));
      }
    }
  } else {
    // Defaults documented for `types`.
    policy.egress_type = !policy.egress.empty();
    policy.ingress_type = !policy.ingress.empty() || policy.egress.empty();
  }
  return policy;
}

}  // namespace

CalicoEvaluator::CalicoEvaluator(const Universe& universe, std::string_view yaml,
                                 std::string_view source_name)
    : universe_(universe) {
  for (auto& [index, doc] : LoadDocuments(yaml, source_name)) {
    DocReader reader(source_name, index);
    try {
      policies_.push_back(Parser(reader).ParseDocument(doc));
    } catch (const YAML::Exception& e) {
      reader.Fail("", e.what());
    }
  }
  std::stable_sort(policies_.begin(), policies_.end(), [](const Policy& a, const Policy& b) {
    return std::tie(a.order, a.name) < std::tie(b.order, b.name);
  });
  pod_labels_.resize(universe.size());
  namespace_labels_.resize(universe.size());
  for (size_t e = 0; e < universe.size(); ++e) {
    const Endpoint& ep = universe.endpoint(e);
    if (ep.kind != Endpoint::Kind::kPod) continue;
    pod_labels_[e] = ep.labels;
    pod_labels_[e]["projectcalico.org/namespace"] = ep.namespace_name;
    pod_labels_[e]["projectcalico.org/orchestrator"] = "k8s";
    namespace_labels_[e] = universe.namespace_labels(e);
    namespace_labels_[e]["projectcalico.org/name"] = ep.namespace_name;
  }
}

CalicoEvaluator::~CalicoEvaluator() = default;

PortSet CalicoEvaluator::Allowed(Side side, size_t subject, size_t peer) const {
  const Endpoint& ep = universe_.endpoint(subject);
  if (ep.kind != Endpoint::Kind::kPod) return PortSet::All();
  const bool ingress = side == Side::kIngress;
  std::vector<const Policy*> applicable;
  for (const Policy& policy : policies_) {  // sorted by order, then name
    if (policy.ns != ep.namespace_name || !(ingress ? policy.ingress_type : policy.egress_type) ||
        !policy.selector.Matches(pod_labels_[subject])) {
      continue;
    }
    applicable.push_back(&policy);
  }
  if (applicable.empty()) return PortSet::All();

  PortSampler sampler;
  for (const Policy* policy : applicable) {
    for (const CalicoRule& rule : ingress ? policy->ingress : policy->egress) {
      for (const PortSet* set : {&rule.destination.ports, &rule.destination.not_ports}) {
        for (Protocol protocol : kProtocols) {
          for (const auto& [first, last] : set->ranges(protocol)) sampler.AddRange(protocol, first, last);
        }
      }
      if (rule.destination.port_names.empty()) continue;
      const Endpoint& destination = universe_.endpoint(ingress ? subject : peer);
      for (const ContainerPort& cp : destination.ports) sampler.AddRange(cp.protocol, cp.port, cp.port);
    }
  }

  const size_t src = ingress ? peer : subject;
  const size_t dst = ingress ? subject : peer;
  const size_t other = peer;
  auto entity_matches = [&](const CalicoEntity& e, size_t endpoint, const std::string& policy_ns) {
    const std::optional<IpAddress>& ip = universe_.ip(endpoint);
    if (!e.nets.empty()) {
      if (!ip || std::none_of(e.nets.begin(), e.nets.end(), [&](const Cidr& c) { return c.Contains(*ip); })) {
        return false;
      }
    }
    if (!e.not_nets.empty() && ip &&
        std::any_of(e.not_nets.begin(), e.not_nets.end(), [&](const Cidr& c) { return c.Contains(*ip); })) {
      return false;
    }
    const bool pod = universe_.is_pod(endpoint);
    if (e.selector || e.not_selector || e.namespace_selector) {
      if (!pod) return false;
      bool in_scope = e.namespace_selector
                          ? e.namespace_selector->Matches(namespace_labels_[endpoint])
                          : universe_.endpoint(endpoint).namespace_name == policy_ns;
      if (!in_scope) return false;
      if (e.selector && !e.selector->Matches(pod_labels_[endpoint])) return false;
    }
    if (e.not_selector && pod && e.not_selector->Matches(pod_labels_[endpoint])) return false;
    return true;
  };
  auto rule_matches = [&](const CalicoRule& rule, const std::string& policy_ns, Protocol protocol, int port) {
    int number = ProtocolNumber(protocol);
    if (rule.protocol && *rule.protocol != number) return false;
    if (rule.not_protocol && *rule.not_protocol == number) return false;
    if (rule.ip_version) {
      const std::optional<IpAddress>& ip = universe_.ip(other);
      if (!ip || (ip->family() == IpAddress::Family::kV4 ? 4 : 6) != *rule.ip_version) return false;
    }
    if (rule.destination.has_ports && !rule.destination.ports.Contains(protocol, port)) {
      // A named port: the destination endpoint's port of that name and
      // protocol (only pods have named ports).
      const Endpoint& destination = universe_.endpoint(dst);
      bool named = std::any_of(
          rule.destination.port_names.begin(), rule.destination.port_names.end(),
          [&](const std::string& name) {
            return std::any_of(destination.ports.begin(), destination.ports.end(),
                               [&](const ContainerPort& cp) {
                                 return cp.name == name && cp.protocol == protocol && cp.port == port;
                               });
          });
      if (!named) return false;
    }
    if (rule.destination.not_ports.Contains(protocol, port)) return false;
    return entity_matches(rule.source, src, policy_ns) && entity_matches(rule.destination, dst, policy_ns);
  };
  return sampler.Sample([&](Protocol protocol, int port) {
    for (const Policy* policy : applicable) {
      for (const CalicoRule& rule : ingress ? policy->ingress : policy->egress) {
        if (!rule_matches(rule, policy->ns, protocol, port)) continue;
        if (rule.action == CalicoRule::Action::kAllow) return true;
        if (rule.action == CalicoRule::Action::kDeny) return false;
      }
    }
    return false;  // end of tier: denied
  });
}

}  // namespace netpolc::verify
