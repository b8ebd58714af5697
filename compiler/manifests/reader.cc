#include "compiler/manifests/reader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace netpolc::manifests {
namespace fs = std::filesystem;

// Control characters as \xNN, so that one connection stays one line.
std::string EscapeText(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += c == '\\' ? std::string("\\\\") : fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string QuoteString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Location::ToString() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string FormatIp(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

Labels Manifests::NamespaceLabels(const std::string& name) const {
  for (const Namespace& ns : namespaces) {
    if (ns.name == name) return ns.labels;
  }
  return Labels{{"kubernetes.io/metadata.name", name}};
}

namespace {

// Emits a node keeping which scalars were quoted (a quoted "80" is a string,
// a plain 80 a number: evaluators care).
void Emit(YAML::Emitter& e, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      e << YAML::BeginMap;
      for (const auto& kv : n) {
        e << YAML::Key;
        Emit(e, kv.first);
        e << YAML::Value;
        Emit(e, kv.second);
      }
      e << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      e << YAML::BeginSeq;
      for (const YAML::Node& item : n) Emit(e, item);
      e << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") e << YAML::DoubleQuoted << n.Scalar();
      else e << n.Scalar();
      break;
    default:
      e << YAML::Null;
  }
}

std::string ToYaml(const YAML::Node& n) {
  YAML::Emitter e;
  Emit(e, n);
  return std::string(e.c_str()) + "\n";
}

const std::set<std::string, std::less<>> kWorkloadKinds = {
    "Pod",         "Deployment", "ReplicaSet", "StatefulSet",          "DaemonSet",
    "Job",         "CronJob",    "ReplicationController", "VirtualMachine"};

// Reads the objects of one file.
class FileReader {
 public:
  FileReader(std::string file, Manifests& out, std::map<std::string, size_t>& skipped)
      : file_(std::move(file)), out_(out), skipped_(skipped) {}

  void Read(const std::string& text) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      throw Error(EscapeText(fmt::format("{}:{}:{}: invalid YAML: {}", file_, e.mark.line + 1,
                                         e.mark.column + 1, e.msg)));
    }
    for (const YAML::Node& doc : docs) {
      if (!doc.IsDefined() || doc.IsNull()) continue;
      try {
        Object(doc, "", "", 0);
      } catch (const YAML::Exception& e) {  // a shape the reader did not expect
        Fail(doc, std::string("cannot read this document: ") + e.msg);
      }
    }
  }

 private:
  [[noreturn]] void Fail(const YAML::Node& node, const std::string& message) const {
    YAML::Mark mark = node.Mark();
    if (mark.is_null()) throw Error(EscapeText(fmt::format("{}: {}", file_, message)));
    throw Error(EscapeText(
        fmt::format("{}:{}:{}: {}", file_, mark.line + 1, mark.column + 1, message)));
  }

  Location Where(const YAML::Node& node) const {
    YAML::Mark mark = node.Mark();
    if (mark.is_null()) return Location{file_, 0, 0};
    return Location{file_, mark.line + 1, mark.column + 1};
  }

  static bool Absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

  void RequireMap(const YAML::Node& node, const std::string& what) const {
    if (!node.IsMap()) Fail(node, fmt::format("{} must be a map", what));
  }

  std::string Scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) Fail(node, fmt::format("{} must be a string", what));
    return node.Scalar();
  }

  std::optional<YAML::Node> Field(const YAML::Node& map, const char* key) const {
    if (!map.IsMap()) return std::nullopt;
    YAML::Node value = map[key];
    if (Absent(value)) return std::nullopt;
    return value;
  }

  Labels ReadLabels(const YAML::Node& node, const std::string& what) const {
    Labels labels;
    if (Absent(node)) return labels;
    RequireMap(node, what);
    for (const auto& item : node) {
      std::string key = Scalar(item.first, what + " key");
      if (Absent(item.second)) {
        labels[key] = "";
        continue;
      }
      labels[key] = Scalar(item.second, fmt::format("{}.{}", what, key));
    }
    return labels;
  }

  int Integer(const YAML::Node& node, const std::string& what, int low, int high) const {
    if (!node.IsScalar()) Fail(node, fmt::format("{} must be a number", what));
    const std::string& text = node.Scalar();
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
      Fail(node, fmt::format("{} must be a number from {} to {}", what, low, high));
    }
    return value;
  }

  Protocol ReadProtocol(const YAML::Node& node, const std::string& what) const {
    if (Absent(node)) return Protocol::kTCP;
    std::optional<Protocol> p = verify::ParseProtocol(Scalar(node, what));
    if (!p) Fail(node, fmt::format("{} must be TCP, UDP or SCTP", what));
    return *p;
  }

  void Object(const YAML::Node& doc, const std::string& default_kind,
              const std::string& default_api, int list_depth) {
    if (++objects_ > kMaxObjects) Fail(doc, fmt::format("more than {} objects", kMaxObjects));
    if (!doc.IsMap()) {
      Skip("non-object document");
      return;
    }
    std::string kind = default_kind;
    if (auto k = Field(doc, "kind")) kind = Scalar(*k, "kind");
    std::string api = default_api;
    if (auto a = Field(doc, "apiVersion")) api = Scalar(*a, "apiVersion");
    if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0) {
      if (list_depth >= 4) Fail(doc, "lists nested more than 4 deep");
      auto items = Field(doc, "items");
      if (!items) return;
      if (!items->IsSequence()) Fail(*items, "items must be a list");
      std::string item_kind = kind == "List" ? "" : kind.substr(0, kind.size() - 4);
      std::string item_api = kind == "List" ? "" : api;
      for (const YAML::Node& item : *items) Object(item, item_kind, item_api, list_depth + 1);
      return;
    }
    if (kind.empty()) {
      Skip("object without kind");
      return;
    }
    if (kind == "Namespace") return ReadNamespace(doc);
    if (kWorkloadKinds.count(kind)) return ReadWorkload(doc, kind);
    if (kind == "NetworkPolicy" && (api.empty() || api == "networking.k8s.io/v1")) {
      return ReadPolicy(doc);
    }
    // The kinds the Cilium and Calico evaluators model (compiler/verify/).
    if (api == "cilium.io/v2" && kind == "CiliumNetworkPolicy") {
      return Foreign(doc, kind, api, out_.cilium);
    }
    if (api == "projectcalico.org/v3" && kind == "NetworkPolicy") {
      return Foreign(doc, kind, api, out_.calico);
    }
    Skip(api.empty() ? kind : kind + " (" + api + ")");
  }

  void Skip(const std::string& what) { ++skipped_[what]; }

  void Foreign(const YAML::Node& doc, const std::string& kind, const std::string& api,
               std::vector<ForeignDocument>& into) {
    std::string name;
    if (auto meta = Field(doc, "metadata"); meta && meta->IsMap()) {
      if (auto n = Field(*meta, "name"); n && n->IsScalar()) name = n->Scalar();
      if (auto ns = Field(*meta, "namespace"); ns && ns->IsScalar()) name = ns->Scalar() + "/" + name;
    }
    into.push_back(
        ForeignDocument{kind, api, ToYaml(doc), Where(doc), name});
    ForeignPortNames(doc, Protocol::kTCP, 0, into.back().port_names);
  }

  // The port names of a Cilium or Calico policy: a value of `port` (Cilium's
  // toPorts[].ports[].port) or an item of `ports` (Calico's source and
  // destination ports) holding a letter, with the `protocol` of the nearest
  // map that gives one (TCP otherwise). Bounded in depth.
  static void ForeignPortNames(const YAML::Node& node, Protocol protocol, int depth,
                               std::vector<std::pair<std::string, Protocol>>& out) {
    if (depth > 64 || !node.IsDefined()) return;
    auto named = [&](const YAML::Node& value) {
      if (!value.IsScalar()) return;
      const std::string& text = value.Scalar();
      bool letter = std::any_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      });
      if (letter && text.size() <= 63) out.emplace_back(text, protocol);
    };
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) ForeignPortNames(item, protocol, depth + 1, out);
      return;
    }
    if (!node.IsMap()) return;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar() || entry.first.Scalar() != "protocol" || !entry.second.IsScalar()) continue;
      if (std::optional<Protocol> p = verify::ParseProtocol(entry.second.Scalar())) protocol = *p;
    }
    for (const auto& entry : node) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (key == "port") {
        named(entry.second);
      } else if (key == "ports" && entry.second.IsSequence()) {
        for (const YAML::Node& item : entry.second) {
          if (item.IsScalar()) named(item);
          else ForeignPortNames(item, protocol, depth + 1, out);
        }
      } else {
        ForeignPortNames(entry.second, protocol, depth + 1, out);
      }
    }
  }

  std::pair<std::string, std::string> NameAndNamespace(const YAML::Node& doc,
                                                       const std::string& kind) const {
    auto meta = Field(doc, "metadata");
    if (!meta) Fail(doc, fmt::format("{} without metadata", kind));
    RequireMap(*meta, "metadata");
    auto name = Field(*meta, "name");
    if (!name) Fail(*meta, fmt::format("{} without metadata.name", kind));
    std::string ns = "default";
    if (auto n = Field(*meta, "namespace")) {
      ns = Scalar(*n, "metadata.namespace");
      if (ns.empty()) ns = "default";
    }
    std::string n = Scalar(*name, "metadata.name");
    if (n.empty()) Fail(*name, "metadata.name is empty");
    return {n, ns};
  }

  void ReadNamespace(const YAML::Node& doc) {
    auto meta = Field(doc, "metadata");
    if (!meta) Fail(doc, "Namespace without metadata");
    RequireMap(*meta, "metadata");
    auto name = Field(*meta, "name");
    if (!name) Fail(*meta, "Namespace without metadata.name");
    Namespace ns;
    ns.name = Scalar(*name, "metadata.name");
    if (auto labels = Field(*meta, "labels")) ns.labels = ReadLabels(*labels, "metadata.labels");
    ns.labels.emplace("kubernetes.io/metadata.name", ns.name);
    out_.namespaces.push_back(std::move(ns));
  }

  std::vector<ContainerPort> ReadPorts(const YAML::Node& pod_spec) {
    std::vector<ContainerPort> ports;
    if (!pod_spec.IsMap()) return ports;
    // The ports of `containers` (init containers serve nothing), as the
    // analyzer takes them.
    if (auto containers = Field(pod_spec, "containers")) {
      if (!containers->IsSequence()) Fail(*containers, "spec.containers must be a list");
      for (const YAML::Node& c : *containers) {
        auto cports = Field(c, "ports");
        if (!cports) continue;
        if (!cports->IsSequence()) Fail(*cports, "container ports must be a list");
        for (const YAML::Node& p : *cports) {
          RequireMap(p, "a container port");
          ContainerPort port;
          if (auto n = Field(p, "name")) port.name = Scalar(*n, "port name");
          auto number = Field(p, "containerPort");
          if (!number) {  // not a port Kubernetes would accept; no effect
            Skip("container port without containerPort");
            continue;
          }
          port.port = Integer(*number, "containerPort", 1, 65535);
          port.protocol = ReadProtocol(p["protocol"], "protocol");
          ports.push_back(std::move(port));
        }
      }
    }
    return ports;
  }

  void ReadWorkload(const YAML::Node& doc, const std::string& kind) {
    auto [name, ns] = NameAndNamespace(doc, kind);
    Workload w;
    w.namespace_name = ns;
    w.where = Where(doc);
    w.name = name;
    w.kind = kind;
    std::optional<YAML::Node> pod_meta, pod_spec;
    if (kind == "Pod") {
      pod_meta = Field(doc, "metadata");
      pod_spec = Field(doc, "spec");
      if (auto owners = Field(*pod_meta, "ownerReferences")) {
        if (!owners->IsSequence()) Fail(*owners, "metadata.ownerReferences must be a list");
        for (const YAML::Node& o : *owners) {
          RequireMap(o, "an owner reference");
          auto controller = Field(o, "controller");
          if (!controller || !controller->IsScalar() || controller->Scalar() != "true") continue;
          std::string okind;
          if (auto k = Field(o, "kind")) okind = Scalar(*k, "ownerReferences kind");
          if (okind != "Node") {
            auto oname = Field(o, "name");
            if (!oname) Fail(o, "owner reference without name");
            w.name = Scalar(*oname, "ownerReferences name");
            if (w.name.empty()) Fail(*oname, "owner reference with an empty name");
            w.kind = okind.empty() ? "Pod" : okind;
          }
          break;
        }
      }
    } else {
      std::optional<YAML::Node> templ;
      if (auto spec = Field(doc, "spec")) {
        if (kind == "CronJob") {
          if (auto jt = Field(*spec, "jobTemplate")) {
            if (auto s = Field(*jt, "spec")) templ = Field(*s, "template");
          }
        } else {
          templ = Field(*spec, "template");
        }
      }
      if (templ) {
        pod_meta = Field(*templ, "metadata");
        pod_spec = Field(*templ, "spec");
      }
    }
    if (pod_meta) {
      if (auto labels = Field(*pod_meta, "labels")) w.labels = ReadLabels(*labels, "labels");
    }
    if (kind != "VirtualMachine" && pod_spec) w.ports = ReadPorts(*pod_spec);
    out_.workloads.push_back(std::move(w));
  }

  LabelSelector ReadSelector(const YAML::Node& node, const std::string& what) const {
    LabelSelector sel;
    if (Absent(node)) return sel;
    RequireMap(node, what);
    for (const auto& item : node) {
      std::string key = Scalar(item.first, what + " key");
      if (key == "matchLabels") {
        sel.match_labels = ReadLabels(item.second, what + ".matchLabels");
      } else if (key == "matchExpressions") {
        if (Absent(item.second)) continue;
        if (!item.second.IsSequence()) Fail(item.second, what + ".matchExpressions must be a list");
        for (const YAML::Node& e : item.second) {
          RequireMap(e, "a match expression");
          verify::LabelSelectorRequirement r;
          auto k = Field(e, "key");
          if (!k) Fail(e, "match expression without key");
          r.key = Scalar(*k, "key");
          auto op = Field(e, "operator");
          if (!op) Fail(e, "match expression without operator");
          std::string o = Scalar(*op, "operator");
          using Op = verify::LabelSelectorRequirement::Operator;
          if (o == "In") r.op = Op::kIn;
          else if (o == "NotIn") r.op = Op::kNotIn;
          else if (o == "Exists") r.op = Op::kExists;
          else if (o == "DoesNotExist") r.op = Op::kDoesNotExist;
          else Fail(*op, "operator must be In, NotIn, Exists or DoesNotExist");
          if (auto values = Field(e, "values")) {
            if (!values->IsSequence()) Fail(*values, "values must be a list");
            for (const YAML::Node& v : *values) r.values.push_back(Scalar(v, "a value"));
          }
          bool set_op = r.op == Op::kIn || r.op == Op::kNotIn;
          if (set_op && r.values.empty()) Fail(e, "operator " + o + " needs values");
          if (!set_op && !r.values.empty()) Fail(e, "operator " + o + " takes no values");
          sel.match_expressions.push_back(std::move(r));
        }
      } else {
        Fail(item.first, fmt::format("unknown field '{}' in {}", key, what));
      }
    }
    return sel;
  }

  static std::optional<std::pair<std::uint32_t, std::uint32_t>> ParseCidr4(const std::string& text) {
    size_t slash = text.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::uint32_t ip = 0;
    size_t pos = 0;
    for (int octet = 0; octet < 4; ++octet) {
      size_t end = text.find(octet < 3 ? '.' : '/', pos);
      if (end == std::string::npos || end > slash || end == pos || end - pos > 3) return std::nullopt;
      int v = 0;
      auto [p, ec] = std::from_chars(text.data() + pos, text.data() + end, v);
      if (ec != std::errc() || p != text.data() + end || v > 255) return std::nullopt;
      ip = (ip << 8) | static_cast<std::uint32_t>(v);
      pos = end + 1;
    }
    int prefix = 0;
    auto [p, ec] = std::from_chars(text.data() + slash + 1, text.data() + text.size(), prefix);
    if (ec != std::errc() || p != text.data() + text.size() || prefix < 0 || prefix > 32 ||
        slash + 1 == text.size()) {
      return std::nullopt;
    }
    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return std::make_pair(ip & mask, (ip & mask) | ~mask);
  }

  IpBlockPeer ReadIpBlock(const YAML::Node& node) const {
    RequireMap(node, "ipBlock");
    IpBlockPeer block;
    for (const auto& item : node) {
      std::string key = Scalar(item.first, "ipBlock key");
      if (key != "cidr" && key != "except") Fail(item.first, "unknown field '" + key + "' in ipBlock");
    }
    auto cidr = Field(node, "cidr");
    if (!cidr) Fail(node, "ipBlock without cidr");
    block.cidr = Scalar(*cidr, "cidr");
    if (auto ex = Field(node, "except")) {
      if (!ex->IsSequence()) Fail(*ex, "except must be a list");
      for (const YAML::Node& e : *ex) block.except.push_back(Scalar(e, "except"));
    }
    if (block.cidr.find(':') != std::string::npos) {
      if (!verify::Cidr::Parse(block.cidr)) Fail(*cidr, "invalid CIDR '" + block.cidr + "'");
      block.ipv6 = true;
      return block;
    }
    auto range = ParseCidr4(block.cidr);
    if (!range) Fail(*cidr, "invalid CIDR '" + block.cidr + "'");
    std::vector<IpRange> ranges = {{range->first, range->second}};
    size_t i = 0;
    for (const std::string& e : block.except) {
      auto hole = ParseCidr4(e);
      if (!hole) Fail((*Field(node, "except"))[i], "invalid CIDR '" + e + "' in except");
      ++i;
      std::vector<IpRange> next;
      for (const IpRange& r : ranges) {
        if (hole->second < r.first || hole->first > r.last) {
          next.push_back(r);
          continue;
        }
        if (hole->first > r.first) next.push_back({r.first, hole->first - 1});
        if (hole->second < r.last) next.push_back({hole->second + 1, r.last});
      }
      ranges = std::move(next);
    }
    block.ranges = std::move(ranges);
    return block;
  }

  PolicyRule ReadRule(const YAML::Node& node, const char* peers_key, const std::string& what) const {
    RequireMap(node, what);
    PolicyRule rule;
    rule.where = Where(node);
    for (const auto& item : node) {
      std::string key = Scalar(item.first, what + " key");
      if (key != peers_key && key != "ports") {
        Fail(item.first, fmt::format("unknown field '{}' in {}", key, what));
      }
    }
    if (auto peers = Field(node, peers_key)) {
      if (!peers->IsSequence()) Fail(*peers, fmt::format("{} must be a list", peers_key));
      for (const YAML::Node& p : *peers) {
        RequireMap(p, "a peer");
        PolicyPeer peer;
        for (const auto& item : p) {
          std::string key = Scalar(item.first, "peer key");
          if (key == "podSelector") {
            if (!item.second.IsNull()) peer.pod_selector = ReadSelector(item.second, "podSelector");
          } else if (key == "namespaceSelector") {
            if (!item.second.IsNull()) {
              peer.namespace_selector = ReadSelector(item.second, "namespaceSelector");
            }
          } else if (key == "ipBlock") {
            if (!item.second.IsNull()) peer.ip_block = ReadIpBlock(item.second);
          } else {
            Fail(item.first, "unknown field '" + key + "' in a peer");
          }
        }
        bool selectors = peer.pod_selector || peer.namespace_selector;
        if (!selectors && !peer.ip_block) Fail(p, "a peer needs podSelector, namespaceSelector or ipBlock");
        if (selectors && peer.ip_block) Fail(p, "a peer cannot combine ipBlock with selectors");
        rule.peers.push_back(std::move(peer));
      }
    }
    if (auto ports = Field(node, "ports")) {
      if (!ports->IsSequence()) Fail(*ports, "ports must be a list");
      for (const YAML::Node& p : *ports) {
        RequireMap(p, "a port");
        PolicyPort port;
        for (const auto& item : p) {
          std::string key = Scalar(item.first, "port key");
          if (key != "protocol" && key != "port" && key != "endPort") {
            Fail(item.first, "unknown field '" + key + "' in a port");
          }
        }
        port.protocol = ReadProtocol(p["protocol"], "protocol");
        if (auto number = Field(p, "port")) {
          if (!number->IsScalar()) Fail(*number, "port must be a number or a name");
          // A quoted value is a port name (intstr as a string), as in Go.
          bool quoted = number->Tag() == "!";
          const std::string& text = number->Scalar();
          bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
          if (!quoted && digits) {
            port.port = Integer(*number, "port", 1, 65535);
          } else {
            if (text.empty()) Fail(*number, "port name is empty");
            // A name with a letter is checked as the API server does
            // (IANA_SVC_NAME, as compiler/verify/k8s_eval.cc): 1 to 15
            // lower-case letters, digits and '-', no '-' at either end or
            // twice in a row. (A quoted number stays a name that no
            // container port has.)
            bool letter = std::any_of(text.begin(), text.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            });
            bool valid = text.size() <= 15 && text.front() != '-' && text.back() != '-' &&
                         text.find("--") == std::string::npos &&
                         std::all_of(text.begin(), text.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                         });
            if (letter && !valid) {
              Fail(*number, fmt::format("invalid port name '{}': 1 to 15 lower-case letters, digits "
                                        "and '-', with a letter, no '-' at either end or twice in a row",
                                        text));
            }
            port.named_port = text;
          }
        }
        if (auto end = Field(p, "endPort")) {
          port.end_port = Integer(*end, "endPort", 1, 65535);
          if (!port.port) Fail(*end, "endPort needs a numeric port");
          if (*port.end_port < *port.port) Fail(*end, "endPort is below port");
        }
        rule.ports.push_back(std::move(port));
      }
    }
    return rule;
  }

  void ReadPolicy(const YAML::Node& doc) {
    auto [name, ns] = NameAndNamespace(doc, "NetworkPolicy");
    NetworkPolicy policy;
    policy.name = name;
    policy.namespace_name = ns;
    policy.where = Where(doc);
    auto spec_field = Field(doc, "spec");
    if (!spec_field) Fail(doc, "NetworkPolicy without spec");
    const YAML::Node spec = *spec_field;
    RequireMap(spec, "spec");
    bool types_given = false;
    for (const auto& item : spec) {
      std::string key = Scalar(item.first, "spec key");
      if (key == "podSelector") {
        policy.pod_selector = ReadSelector(item.second, "spec.podSelector");
      } else if (key == "policyTypes") {
        if (Absent(item.second)) continue;
        if (!item.second.IsSequence()) Fail(item.second, "spec.policyTypes must be a list");
        for (const YAML::Node& t : item.second) {
          std::string type = Scalar(t, "a policy type");
          if (type == "Ingress") policy.affects_ingress = true;
          else if (type == "Egress") policy.affects_egress = true;
          else Fail(t, "policy type must be Ingress or Egress");
          types_given = true;
        }
      } else if (key == "ingress" || key == "egress") {
        if (Absent(item.second)) continue;
        if (!item.second.IsSequence()) Fail(item.second, fmt::format("spec.{} must be a list", key));
        size_t i = 0;
        for (const YAML::Node& r : item.second) {
          std::string what = fmt::format("spec.{}[{}]", key, i++);
          if (key == "ingress") policy.ingress.push_back(ReadRule(r, "from", what));
          else policy.egress.push_back(ReadRule(r, "to", what));
        }
      } else {
        Fail(item.first, fmt::format("unknown field '{}' in spec", key));
      }
    }
    if (!types_given) {
      policy.affects_ingress = true;
      policy.affects_egress = !policy.egress.empty();
    }
    YAML::Node copy = YAML::Clone(doc);
    copy["apiVersion"] = "networking.k8s.io/v1";
    copy["kind"] = "NetworkPolicy";
    copy["metadata"]["namespace"] = policy.namespace_name;
    policy.yaml = ToYaml(copy);
    out_.policies.push_back(std::move(policy));
  }

  std::string file_;
  Manifests& out_;
  std::map<std::string, size_t>& skipped_;
  size_t objects_ = 0;
};

