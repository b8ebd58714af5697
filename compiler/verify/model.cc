#include "compiler/verify/model.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <exception>

namespace netpolc::verify {

// ---------------------------------------------------------------------------
// PortSet

PortSet PortSet::All() {
  PortSet all;
  for (Protocol protocol : kProtocols) all.AddAll(protocol);
  return all;
}

void PortSet::Add(Protocol protocol, int first, int last) {
  first = std::max(first, 1);
  last = std::min(last, kMaxPort);
  if (first > last) return;
  std::vector<std::pair<int, int>>& v = ranges_[Index(protocol)];
  std::vector<std::pair<int, int>> out;
  out.reserve(v.size() + 1);
  bool placed = false;
  for (const auto& r : v) {
    if (r.second + 1 < first) {
      out.push_back(r);
    } else if (last + 1 < r.first) {
      if (!placed) {
        out.emplace_back(first, last);
        placed = true;
      }
      out.push_back(r);
    } else {  // overlapping or adjacent: merge into the new range
      first = std::min(first, r.first);
      last = std::max(last, r.second);
    }
  }
  if (!placed) out.emplace_back(first, last);
  v = std::move(out);
}

void PortSet::AddAll(const PortSet& other) {
  for (Protocol protocol : kProtocols) {
    for (const auto& [first, last] : other.ranges(protocol)) Add(protocol, first, last);
  }
}

bool PortSet::Contains(Protocol protocol, int port) const {
  for (const auto& [first, last] : ranges_[Index(protocol)]) {
    if (first <= port && port <= last) return true;
  }
  return false;
}

bool PortSet::empty() const {
  return std::all_of(ranges_.begin(), ranges_.end(), [](const auto& v) { return v.empty(); });
}

PortSet PortSet::Minus(const PortSet& other) const {
  PortSet out;
  for (Protocol protocol : kProtocols) {
    const auto& holes = other.ranges(protocol);
    for (auto [first, last] : ranges(protocol)) {
      int next = first;
      for (const auto& [hole_first, hole_last] : holes) {
        if (hole_last < next || hole_first > last) continue;
        if (hole_first > next) out.Add(protocol, next, hole_first - 1);
        next = std::max(next, hole_last + 1);
      }
      if (next <= last) out.Add(protocol, next, last);
    }
  }
  return out;
}

std::string PortSet::ToString() const {
  std::string out;
  for (Protocol protocol : kProtocols) {
    const auto& v = ranges(protocol);
    if (v.empty()) continue;
    if (!out.empty()) out += "; ";
    out += verify::ToString(protocol);
    for (size_t i = 0; i < v.size(); ++i) {
      out += i == 0 ? " " : ", ";
      if (v[i].first == 1 && v[i].second == kMaxPort) {
        out += "all";
      } else if (v[i].first == v[i].second) {
        out += std::to_string(v[i].first);
      } else {
        out += fmt::format("{}-{}", v[i].first, v[i].second);
      }
    }
  }
  return out.empty() ? "nothing" : out;
}

// ---------------------------------------------------------------------------
// PortSampler

void PortSampler::AddBoundary(Protocol protocol, int port) {
  if (port < 2 || port > kMaxPort) return;
  points_[static_cast<size_t>(protocol)].insert(port);
}

void PortSampler::AddRange(Protocol protocol, int first, int last) {
  AddBoundary(protocol, first);
  AddBoundary(protocol, last + 1);
}

std::string_view ToString(Side side) { return side == Side::kIngress ? "ingress" : "egress"; }

// ---------------------------------------------------------------------------
// Universe

void Universe::AddNamespace(Namespace ns) {
  if (ns.name.empty()) throw Error("namespace name must not be empty");
  if (namespace_index_.count(ns.name) != 0) {
    throw Error(fmt::format("duplicate namespace '{}'", ns.name));
  }
  ns.labels["kubernetes.io/metadata.name"] = ns.name;
  namespace_index_.emplace(ns.name, namespaces_.size());
  namespaces_.push_back(std::move(ns));
}

void Universe::AddEndpoint(Endpoint endpoint) {
  const std::string id = endpoint.id;
  if (id.empty()) throw Error("endpoint id must not be empty");
  if (endpoint_index_.count(id) != 0) throw Error(fmt::format("duplicate endpoint '{}'", id));
  std::optional<IpAddress> ip;
  if (!endpoint.ip.empty()) {
    ip = IpAddress::Parse(endpoint.ip);
    if (!ip) throw Error(fmt::format("endpoint '{}': invalid IP address '{}'", id, endpoint.ip));
  }
  size_t ns_index = std::string::npos;
  if (endpoint.kind == Endpoint::Kind::kPod) {
    auto it = namespace_index_.find(endpoint.namespace_name);
    if (it == namespace_index_.end()) {
      throw Error(fmt::format("endpoint '{}': unknown namespace '{}'", id, endpoint.namespace_name));
    }
    ns_index = it->second;
  } else {
    if (!endpoint.namespace_name.empty() || !endpoint.labels.empty()) {
      throw Error(fmt::format("endpoint '{}': an external endpoint has no namespace or labels", id));
    }
    if (!ip) throw Error(fmt::format("endpoint '{}': an external endpoint needs an IP", id));
    if (!endpoint.ports.empty()) {
      throw Error(fmt::format("endpoint '{}': an external endpoint has no container ports", id));
    }
  }
  for (size_t i = 0; i < endpoint.ports.size(); ++i) {
    const ContainerPort& p = endpoint.ports[i];
    if (p.name.empty() || p.port < 1 || p.port > kMaxPort) {
      throw Error(fmt::format("endpoint '{}': a container port needs a name and a port 1-65535", id));
    }
    for (size_t j = 0; j < i; ++j) {
      if (endpoint.ports[j].name == p.name) {
        throw Error(fmt::format("endpoint '{}': two container ports are named '{}'", id, p.name));
      }
    }
  }
  if (endpoint.role != Endpoint::Role::kNone && endpoint.kind != Endpoint::Kind::kExternal) {
    throw Error(fmt::format("endpoint '{}': only an external endpoint is a node or the API server", id));
  }
  endpoint_index_.emplace(id, endpoints_.size());
  endpoints_.push_back(std::move(endpoint));
  ips_.push_back(ip);
  endpoint_namespace_.push_back(ns_index);
}

const Labels& Universe::namespace_labels(size_t index) const {
  static const Labels kNone;
  size_t ns = endpoint_namespace_.at(index);
  return ns == std::string::npos ? kNone : namespaces_[ns].labels;
}

const Labels* Universe::FindNamespace(std::string_view name) const {
  auto it = namespace_index_.find(name);
  return it == namespace_index_.end() ? nullptr : &namespaces_[it->second].labels;
}

std::optional<size_t> Universe::Find(std::string_view id) const {
  auto it = endpoint_index_.find(id);
  if (it == endpoint_index_.end()) return std::nullopt;
  return it->second;
}

Cluster Universe::MakeCluster() const {
  Cluster cluster;
  for (const Namespace& ns : namespaces_) cluster.AddNamespace(ns);
  for (const Endpoint& e : endpoints_) cluster.AddEndpoint(e);
  return cluster;
}

// ---------------------------------------------------------------------------
// K8sEvaluator

K8sEvaluator::K8sEvaluator(const Universe& universe, std::string_view yaml,
                           std::string_view source_name)
    : universe_(universe), cluster_(universe.MakeCluster()) {
  cluster_.LoadPolicies(yaml, source_name);
  for (auto& samplers : samplers_) samplers.resize(universe.size());
  // A side's answer only changes at the port boundaries of the policies that
  // select the endpoint (same namespace, podSelector matches).
  for (const Policy& policy : cluster_.policies()) {
    for (size_t e = 0; e < universe.size(); ++e) {
      const Endpoint& ep = universe.endpoint(e);
      if (ep.kind != Endpoint::Kind::kPod || ep.namespace_name != policy.namespace_name ||
          !policy.pod_selector.Matches(ep.labels)) {
        continue;
      }
      for (int side = 0; side < 2; ++side) {
        const std::vector<Rule>& rules = side == 0 ? policy.ingress : policy.egress;
        for (const Rule& rule : rules) {
          for (const PortMatch& m : rule.ports) {
            if (m.port) samplers_[side][e].AddRange(m.protocol, *m.port, m.end_port.value_or(*m.port));
            if (m.name.empty()) continue;
            // A named port: every number a pod gives that name.
            for (const Endpoint& other : universe.endpoints()) {
              for (const ContainerPort& cp : other.ports) {
                if (cp.name == m.name) samplers_[side][e].AddRange(cp.protocol, cp.port, cp.port);
              }
            }
          }
        }
      }
    }
  }
}

PortSet K8sEvaluator::Allowed(Side side, size_t subject, size_t peer) const {
  const std::string& subject_id = universe_.endpoint(subject).id;
  const std::string& peer_id = universe_.endpoint(peer).id;
  if (side == Side::kIngress) {
    if (!cluster_.IsolatedForIngress(subject_id)) return PortSet::All();
    return samplers_[0][subject].Sample([&](Protocol protocol, int port) {
      return cluster_.IngressAllowed(peer_id, subject_id, protocol, port);
    });
  }
  if (!cluster_.IsolatedForEgress(subject_id)) return PortSet::All();
  return samplers_[1][subject].Sample([&](Protocol protocol, int port) {
    return cluster_.EgressAllowed(subject_id, peer_id, protocol, port);
  });
}

// ---------------------------------------------------------------------------
// Comparison

std::vector<Difference> Compare(const Universe& universe, const Evaluator& expected,
                                const Evaluator& actual, size_t max_differences) {
  std::vector<Difference> out;
  for (Side side : {Side::kIngress, Side::kEgress}) {
    for (size_t subject = 0; subject < universe.size(); ++subject) {
      for (size_t peer = 0; peer < universe.size(); ++peer) {
        PortSet want = expected.Allowed(side, subject, peer);
        PortSet got = actual.Allowed(side, subject, peer);
        if (want == got) continue;
        out.push_back({side, subject, peer, want.Minus(got), got.Minus(want)});
        if (max_differences != 0 && out.size() >= max_differences) return out;
      }
    }
  }
  return out;
}

std::string Describe(const Universe& universe, const Difference& d) {
  const std::string& subject = universe.endpoint(d.subject).id;
  const std::string& peer = universe.endpoint(d.peer).id;
  std::string out = d.side == Side::kIngress
                        ? fmt::format("ingress of {} from {}", subject, peer)
                        : fmt::format("egress of {} to {}", subject, peer);
  if (!d.only_expected.empty()) out += ": only expected " + d.only_expected.ToString();
  if (!d.only_actual.empty()) out += (d.only_expected.empty() ? ": " : "; ") +
                                     std::string("only actual ") + d.only_actual.ToString();
  return out;
}

}  // namespace netpolc::verify

