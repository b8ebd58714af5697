#include "compiler/verify/k8s_eval.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <sstream>
#include <utility>

#include <fmt/core.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace netpolc::verify {

// ---------------------------------------------------------------------------
// Protocols

std::string_view ToString(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTCP:
      return "TCP";
    case Protocol::kUDP:
      return "UDP";
    case Protocol::kSCTP:
      return "SCTP";
  }
  return "?";
}

std::optional<Protocol> ParseProtocol(std::string_view text) {
  if (text == "TCP") return Protocol::kTCP;
  if (text == "UDP") return Protocol::kUDP;
  if (text == "SCTP") return Protocol::kSCTP;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// IP addresses and CIDR blocks

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string buffer(text);  // inet_pton needs a terminated string.
  IpAddress address;
  if (inet_pton(AF_INET, buffer.c_str(), address.bytes_.data()) == 1) {
    address.family_ = Family::kV4;
    return address;
  }
  if (inet_pton(AF_INET6, buffer.c_str(), address.bytes_.data()) == 1) {
    address.family_ = Family::kV6;
    return address;
  }
  return std::nullopt;
}

bool IpAddress::bit(int index) const {
  const auto byte = bytes_[static_cast<std::size_t>(index / 8)];
  return ((byte >> (7 - index % 8)) & 1) != 0;
}

IpAddress IpAddress::Masked(int prefix_length) const {
  IpAddress result = *this;
  for (int i = std::max(prefix_length, 0); i < bit_count(); ++i) {
    auto& byte = result.bytes_[static_cast<std::size_t>(i / 8)];
    byte = static_cast<std::uint8_t>(byte & ~(1u << (7 - i % 8)));
  }
  return result;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_ == Family::kV4 ? AF_INET : AF_INET6, bytes_.data(), buffer,
            sizeof buffer);
  return buffer;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::optional<IpAddress> address =
      IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;

  const std::string_view prefix_text = text.substr(slash + 1);
  int prefix = -1;
  const char* end = prefix_text.data() + prefix_text.size();
  if (prefix_text.empty() || prefix_text.size() > 3 ||
      std::from_chars(prefix_text.data(), end, prefix).ptr != end ||
      prefix < 0 || prefix > address->bit_count()) {
    return std::nullopt;
  }
  return Cidr(address->Masked(prefix), prefix);
}

bool Cidr::Contains(const IpAddress& address) const {
  return address.family() == network_.family() &&
         address.Masked(prefix_length_) == network_;
}

bool Cidr::Contains(const Cidr& other) const {
  return other.prefix_length_ >= prefix_length_ && Contains(other.network_);
}