bool IsManifestFile(const fs::path& path) {
  std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

struct Walk {
  std::vector<std::string> files;
  std::uintmax_t bytes = 0;

  void Add(const fs::path& path, const std::string& shown) {
    std::error_code ec;
    std::uintmax_t size = fs::file_size(path, ec);
    if (ec) throw Error(EscapeText(fmt::format("{}: cannot read: {}", shown, ec.message())));
    if (size > kMaxFileBytes) {
      throw Error(EscapeText(fmt::format("{}: larger than {} MiB", shown, kMaxFileBytes >> 20)));
    }
    bytes += size;
    if (bytes > kMaxTotalBytes) {
      throw Error(EscapeText(fmt::format("{}: the inputs exceed {} MiB in total", shown, kMaxTotalBytes >> 20)));
    }
    if (files.size() >= kMaxFiles) throw Error(EscapeText(fmt::format("more than {} input files", kMaxFiles)));
    files.push_back(shown);
  }

  void Directory(const fs::path& dir, const std::string& shown, int depth) {
    if (depth > kMaxDirectoryDepth) {
      throw Error(EscapeText(fmt::format("{}: directories nested more than {} deep", shown, kMaxDirectoryDepth)));
    }
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(*it);
      if (entries.size() > kMaxFiles) throw Error(EscapeText(fmt::format("{}: too many entries", shown)));
    }
    if (ec) throw Error(EscapeText(fmt::format("{}: cannot read directory: {}", shown, ec.message())));
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
    for (const fs::directory_entry& entry : entries) {
      std::string name = entry.path().filename().string();
      std::string child = shown + "/" + name;
      if (!name.empty() && name[0] == '.') continue;
      std::error_code type_ec;
      if (entry.is_directory(type_ec)) {
        if (entry.is_symlink(type_ec)) continue;  // no loops through links
        Directory(entry.path(), child, depth + 1);
      } else if (entry.is_regular_file(type_ec) && IsManifestFile(entry.path())) {
        Add(entry.path(), child);
      }
    }
  }
};

}  // namespace