namespace netpolc::verify {

// ---------------------------------------------------------------------------
// Reading manifests

std::vector<std::pair<int, YAML::Node>> LoadDocuments(std::string_view yaml,
                                                      std::string_view source_name) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: invalid YAML: {}", source_name, e.what()));
  }
  std::vector<std::pair<int, YAML::Node>> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!DocReader::Absent(docs[i])) out.emplace_back(static_cast<int>(i) + 1, docs[i]);
  }
  return out;
}

void DocReader::Fail(std::string_view path, std::string_view message) const {
  std::string where = fmt::format("{}: document {}", source_, document_);
  if (!object_.empty()) where += fmt::format(" ({})", object_);
  if (!path.empty()) where += fmt::format(": {}", path);
  throw Error(fmt::format("{}: {}", where, message));
}

std::string DocReader::Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string DocReader::Index(std::string_view path, size_t i) { return fmt::format("{}[{}]", path, i); }

std::pair<std::string, std::string> DocReader::ReadHeader(const YAML::Node& doc,
                                                          std::string_view api_version,
                                                          std::string_view kind) {
  RequireMap(doc, "");
  std::string api = String(doc["apiVersion"], "apiVersion");
  std::string actual_kind = String(doc["kind"], "kind");
  if (api != api_version || actual_kind != kind) {
    Fail("kind", fmt::format("unsupported {} {} (only {} {})", api, actual_kind, api_version, kind));
  }
  CheckKeys(doc, "", {"apiVersion", "kind", "metadata", "spec"});
  RequireMap(doc["metadata"], "metadata");
  std::string name = String(doc["metadata"]["name"], "metadata.name");
  std::string ns = String(doc["metadata"]["namespace"], "metadata.namespace");
  SetObject(fmt::format("{} {}/{}", kind, ns, name));
  return {name, ns};
}


