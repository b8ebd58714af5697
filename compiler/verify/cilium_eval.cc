#include "compiler/verify/cilium_eval.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace netpolc::verify {

namespace {

constexpr std::string_view kNamespaceLabel = "io.kubernetes.pod.namespace";
constexpr std::string_view kNamespaceLabelsPrefix = "io.cilium.k8s.namespace.labels.";

// Exclusive patterns of the default identity-relevant label filter (anchored
// at the start of the key).
constexpr std::string_view kIgnoredPrefixes[] = {
    "io.kubernetes",          "kubernetes.io",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index", "batch.kubernetes.io/controller-uid",
    "beta.kubernetes.io",     "k8s.io",
    "pod-template-generation", "pod-template-hash",
    "controller-revision-hash", "annotation",
    "controller-uid",         "etcd_node",
};

bool Ignored(std::string_view key) {
  return std::any_of(std::begin(kIgnoredPrefixes), std::end(kIgnoredPrefixes),
                     [&](std::string_view p) { return key.substr(0, p.size()) == p; });
}

struct CiliumLabel {
  std::string source;
  std::string key;
  std::string value;
};

struct CiliumRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string source;  // "any" matches every source
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;
};

// Splits "source:key"; no prefix means any source.
std::pair<std::string, std::string> SplitKey(const std::string& text) {
  for (std::string_view source : {"k8s", "any", "reserved", "unspec", "container", "cidr"}) {
    if (text.size() > source.size() && text.compare(0, source.size(), source) == 0 &&
        text[source.size()] == ':') {
      return {std::string(source), text.substr(source.size() + 1)};
    }
  }
  return {"any", text};
}

struct CiliumSelector {
  std::vector<CiliumRequirement> requirements;

  bool HasNamespaceKey() const {
    return std::any_of(requirements.begin(), requirements.end(), [](const CiliumRequirement& r) {
      return r.key == kNamespaceLabel && (r.source == "k8s" || r.source == "any");
    });
  }

  bool Matches(const std::vector<CiliumLabel>& labels) const {
    for (const CiliumRequirement& r : requirements) {
      bool present = false, in_values = false;
      for (const CiliumLabel& l : labels) {
        if (l.key != r.key || (r.source != "any" && r.source != l.source)) continue;
        present = true;
        if (std::find(r.values.begin(), r.values.end(), l.value) != r.values.end()) in_values = true;
      }
      bool ok = false;
      switch (r.op) {
        case CiliumRequirement::Op::kIn:
          ok = in_values;
          break;
        case CiliumRequirement::Op::kNotIn:
          ok = !in_values;
          break;
        case CiliumRequirement::Op::kExists:
          ok = present;
          break;
        case CiliumRequirement::Op::kDoesNotExist:
          ok = !present;
          break;
      }
      if (!ok) return false;
    }
    return true;
  }
};

struct CiliumBlock {
  Cidr cidr;
  std::vector<Cidr> except;
};

struct CiliumRule {
  bool has_peers = false;
  std::vector<CiliumSelector> endpoints;
  std::vector<CiliumBlock> blocks;
  std::vector<std::string> entities;
  bool has_ports = false;
  PortSet ports;
  // Named ports (ingress only): resolved on the policy's own pod.
  std::vector<std::pair<Protocol, std::string>> named_ports;
};

}  // namespace

struct CiliumEvaluator::Policy {
  std::string name;
  std::string ns;
  CiliumSelector endpoint_selector;
  std::optional<std::vector<CiliumRule>> ingress, egress;
  std::optional<bool> default_deny_ingress, default_deny_egress;
};

struct CiliumEvaluator::Identity {
  std::vector<CiliumLabel> labels;
};

namespace {

class Parser {
 public:
  Parser(DocReader& reader) : r_(reader) {}

  CiliumEvaluator::Policy ParseDocument(const YAML::Node& doc);