void ReadText(const std::string& text, const std::string& name, Manifests& out) {
  std::map<std::string, size_t> skipped;
  FileReader reader(name, out, skipped);
  reader.Read(text);
  for (const auto& [kind, count] : skipped) {
    bool odd = kind.find(' ') != std::string::npos && kind.find('(') == std::string::npos;
    out.warnings.push_back(EscapeText(
        fmt::format("{}: skipped {} {}{}", name, count, odd ? "" : "object(s) of kind ", kind)));
  }
}

void Finish(Manifests& out) {
  // Namespaces: the last definition of a name wins, as when applied in order.
  std::map<std::string, Namespace> namespaces;
  for (Namespace& ns : out.namespaces) namespaces[ns.name] = std::move(ns);
  out.namespaces.clear();
  for (auto& [name, ns] : namespaces) out.namespaces.push_back(std::move(ns));
  // Workloads: one per owner; the first pod read stands for it.
  std::vector<Workload> workloads;
  std::map<std::string, size_t> seen;
  std::set<std::string> warned;
  for (Workload& w : out.workloads) {
    auto [it, inserted] = seen.emplace(w.Id(), workloads.size());
    if (inserted) {
      workloads.push_back(std::move(w));
    } else if (workloads[it->second].labels != w.labels && warned.insert(w.Id()).second) {
      const Workload& first = workloads[it->second];
      out.warnings.push_back(EscapeText(fmt::format(
          "{}: pods of {} carry different labels; the first one read ({}) stands for all of them",
          w.where.ToString(), w.Id(), first.where.ToString())));
    }
  }
  std::sort(workloads.begin(), workloads.end(),
            [](const Workload& a, const Workload& b) { return a.Id() < b.Id(); });
  out.workloads = std::move(workloads);
  std::set<std::string> policy_ids;
  for (const NetworkPolicy& p : out.policies) {
    if (!policy_ids.insert(p.Id()).second) {
      throw Error(EscapeText(fmt::format("{}: a second NetworkPolicy named {}", p.where.ToString(), p.Id())));
    }
  }
}

Manifests ReadManifests(const std::vector<std::string>& paths) {
  Walk walk;
  for (const std::string& shown : paths) {
    fs::path path(shown);
    if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY"); cwd && *cwd && path.is_relative()) {
      path = fs::path(cwd) / path;
    }
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw Error(EscapeText(fmt::format("{}: no such file or directory", shown)));
    if (fs::is_directory(status)) {
      walk.Directory(path, shown, 0);
    } else {
      walk.Add(path, shown);
    }
  }
  Manifests out;
  for (const std::string& shown : walk.files) {
    fs::path path(shown);
    if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY"); cwd && *cwd && path.is_relative()) {
      path = fs::path(cwd) / path;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(EscapeText(fmt::format("{}: cannot read", shown)));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    if (text.size() > kMaxFileBytes) throw Error(EscapeText(fmt::format("{}: too large", shown)));
    ReadText(text, shown, out);
  }
  Finish(out);
  return out;
}

}  // namespace netpolc::manifests