void DocReader::RequireMap(const YAML::Node& node, std::string_view path) const {
  if (!node.IsDefined() || !node.IsMap()) Fail(path, fmt::format("expected a map, got {}", DescribeNode(node)));
}

void DocReader::RequireList(const YAML::Node& node, std::string_view path) const {
  if (!node.IsDefined() || !node.IsSequence()) {
    Fail(path, fmt::format("expected a list, got {}", DescribeNode(node)));
  }
}

std::string DocReader::String(const YAML::Node& node, std::string_view path) const {
  if (!node.IsDefined() || !node.IsScalar()) {
    Fail(path, fmt::format("expected a string, got {}", DescribeNode(node)));
  }
  return node.Scalar();
}

std::string DocReader::QuotedString(const YAML::Node& node, std::string_view path) const {
  std::string text = String(node, path);
  if (node.Tag() != "!") Fail(path, fmt::format("expected a quoted string, got {}", text));
  return text;
}

int64_t DocReader::Integer(const YAML::Node& node, std::string_view path) const {
  std::string text = String(node, path);
  if (node.Tag() == "!") Fail(path, fmt::format("expected an integer, got the string \"{}\"", text));
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    Fail(path, fmt::format("expected an integer, got '{}'", text));
  }
  return value;
}

double DocReader::Number(const YAML::Node& node, std::string_view path) const {
  std::string text = String(node, path);
  if (node.Tag() == "!") Fail(path, fmt::format("expected a number, got the string \"{}\"", text));
  try {
    size_t used = 0;
    double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  Fail(path, fmt::format("expected a number, got '{}'", text));
}

bool DocReader::Boolean(const YAML::Node& node, std::string_view path) const {
  std::string text = String(node, path);
  if (node.Tag() != "!" && (text == "true" || text == "false")) return text == "true";
  Fail(path, fmt::format("expected true or false, got '{}'", text));
}

void DocReader::CheckKeys(const YAML::Node& map, std::string_view path,
                          std::initializer_list<std::string_view> allowed) const {
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) Fail(path, "map keys must be strings");
    const std::string& key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      Fail(Join(path, key), "unknown field");
    }
  }
}

void DocReader::Unsupported(const YAML::Node& map, std::string_view path,
                            std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys) {
    if (!Absent(map[std::string(key)])) Fail(Join(path, key), "not supported by this evaluator");
  }
}

}  // namespace netpolc::verify