// ---------------------------------------------------------------------------
// Matching

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& [key, value] : match_labels) {
    const auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const LabelSelectorRequirement& requirement : match_expressions) {
    const auto it = labels.find(requirement.key);
    const bool present = it != labels.end();
    const auto in_values = [&] {
      return present && std::find(requirement.values.begin(),
                                  requirement.values.end(),
                                  it->second) != requirement.values.end();
    };
    bool ok = false;
    switch (requirement.op) {
      case LabelSelectorRequirement::Operator::kIn:
        ok = in_values();
        break;
      case LabelSelectorRequirement::Operator::kNotIn:
        ok = !in_values();  // A missing key satisfies NotIn.
        break;
      case LabelSelectorRequirement::Operator::kExists:
        ok = present;
        break;
      case LabelSelectorRequirement::Operator::kDoesNotExist:
        ok = !present;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool IpBlock::Matches(const IpAddress& address) const {
  if (!cidr.Contains(address)) return false;
  return std::none_of(except.begin(), except.end(),
                      [&](const Cidr& c) { return c.Contains(address); });
}

bool PortMatch::Matches(Protocol query_protocol, int query_port,
                        const Endpoint& destination) const {
  if (name.empty()) return Matches(query_protocol, query_port);
  if (query_protocol != protocol || destination.kind != Endpoint::Kind::kPod) return false;
  return std::any_of(destination.ports.begin(), destination.ports.end(),
                     [&](const ContainerPort& p) {
                       return p.name == name && p.protocol == protocol && p.port == query_port;
                     });
}

bool PortMatch::Matches(Protocol query_protocol, int query_port) const {
  if (query_protocol != protocol || !name.empty()) return false;
  if (!port) return true;
  return query_port >= *port && query_port <= end_port.value_or(*port);
}

// ---------------------------------------------------------------------------
// YAML parsing

namespace {

constexpr std::string_view kApiVersion = "networking.k8s.io/v1";
constexpr std::string_view kKind = "NetworkPolicy";

// Where we are in the input, for error messages.
struct Location {
  std::string_view source;
  int document = 0;     // 1-based.
  std::string policy;   // "namespace/name" once known.

  [[noreturn]] void Fail(std::string_view path, std::string_view message) const {
    std::string where = fmt::format("{}: document {}", source, document);
    if (!policy.empty()) where += fmt::format(" (NetworkPolicy {})", policy);
    if (!path.empty()) where += fmt::format(": {}", path);
    throw Error(fmt::format("{}: {}", where, message));
  }
};

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Index(std::string_view path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

// yaml-cpp throws when asked the type of a missing ("zombie") node, so every
// type test goes through IsDefined() first.
bool HasType(const YAML::Node& node, YAML::NodeType::value type) {
  return node.IsDefined() && node.Type() == type;
}


// Absent fields and explicit nulls are treated alike (as Go's decoder does).
bool IsAbsent(const YAML::Node& node) {
  return !node.IsDefined() || node.IsNull();
}

// Consumes parser events without building anything.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never returns on some malformed streams: a document
// that starts with ',' yields empty documents forever (jbeder/yaml-cpp#1040,
// fixed upstream after 0.8 by PR #1319). Walk the stream once first and give
// up when it yields more documents than the text can hold (every document but
// one needs a 3-byte "---" or "..." marker). Throws YAML::Exception on
// ordinary syntax errors.
bool ParserTerminates(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  IgnoreEvents ignore;
  const std::size_t limit = text.size() / 3 + 2;
  for (std::size_t documents = 0; parser.HandleNextDocument(ignore); ++documents) {
    if (documents > limit) return false;
  }
  return true;
}

// A parsing step with a location: keeps the helpers short.
class Parser {
 public:
  explicit Parser(const Location& location) : loc_(location) {}

  Policy ParseDocument(const YAML::Node& doc);

 private:
  void RequireMap(const YAML::Node& node, std::string_view path) const {
    if (!HasType(node, YAML::NodeType::Map)) {
      loc_.Fail(path, fmt::format("expected a map, got {}", DescribeNode(node)));
    }
  }
  void RequireList(const YAML::Node& node, std::string_view path) const {
    if (!HasType(node, YAML::NodeType::Sequence)) {
      loc_.Fail(path, fmt::format("expected a list, got {}", DescribeNode(node)));
    }
  }
  std::string RequireString(const YAML::Node& node, std::string_view path) const {
    if (!HasType(node, YAML::NodeType::Scalar)) {
      loc_.Fail(path, fmt::format("expected a string, got {}", DescribeNode(node)));
    }
    return node.Scalar();
  }
  // Rejects keys other than `allowed` (typos would silently change meaning).
  void CheckKeys(const YAML::Node& map, std::string_view path,
                 std::initializer_list<std::string_view> allowed) const;
  int ParseInt(const YAML::Node& node, std::string_view path) const;

  LabelSelector ParseSelector(const YAML::Node& node, std::string_view path) const;
  Peer ParsePeer(const YAML::Node& node, std::string_view path) const;
  IpBlock ParseIpBlock(const YAML::Node& node, std::string_view path) const;
  PortMatch ParsePort(const YAML::Node& node, std::string_view path) const;
  std::vector<Rule> ParseRules(const YAML::Node& node, std::string_view path,
                               std::string_view peers_key) const;

  Location loc_;
};

void Parser::CheckKeys(const YAML::Node& map, std::string_view path,
                       std::initializer_list<std::string_view> allowed) const {
  for (const auto& entry : map) {
    if (!HasType(entry.first, YAML::NodeType::Scalar)) {
      loc_.Fail(path, "map keys must be strings");
    }
    const std::string& key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      loc_.Fail(Join(path, key), "unknown field");
    }
  }
}

int Parser::ParseInt(const YAML::Node& node, std::string_view path) const {
  // A quoted scalar ("80") is a string in Kubernetes' IntOrString.
  const bool scalar = HasType(node, YAML::NodeType::Scalar);
  if (!scalar || node.Tag() == "!") {
    loc_.Fail(path, fmt::format("expected an integer, got {}",
                                scalar ? "a string" : DescribeNode(node)));
  }
  const std::string& text = node.Scalar();
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    loc_.Fail(path, fmt::format("expected an integer, got '{}'", text));
  }
  return value;
}

LabelSelector Parser::ParseSelector(const YAML::Node& node,
                                    std::string_view path) const {
  RequireMap(node, path);
  CheckKeys(node, path, {"matchLabels", "matchExpressions"});
  LabelSelector selector;

  const std::string labels_path = Join(path, "matchLabels");
  if (const YAML::Node labels = node["matchLabels"]; !IsAbsent(labels)) {
    RequireMap(labels, labels_path);
    for (const auto& entry : labels) {
      const std::string key = RequireString(entry.first, labels_path);
      selector.match_labels[key] =
          RequireString(entry.second, Join(labels_path, key));
    }
  }

  const std::string exprs_path = Join(path, "matchExpressions");
  if (const YAML::Node exprs = node["matchExpressions"]; !IsAbsent(exprs)) {
    RequireList(exprs, exprs_path);
    for (std::size_t i = 0; i < exprs.size(); ++i) {
      const std::string p = Index(exprs_path, i);
      const YAML::Node expr = exprs[i];
      RequireMap(expr, p);
      CheckKeys(expr, p, {"key", "operator", "values"});
      LabelSelectorRequirement req;
      req.key = RequireString(expr["key"], Join(p, "key"));
      if (req.key.empty()) loc_.Fail(Join(p, "key"), "must not be empty");

      const std::string op = RequireString(expr["operator"], Join(p, "operator"));
      using Op = LabelSelectorRequirement::Operator;
      if (op == "In") {
        req.op = Op::kIn;
      } else if (op == "NotIn") {
        req.op = Op::kNotIn;
      } else if (op == "Exists") {
        req.op = Op::kExists;
      } else if (op == "DoesNotExist") {
        req.op = Op::kDoesNotExist;
      } else {
        loc_.Fail(Join(p, "operator"),
                  fmt::format("unknown operator '{}' (expected In, NotIn, "
                              "Exists or DoesNotExist)", op));
      }

      const std::string values_path = Join(p, "values");
      if (const YAML::Node values = expr["values"]; !IsAbsent(values)) {
        RequireList(values, values_path);
        for (std::size_t j = 0; j < values.size(); ++j) {
          req.values.push_back(RequireString(values[j], Index(values_path, j)));
        }
      }
      const bool needs_values = req.op == Op::kIn || req.op == Op::kNotIn;
      if (needs_values && req.values.empty()) {
        loc_.Fail(values_path, fmt::format("must be non-empty for operator {}", op));
      }
      if (!needs_values && !req.values.empty()) {
        loc_.Fail(values_path, fmt::format("must be empty for operator {}", op));
      }
      selector.match_expressions.push_back(std::move(req));
    }
  }
  return selector;
}

IpBlock Parser::ParseIpBlock(const YAML::Node& node, std::string_view path) const {
  RequireMap(node, path);
  CheckKeys(node, path, {"cidr", "except"});
  const std::string cidr_path = Join(path, "cidr");
  const std::string cidr_text = RequireString(node["cidr"], cidr_path);
  const std::optional<Cidr> cidr = Cidr::Parse(cidr_text);
  if (!cidr) loc_.Fail(cidr_path, fmt::format("invalid CIDR '{}'", cidr_text));

  IpBlock block{*cidr, {}};
  const std::string except_path = Join(path, "except");
  if (const YAML::Node except = node["except"]; !IsAbsent(except)) {
    RequireList(except, except_path);
    for (std::size_t i = 0; i < except.size(); ++i) {
      const std::string p = Index(except_path, i);
      const std::string text = RequireString(except[i], p);
      const std::optional<Cidr> hole = Cidr::Parse(text);
      if (!hole) loc_.Fail(p, fmt::format("invalid CIDR '{}'", text));
      // The API server requires a strict subset of `cidr`.
      if (!cidr->Contains(*hole) || hole->prefix_length() == cidr->prefix_length()) {
        loc_.Fail(p, fmt::format("'{}' is not a strict subset of cidr '{}'", text,
                                 cidr_text));
      }
      block.except.push_back(*hole);
    }
  }
  return block;
}

Peer Parser::ParsePeer(const YAML::Node& node, std::string_view path) const {
  RequireMap(node, path);
  CheckKeys(node, path, {"podSelector", "namespaceSelector", "ipBlock"});
  Peer peer;
  if (const YAML::Node n = node["podSelector"]; !IsAbsent(n)) {
    peer.pod_selector = ParseSelector(n, Join(path, "podSelector"));
  }
  if (const YAML::Node n = node["namespaceSelector"]; !IsAbsent(n)) {
    peer.namespace_selector = ParseSelector(n, Join(path, "namespaceSelector"));
  }
  if (const YAML::Node n = node["ipBlock"]; !IsAbsent(n)) {
    peer.ip_block = ParseIpBlock(n, Join(path, "ipBlock"));
  }
  const bool has_selector = peer.pod_selector || peer.namespace_selector;
  if (!has_selector && !peer.ip_block) {
    loc_.Fail(path, "a peer needs podSelector, namespaceSelector or ipBlock");
  }
  if (has_selector && peer.ip_block) {
    loc_.Fail(path, "ipBlock cannot be combined with podSelector or namespaceSelector");
  }
  return peer;
}

PortMatch Parser::ParsePort(const YAML::Node& node, std::string_view path) const {
  RequireMap(node, path);
  CheckKeys(node, path, {"protocol", "port", "endPort"});
  PortMatch match;

  if (const YAML::Node n = node["protocol"]; !IsAbsent(n)) {
    const std::string text = RequireString(n, Join(path, "protocol"));
    const std::optional<Protocol> protocol = ParseProtocol(text);
    if (!protocol) {
      loc_.Fail(Join(path, "protocol"),
                fmt::format("unknown protocol '{}' (expected TCP, UDP or SCTP)", text));
    }
    match.protocol = *protocol;
  }

  const std::string port_path = Join(path, "port");
  if (const YAML::Node n = node["port"]; !IsAbsent(n)) {
    const std::string text = RequireString(n, port_path);
    const bool has_letter = std::any_of(text.begin(), text.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    if (has_letter) {
      // A container port's name (validation.IsValidPortName).
      const bool valid =
          !text.empty() && text.size() <= 15 && text.front() != '-' && text.back() != '-' &&
          text.find("--") == std::string::npos &&
          std::all_of(text.begin(), text.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
          });
      if (!valid) loc_.Fail(port_path, fmt::format("invalid port name '{}'", text));
      if (!IsAbsent(node["endPort"])) loc_.Fail(Join(path, "endPort"), "endPort needs a numeric port");
      match.name = text;
      return match;
    }
    match.port = ParseInt(n, port_path);
    if (*match.port < 1 || *match.port > 65535) {
      loc_.Fail(port_path, fmt::format("port {} is outside 1-65535", *match.port));
    }
  }

  const std::string end_path = Join(path, "endPort");
  if (const YAML::Node n = node["endPort"]; !IsAbsent(n)) {
    match.end_port = ParseInt(n, end_path);
    if (!match.port) loc_.Fail(end_path, "endPort requires port");
    if (*match.end_port < *match.port || *match.end_port > 65535) {
      loc_.Fail(end_path, fmt::format("endPort {} must be within {}-65535",
                                      *match.end_port, *match.port));
    }
  }
  return match;
}

std::vector<Rule> Parser::ParseRules(const YAML::Node& node, std::string_view path,
                                     std::string_view peers_key) const {
  std::vector<Rule> rules;
  if (IsAbsent(node)) return rules;
  RequireList(node, path);
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string p = Index(path, i);
    const YAML::Node rule_node = node[i];
    Rule rule;
    if (!IsAbsent(rule_node)) {  // A null rule decodes to the empty rule.
      RequireMap(rule_node, p);
      CheckKeys(rule_node, p, {peers_key, "ports"});
      const std::string peers_path = Join(p, peers_key);
      if (const YAML::Node peers = rule_node[std::string(peers_key)];
          !IsAbsent(peers)) {
        RequireList(peers, peers_path);
        for (std::size_t j = 0; j < peers.size(); ++j) {
          rule.peers.push_back(ParsePeer(peers[j], Index(peers_path, j)));
        }
      }
      const std::string ports_path = Join(p, "ports");
      if (const YAML::Node ports = rule_node["ports"]; !IsAbsent(ports)) {
        RequireList(ports, ports_path);
        for (std::size_t j = 0; j < ports.size(); ++j) {
          rule.ports.push_back(ParsePort(ports[j], Index(ports_path, j)));
        }
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

Policy Parser::ParseDocument(const YAML::Node& doc) {
  RequireMap(doc, "");
  const YAML::Node kind = doc["kind"];
  if (IsAbsent(kind)) loc_.Fail("kind", "missing");
  const std::string kind_text = RequireString(kind, "kind");
  if (kind_text != kKind) {
    loc_.Fail("kind", fmt::format("unsupported kind '{}' (only {} {} is evaluated)",
                                  kind_text, kApiVersion, kKind));
  }
  const std::string api_version = RequireString(doc["apiVersion"], "apiVersion");
  if (api_version != kApiVersion) {
    loc_.Fail("apiVersion",
              fmt::format("expected {}, got '{}'", kApiVersion, api_version));
  }

  Policy policy;
  const YAML::Node metadata = doc["metadata"];
  RequireMap(metadata, "metadata");
  policy.name = RequireString(metadata["name"], "metadata.name");
  policy.namespace_name = RequireString(metadata["namespace"], "metadata.namespace");
  if (policy.name.empty()) loc_.Fail("metadata.name", "must not be empty");
  if (policy.namespace_name.empty()) loc_.Fail("metadata.namespace", "must not be empty");
  loc_.policy = fmt::format("{}/{}", policy.namespace_name, policy.name);

  const YAML::Node spec = doc["spec"];
  RequireMap(spec, "spec");
  CheckKeys(spec, "spec", {"podSelector", "policyTypes", "ingress", "egress"});
  // podSelector is optional: absent = the empty selector = all pods.
  if (const YAML::Node n = spec["podSelector"]; !IsAbsent(n)) {
    policy.pod_selector = ParseSelector(n, "spec.podSelector");
  }
  policy.ingress = ParseRules(spec["ingress"], "spec.ingress", "from");
  policy.egress = ParseRules(spec["egress"], "spec.egress", "to");

  std::vector<std::string> types;
  if (const YAML::Node n = spec["policyTypes"]; !IsAbsent(n)) {
    RequireList(n, "spec.policyTypes");
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string p = Index("spec.policyTypes", i);
      std::string type = RequireString(n[i], p);
      if (type != "Ingress" && type != "Egress") {
        loc_.Fail(p, fmt::format("unknown policy type '{}' (expected Ingress or Egress)",
                                 type));
      }
      types.push_back(std::move(type));
    }
  }
  if (types.empty()) {
    // Defaulting: Ingress always; Egress only when there are egress rules.
    policy.isolates_ingress = true;
    policy.isolates_egress = !policy.egress.empty();
  } else {
    policy.isolates_ingress =
        std::find(types.begin(), types.end(), "Ingress") != types.end();
    policy.isolates_egress =
        std::find(types.begin(), types.end(), "Egress") != types.end();
  }
  return policy;
}

}  // namespace

std::string_view DescribeNode(const YAML::Node& node) {
  if (!node.IsDefined()) return "missing";
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      break;
  }
  return "missing";
}

std::vector<Policy> ParsePolicies(std::string_view yaml, std::string_view source_name) {
  Location loc{source_name, 0, {}};
  std::vector<YAML::Node> docs;
  try {
    const std::string text(yaml);
    if (!ParserTerminates(text)) {
      throw Error(fmt::format("{}: invalid YAML: the parser cannot advance (a stray ',' "
                              "at the start of a document?)",
                              source_name));
    }
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: invalid YAML: {}", source_name, e.what()));
  }

  std::vector<Policy> policies;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (IsAbsent(docs[i])) continue;
    loc.document = static_cast<int>(i) + 1;
    try {
      policies.push_back(Parser(loc).ParseDocument(docs[i]));
    } catch (const YAML::Exception& e) {
      // Defensive: the parser checks node types before using them.
      throw Error(fmt::format("{}: document {}: {}", source_name, loc.document,
                              e.what()));
    }
  }
  return policies;
}

// ---------------------------------------------------------------------------
// Cluster

void Cluster::AddNamespace(Namespace ns) {
  if (ns.name.empty()) throw Error("namespace name must not be empty");
  if (namespaces_.count(ns.name) != 0) {
    throw Error(fmt::format("duplicate namespace '{}'", ns.name));
  }
  ns.labels["kubernetes.io/metadata.name"] = ns.name;
  namespaces_.emplace(ns.name, std::move(ns.labels));
}

void Cluster::AddEndpoint(Endpoint endpoint) {
  const std::string& id = endpoint.id;
  if (id.empty()) throw Error("endpoint id must not be empty");
  if (endpoint_index_.count(id) != 0) {
    throw Error(fmt::format("duplicate endpoint '{}'", id));
  }

  EndpointState state;
  if (!endpoint.ip.empty()) {
    state.ip = IpAddress::Parse(endpoint.ip);
    if (!state.ip) {
      throw Error(fmt::format("endpoint '{}': invalid IP address '{}'", id, endpoint.ip));
    }
  }
  if (endpoint.kind == Endpoint::Kind::kPod) {
    const auto ns = namespaces_.find(endpoint.namespace_name);
    if (ns == namespaces_.end()) {
      throw Error(fmt::format("endpoint '{}': unknown namespace '{}'", id,
                              endpoint.namespace_name));
    }
    state.namespace_labels = ns->second;
  } else {
    if (!endpoint.namespace_name.empty() || !endpoint.labels.empty()) {
      throw Error(fmt::format(
          "endpoint '{}': an external endpoint has no namespace or labels", id));
    }
    if (!state.ip) throw Error(fmt::format("endpoint '{}': an external endpoint needs an IP", id));
  }

  const std::size_t index = endpoints_.size();
  endpoint_index_.emplace(id, index);
  endpoints_.push_back(std::move(endpoint));
  states_.push_back(std::move(state));

  for (std::size_t p = 0; p < policies_.size(); ++p) Link(p, index);
}

void Cluster::LoadPolicies(std::string_view yaml, std::string_view source_name) {
  for (Policy& policy : ParsePolicies(yaml, source_name)) AddPolicy(std::move(policy));
}

void Cluster::AddPolicy(Policy policy) {
  policies_.push_back(std::move(policy));
  for (std::size_t e = 0; e < endpoints_.size(); ++e) Link(policies_.size() - 1, e);
}

void Cluster::Link(std::size_t policy_index, std::size_t endpoint_index) {
  const Policy& policy = policies_[policy_index];
  const Endpoint& endpoint = endpoints_[endpoint_index];
  if (endpoint.kind != Endpoint::Kind::kPod ||
      endpoint.namespace_name != policy.namespace_name ||
      !policy.pod_selector.Matches(endpoint.labels)) {
    return;
  }
  EndpointState& state = states_[endpoint_index];
  if (policy.isolates_ingress) state.ingress_policies.push_back(policy_index);
  if (policy.isolates_egress) state.egress_policies.push_back(policy_index);
}

std::size_t Cluster::IndexOf(std::string_view id) const {
  const auto it = endpoint_index_.find(id);
  if (it == endpoint_index_.end()) {
    throw Error(fmt::format("unknown endpoint '{}'", id));
  }
  return it->second;
}

bool Cluster::PeerMatches(const Peer& peer, const Policy& policy,
                          std::size_t endpoint) const {
  const Endpoint& ep = endpoints_[endpoint];
  const EndpointState& state = states_[endpoint];
  if (peer.ip_block) return state.ip && peer.ip_block->Matches(*state.ip);
  if (ep.kind != Endpoint::Kind::kPod) return false;
  if (peer.namespace_selector) {
    if (!peer.namespace_selector->Matches(state.namespace_labels)) return false;
  } else if (ep.namespace_name != policy.namespace_name) {
    return false;  // podSelector alone: the policy's own namespace.
  }
  return !peer.pod_selector || peer.pod_selector->Matches(ep.labels);
}

bool Cluster::SideAllows(Direction direction, std::size_t subject, std::size_t peer,
                         Protocol protocol, int port) const {
  const EndpointState& state = states_[subject];
  const std::vector<std::size_t>& isolating =
      direction == Direction::kIngress ? state.ingress_policies : state.egress_policies;
  if (isolating.empty()) return true;  // Not isolated on this side.

  // Named ports are resolved on the pod that receives the connection.
  const Endpoint& destination = endpoints_[direction == Direction::kIngress ? subject : peer];
  for (const std::size_t p : isolating) {
    const Policy& policy = policies_[p];
    const std::vector<Rule>& rules =
        direction == Direction::kIngress ? policy.ingress : policy.egress;
    for (const Rule& rule : rules) {
      const bool port_ok =
          rule.ports.empty() ||
          std::any_of(rule.ports.begin(), rule.ports.end(),
                      [&](const PortMatch& m) { return m.Matches(protocol, port, destination); });
      if (!port_ok) continue;
      if (rule.peers.empty() ||
          std::any_of(rule.peers.begin(), rule.peers.end(),
                      [&](const Peer& x) { return PeerMatches(x, policy, peer); })) {
        return true;
      }
    }
  }
  return false;
}

namespace {
void CheckPort(int port) {
  if (port < 1 || port > 65535) {
    throw Error(fmt::format("port {} is outside 1-65535", port));
  }
}
}  // namespace

bool Cluster::IngressAllowed(std::string_view src, std::string_view dst,
                             Protocol protocol, int port) const {
  CheckPort(port);
  return SideAllows(Direction::kIngress, IndexOf(dst), IndexOf(src), protocol, port);
}

bool Cluster::EgressAllowed(std::string_view src, std::string_view dst,
                            Protocol protocol, int port) const {
  CheckPort(port);
  return SideAllows(Direction::kEgress, IndexOf(src), IndexOf(dst), protocol, port);
}

bool Cluster::Allowed(std::string_view src, std::string_view dst, Protocol protocol,
                      int port) const {
  return IngressAllowed(src, dst, protocol, port) &&
         EgressAllowed(src, dst, protocol, port);
}

bool Cluster::IsolatedForIngress(std::string_view id) const {
  return !states_[IndexOf(id)].ingress_policies.empty();
}

bool Cluster::IsolatedForEgress(std::string_view id) const {
  return !states_[IndexOf(id)].egress_policies.empty();
}

}  // namespace netpolc::verify