 private:
  CiliumSelector ParseSelector(const YAML::Node& node, const std::string& path);
  CiliumBlock ParseBlock(const std::string& text, const std::string& path);
  void ParsePorts(const YAML::Node& node, const std::string& path, bool egress, CiliumRule& rule);
  std::vector<CiliumRule> ParseRules(const YAML::Node& node, const std::string& path, bool egress,
                               const std::string& ns);

  DocReader& r_;
};

CiliumSelector Parser::ParseSelector(const YAML::Node& node, const std::string& path) {
  r_.RequireMap(node, path);
  r_.CheckKeys(node, path, {"matchLabels", "matchExpressions"});
  CiliumSelector selector;
  if (YAML::Node labels = node["matchLabels"]; !DocReader::Absent(labels)) {
    std::string p = DocReader::Join(path, "matchLabels");
    r_.RequireMap(labels, p);
    for (const auto& entry : labels) {
      std::string key = r_.String(entry.first, p);
      auto [source, name] = SplitKey(key);
      selector.requirements.push_back(
          {source, name, CiliumRequirement::Op::kIn, {r_.String(entry.second, DocReader::Join(p, key))}});
    }
  }
  if (YAML::Node exprs = node["matchExpressions"]; !DocReader::Absent(exprs)) {
    std::string p = DocReader::Join(path, "matchExpressions");
    r_.RequireList(exprs, p);
    for (size_t i = 0; i < exprs.size(); ++i) {
      std::string q = DocReader::Index(p, i);
      r_.RequireMap(exprs[i], q);
      r_.CheckKeys(exprs[i], q, {"key", "operator", "values"});
      auto [source, name] = SplitKey(r_.String(exprs[i]["key"], DocReader::Join(q, "key")));
      CiliumRequirement req{source, name, CiliumRequirement::Op::kExists, {}};
      std::string op = r_.String(exprs[i]["operator"], DocReader::Join(q, "operator"));
      if (op == "In") {
        req.op = CiliumRequirement::Op::kIn;
      } else if (op == "NotIn") {
        req.op = CiliumRequirement::Op::kNotIn;
      } else if (op == "Exists") {
        req.op = CiliumRequirement::Op::kExists;
      } else if (op == "DoesNotExist") {
        req.op = CiliumRequirement::Op::kDoesNotExist;
      } else {
        r_.Fail(DocReader::Join(q, "operator"), fmt::format("unknown operator '{}'", op));
      }
      if (YAML::Node values = exprs[i]["values"]; !DocReader::Absent(values)) {
        std::string v = DocReader::Join(q, "values");
        r_.RequireList(values, v);
        for (size_t j = 0; j < values.size(); ++j) {
          req.values.push_back(r_.String(values[j], DocReader::Index(v, j)));
        }
      }
      bool needs_values = req.op == CiliumRequirement::Op::kIn || req.op == CiliumRequirement::Op::kNotIn;
      if (needs_values == req.values.empty()) {
        r_.Fail(DocReader::Join(q, "values"),
                needs_values ? "must be non-empty for In and NotIn" : "must be empty for " + op);
      }
      selector.requirements.push_back(std::move(req));
    }
  }
  return selector;
}

CiliumBlock Parser::ParseBlock(const std::string& text, const std::string& path) {
  std::string cidr_text = text;
  if (cidr_text.find('/') == std::string::npos) {
    cidr_text += cidr_text.find(':') == std::string::npos ? "/32" : "/128";
  }
  std::optional<Cidr> cidr = Cidr::Parse(cidr_text);
  if (!cidr) r_.Fail(path, fmt::format("invalid CIDR '{}'", text));
  return {*cidr, {}};
}

void Parser::ParsePorts(const YAML::Node& node, const std::string& path, bool egress, CiliumRule& rule) {
  r_.RequireList(node, path);
  if (node.size() == 0) r_.Fail(path, "an empty toPorts list is not written by netpolc");
  rule.has_ports = true;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string p = DocReader::Index(path, i);
    r_.RequireMap(node[i], p);
    r_.Unsupported(node[i], p, {"listener", "originatingTLS", "terminatingTLS", "serverNames"});
    r_.CheckKeys(node[i], p, {"ports", "rules"});
    bool dns = false;
    if (YAML::Node rules = node[i]["rules"]; !DocReader::Absent(rules)) {
      std::string q = DocReader::Join(p, "rules");
      r_.RequireMap(rules, q);
      r_.Unsupported(rules, q, {"http", "kafka", "l7proto", "l7"});
      r_.CheckKeys(rules, q, {"dns"});
      if (YAML::Node d = rules["dns"]; !DocReader::Absent(d)) {
        std::string dq = DocReader::Join(q, "dns");
        if (!egress) r_.Fail(dq, "L7 protocol DNS is not supported on ingress");
        r_.RequireList(d, dq);
        for (size_t j = 0; j < d.size(); ++j) {
          std::string e = DocReader::Index(dq, j);
          r_.RequireMap(d[j], e);
          r_.CheckKeys(d[j], e, {"matchName", "matchPattern"});
          if (d[j].size() != 1) r_.Fail(e, "needs exactly one of matchName and matchPattern");
          r_.String(d[j].begin()->second, e);
        }
        dns = true;
      }
    }
    YAML::Node ports = node[i]["ports"];
    std::string q = DocReader::Join(p, "ports");
    r_.RequireList(ports, q);
    if (ports.size() == 0) r_.Fail(q, "must not be empty");
    if (ports.size() > 40) r_.Fail(q, "at most 40 ports per entry");
    for (size_t j = 0; j < ports.size(); ++j) {
      std::string e = DocReader::Index(q, j);
      r_.RequireMap(ports[j], e);
      r_.CheckKeys(ports[j], e, {"port", "endPort", "protocol"});
      // A number must be quoted (the field is a string); a name is a string
      // either way.
      std::string port_text = r_.String(ports[j]["port"], DocReader::Join(e, "port"));
      int port = -1;
      const char* end = port_text.data() + port_text.size();
      auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
      bool numeric = !port_text.empty() && ec == std::errc() && ptr == end;
      if (numeric || port_text.empty()) {
        port_text = r_.QuotedString(ports[j]["port"], DocReader::Join(e, "port"));
      }
      if (port_text.empty() || ec != std::errc() || ptr != end) {
        // A named port. In an ingress rule Cilium resolves it on the
        // selected pod's own container ports; in an egress rule through a
        // cluster-wide map of names (not modelled).
        std::string path_port = DocReader::Join(e, "port");
        if (egress) {
          r_.Fail(path_port, fmt::format("named ports in egress rules are not modelled ('{}'): "
                                         "Cilium resolves them through a cluster-wide map",
                                         port_text));
        }
        bool valid = !port_text.empty() && port_text.size() <= 15 && port_text.front() != '-' &&
                     port_text.back() != '-' && port_text.find("--") == std::string::npos &&
                     std::all_of(port_text.begin(), port_text.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                     });
        if (!valid) r_.Fail(path_port, fmt::format("invalid port name '{}'", port_text));
        if (!DocReader::Absent(ports[j]["endPort"])) {
          r_.Fail(DocReader::Join(e, "endPort"), "endPort needs a numeric port");
        }
        std::vector<Protocol> named_protocols(kProtocols.begin(), kProtocols.end());
        if (YAML::Node pr = ports[j]["protocol"]; !DocReader::Absent(pr)) {
          std::string text = r_.String(pr, DocReader::Join(e, "protocol"));
          if (text != "ANY") {
            std::optional<Protocol> protocol = ParseProtocol(text);
            if (!protocol) r_.Fail(DocReader::Join(e, "protocol"), fmt::format("unknown protocol '{}'", text));
            named_protocols = {*protocol};
          }
        }
        for (Protocol protocol : named_protocols) rule.named_ports.emplace_back(protocol, port_text);
        continue;
      }
      if (port < 0 || port > kMaxPort) r_.Fail(DocReader::Join(e, "port"), "outside 0-65535");
      int last = port;
      if (YAML::Node end_port = ports[j]["endPort"]; !DocReader::Absent(end_port)) {
        last = static_cast<int>(r_.Integer(end_port, DocReader::Join(e, "endPort")));
        if (last < port || last > kMaxPort) {
          r_.Fail(DocReader::Join(e, "endPort"), fmt::format("must be within {}-65535", port));
        }
        if (dns && last != port) r_.Fail(DocReader::Join(e, "endPort"), "DNS rules do not support port ranges");
      }
      std::vector<Protocol> protocols(kProtocols.begin(), kProtocols.end());
      if (YAML::Node pr = ports[j]["protocol"]; !DocReader::Absent(pr)) {
        std::string text = r_.String(pr, DocReader::Join(e, "protocol"));
        if (text != "ANY") {
          std::optional<Protocol> protocol = ParseProtocol(text);
          if (!protocol) {
            r_.Fail(DocReader::Join(e, "protocol"),
                    fmt::format("unknown protocol '{}' (expected TCP, UDP, SCTP or ANY)", text));
          }
          protocols = {*protocol};
        }
      }
      for (Protocol protocol : protocols) {
        if (port == 0) {
          rule.ports.AddAll(protocol);
        } else {
          rule.ports.Add(protocol, port, last);
        }
      }
    }
  }
}

std::vector<CiliumRule> Parser::ParseRules(const YAML::Node& node, const std::string& path, bool egress,
                                     const std::string& ns) {
  r_.RequireList(node, path);
  const char* endpoints_key = egress ? "toEndpoints" : "fromEndpoints";
  const char* cidr_key = egress ? "toCIDR" : "fromCIDR";
  const char* cidr_set_key = egress ? "toCIDRSet" : "fromCIDRSet";
  const char* entities_key = egress ? "toEntities" : "fromEntities";
  std::vector<CiliumRule> rules;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string p = DocReader::Index(path, i);
    CiliumRule rule;
    const YAML::Node item = node[i];
    if (DocReader::Absent(item)) {
      rules.push_back(std::move(rule));
      continue;
    }
    r_.RequireMap(item, p);
    if (egress) {
      r_.Unsupported(item, p, {"toRequires", "toServices", "toFQDNs", "toGroups", "toNodes",
                               "icmps", "authentication"});
    } else {
      r_.Unsupported(item, p, {"fromRequires", "fromGroups", "fromNodes", "icmps", "authentication"});
    }
    r_.CheckKeys(item, p, {endpoints_key, cidr_key, cidr_set_key, entities_key, "toPorts"});
    std::vector<std::string> kinds;
    for (const char* key : {endpoints_key, cidr_key, cidr_set_key, entities_key}) {
      YAML::Node list = item[key];
      if (DocReader::Absent(list)) continue;
      std::string q = DocReader::Join(p, key);
      r_.RequireList(list, q);
      if (list.size() == 0) r_.Fail(q, "an empty peer list is not written by netpolc");
      kinds.push_back(key);
      rule.has_peers = true;
      for (size_t j = 0; j < list.size(); ++j) {
        std::string e = DocReader::Index(q, j);
        if (key == endpoints_key) {
          CiliumSelector selector = ParseSelector(list[j], e);
          // Confined to the policy's namespace unless it names the namespace.
          if (!selector.HasNamespaceKey()) {
            selector.requirements.push_back(
                {"k8s", std::string(kNamespaceLabel), CiliumRequirement::Op::kIn, {ns}});
          }
          rule.endpoints.push_back(std::move(selector));
        } else if (key == cidr_key) {
          rule.blocks.push_back(ParseBlock(r_.String(list[j], e), e));
        } else if (key == cidr_set_key) {
          r_.RequireMap(list[j], e);
          r_.Unsupported(list[j], e, {"cidrGroupRef", "cidrGroupSelector"});
          r_.CheckKeys(list[j], e, {"cidr", "except"});
          CiliumBlock block = ParseBlock(r_.String(list[j]["cidr"], DocReader::Join(e, "cidr")),
                                   DocReader::Join(e, "cidr"));
          if (YAML::Node except = list[j]["except"]; !DocReader::Absent(except)) {
            std::string x = DocReader::Join(e, "except");
            r_.RequireList(except, x);
            for (size_t k = 0; k < except.size(); ++k) {
              std::string xi = DocReader::Index(x, k);
              CiliumBlock hole = ParseBlock(r_.String(except[k], xi), xi);
              if (!block.cidr.Contains(hole.cidr)) r_.Fail(xi, "not inside cidr");
              block.except.push_back(hole.cidr);
            }
          }
          rule.blocks.push_back(std::move(block));
        } else {
          static constexpr std::string_view kEntities[] = {
              "all", "world", "cluster", "host", "remote-node", "kube-apiserver",
              "init", "health", "unmanaged", "ingress", "none"};
          std::string entity = r_.String(list[j], e);
          if (std::find(std::begin(kEntities), std::end(kEntities), entity) == std::end(kEntities)) {
            r_.Fail(e, fmt::format("unknown entity '{}'", entity));
          }
          rule.entities.push_back(entity);
        }
      }
    }
    if (kinds.size() > 1) {
      r_.Fail(p, fmt::format("combining {} and {} is not supported (rejected by the agent)",
                             kinds[0], kinds[1]));
    }
    if (YAML::Node ports = item["toPorts"]; !DocReader::Absent(ports)) {
      ParsePorts(ports, DocReader::Join(p, "toPorts"), egress, rule);
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

CiliumEvaluator::Policy Parser::ParseDocument(const YAML::Node& doc) {
  CiliumEvaluator::Policy policy;
  std::tie(policy.name, policy.ns) = r_.ReadHeader(doc, "cilium.io/v2", "CiliumNetworkPolicy");
  const YAML::Node spec = doc["spec"];
  r_.RequireMap(spec, "spec");
  r_.Unsupported(spec, "spec", {"nodeSelector", "ingressDeny", "egressDeny", "log"});
  r_.CheckKeys(spec, "spec",
               {"endpointSelector", "ingress", "egress", "enableDefaultDeny", "description", "labels"});
  policy.endpoint_selector = ParseSelector(spec["endpointSelector"], "spec.endpointSelector");
  if (!DocReader::Absent(spec["ingress"])) {
    policy.ingress = ParseRules(spec["ingress"], "spec.ingress", false, policy.ns);
  }
  if (!DocReader::Absent(spec["egress"])) {
    policy.egress = ParseRules(spec["egress"], "spec.egress", true, policy.ns);
  }
  if (!policy.ingress && !policy.egress) r_.Fail("spec", "needs ingress or egress");
  if (YAML::Node d = spec["enableDefaultDeny"]; !DocReader::Absent(d)) {
    r_.RequireMap(d, "spec.enableDefaultDeny");
    r_.CheckKeys(d, "spec.enableDefaultDeny", {"ingress", "egress"});
    if (!DocReader::Absent(d["ingress"])) {
      policy.default_deny_ingress = r_.Boolean(d["ingress"], "spec.enableDefaultDeny.ingress");
    }
    if (!DocReader::Absent(d["egress"])) {
      policy.default_deny_egress = r_.Boolean(d["egress"], "spec.enableDefaultDeny.egress");
    }
  }
  return policy;
}

bool BlockMatches(const CiliumBlock& block, const IpAddress& ip) {
  return block.cidr.Contains(ip) &&
         std::none_of(block.except.begin(), block.except.end(),
                      [&](const Cidr& c) { return c.Contains(ip); });
}

}  // namespace

CiliumEvaluator::CiliumEvaluator(const Universe& universe, std::string_view yaml,
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
  identities_.resize(universe.size());
  for (size_t e = 0; e < universe.size(); ++e) {
    const Endpoint& ep = universe.endpoint(e);
    if (ep.kind != Endpoint::Kind::kPod) continue;
    std::vector<CiliumLabel>& labels = identities_[e].labels;
    for (const auto& [key, value] : ep.labels) {
      if (!Ignored(key)) labels.push_back({"k8s", key, value});
    }
    labels.push_back({"k8s", std::string(kNamespaceLabel), ep.namespace_name});
    for (const auto& [key, value] : universe.namespace_labels(e)) {
      labels.push_back({"k8s", std::string(kNamespaceLabelsPrefix) + key, value});
    }
    labels.push_back({"k8s", "io.cilium.k8s.policy.cluster", "default"});
    labels.push_back({"k8s", "io.cilium.k8s.policy.serviceaccount", "default"});
  }
}

CiliumEvaluator::~CiliumEvaluator() = default;

std::vector<std::string> CiliumEvaluator::IdentityLabels(size_t endpoint) const {
  std::vector<std::string> out;
  for (const CiliumLabel& l : identities_.at(endpoint).labels) {
    out.push_back(l.source + ":" + l.key + "=" + l.value);
  }
  return out;
}

PortSet CiliumEvaluator::Allowed(Side side, size_t subject, size_t peer) const {
  const Endpoint& ep = universe_.endpoint(subject);
  if (ep.kind != Endpoint::Kind::kPod) return PortSet::All();
  const bool ingress = side == Side::kIngress;
  std::vector<const Policy*> selecting;
  bool has_rules = false, default_deny = false;
  for (const Policy& policy : policies_) {
    if (policy.ns != ep.namespace_name ||
        !policy.endpoint_selector.Matches(identities_[subject].labels)) {
      continue;
    }
    selecting.push_back(&policy);
    const auto& rules = ingress ? policy.ingress : policy.egress;
    if (!rules || rules->empty()) continue;
    has_rules = true;
    std::optional<bool> explicit_deny = ingress ? policy.default_deny_ingress : policy.default_deny_egress;
    if (explicit_deny.value_or(true)) default_deny = true;
  }
  if (!has_rules || !default_deny) return PortSet::All();

  const bool peer_is_pod = universe_.is_pod(peer);
  const std::optional<IpAddress>& peer_ip = universe_.ip(peer);
  const Endpoint::Role role = universe_.endpoint(peer).role;
  // Nodes (and the pods on their host network) are in the cluster: CIDR
  // rules and `world` do not match them.
  const bool in_cluster = peer_is_pod || role == Endpoint::Role::kNode;
  auto peer_matches = [&](const CiliumRule& rule) {
    if (!rule.has_peers) return true;
    for (const CiliumSelector& s : rule.endpoints) {
      if (peer_is_pod && s.Matches(identities_[peer].labels)) return true;
    }
    for (const CiliumBlock& b : rule.blocks) {
      if (!in_cluster && peer_ip && BlockMatches(b, *peer_ip)) return true;
    }
    for (const std::string& entity : rule.entities) {
      if (entity == "all") return true;
      if (entity == "world" && !in_cluster) return true;
      if (entity == "cluster" && in_cluster) return true;
      if (entity == "remote-node" && role == Endpoint::Role::kNode) return true;
      if (entity == "kube-apiserver" && role == Endpoint::Role::kApiServer) return true;
    }
    return false;
  };
  PortSet out;
  for (const Policy* policy : selecting) {
    const auto& rules = ingress ? policy->ingress : policy->egress;
    if (!rules) continue;
    for (const CiliumRule& rule : *rules) {
      if (!rule.has_peers && !rule.has_ports) continue;  // `{}` admits nothing
      if (!peer_matches(rule)) continue;
      if (rule.has_ports) {
        out.AddAll(rule.ports);
        for (const auto& [protocol, name] : rule.named_ports) {
          for (const ContainerPort& cp : ep.ports) {
            if (cp.name == name && cp.protocol == protocol) out.Add(protocol, cp.port, cp.port);
          }
        }
      } else {
        return PortSet::All();
      }
    }
  }
  return out;
}

}  // namespace netpolc::verify
