// The common ground of the policy evaluators: the universe of endpoints that
// policies are evaluated over, exact port sets, the Evaluator interface that
// every semantics implements (the IR, Kubernetes, Cilium, Calico), and the
// comparison of two evaluators over a universe.
//
// The universe reuses the cluster model of k8s_eval.h (Namespace, Endpoint,
// Protocol, IpAddress, Cidr, Labels, Error), so one universe feeds every
// evaluator, including k8s_eval's Cluster (through K8sEvaluator).
//
// Evaluators answer per side: the ingress side of the destination and the
// egress side of the source are separate questions, and a connection is
// allowed when both sides admit it. They answer with the exact set of ports
// (of every protocol) that a side admits between two endpoints, so that two
// semantics can be compared over all 3 x 65535 ports at once.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "compiler/verify/k8s_eval.h"

namespace netpolc::verify {

inline constexpr int kMaxPort = 65535;
inline constexpr std::array<Protocol, 3> kProtocols = {Protocol::kTCP, Protocol::kUDP,
                                                       Protocol::kSCTP};

// A set of (protocol, port) pairs, ports 1-65535. Each protocol's ports are
// kept as sorted, disjoint, non-adjacent inclusive ranges, so equal sets
// compare equal.
class PortSet {
 public:
  static PortSet All();

  // Adds [first, last] (clamped to 1-65535) of `protocol`.
  void Add(Protocol protocol, int first, int last);
  void AddAll(Protocol protocol) { Add(protocol, 1, kMaxPort); }
  void AddAll(const PortSet& other);

  bool Contains(Protocol protocol, int port) const;
  bool empty() const;
  // The pairs in this set and not in `other`.
  PortSet Minus(const PortSet& other) const;
  const std::vector<std::pair<int, int>>& ranges(Protocol protocol) const {
    return ranges_[Index(protocol)];
  }
  // "TCP 80, 8080-8090; UDP 53", or "nothing".
  std::string ToString() const;

  friend bool operator==(const PortSet&, const PortSet&) = default;

 private:
  static size_t Index(Protocol protocol) { return static_cast<size_t>(protocol); }
  std::array<std::vector<std::pair<int, int>>, 3> ranges_;
};

// Builds the exact PortSet of a function of (protocol, port) that is
// constant between consecutive `boundaries`: it is sampled at 1 and at every
// boundary of the protocol (a rule range [a, b] contributes a and b + 1).
class PortSampler {
 public:
  // Ports outside 2-65535 are ignored (1 is always sampled).
  void AddBoundary(Protocol protocol, int port);
  // Adds the boundaries of the range [first, last]: first and last + 1.
  void AddRange(Protocol protocol, int first, int last);
  template <typename Fn>  // bool(Protocol, int port)
  PortSet Sample(Fn allowed) const {
    PortSet out;
    for (Protocol protocol : kProtocols) {
      const std::set<int>& points = points_[static_cast<size_t>(protocol)];
      int start = 1;
      bool on = allowed(protocol, 1);
      for (int point : points) {
        if (on) out.Add(protocol, start, point - 1);
        start = point;
        on = allowed(protocol, point);
      }
      if (on) out.Add(protocol, start, kMaxPort);
    }
    return out;
  }

 private:
  std::array<std::set<int>, 3> points_;
};

enum class Side { kIngress, kEgress };
std::string_view ToString(Side side);

// The endpoints (pods and external addresses) and namespaces that policies
// are evaluated over. Every endpoint should have a distinct IP: Calico's
// selectors and every CIDR rule match packets by address.
class Universe {
 public:
  // Throws Error on a duplicate. Adds kubernetes.io/metadata.name=<name>.
  void AddNamespace(Namespace ns);
  // Throws Error on a duplicate id, an unknown namespace, an invalid IP or
  // an external endpoint without an IP or with a namespace or labels.
  void AddEndpoint(Endpoint endpoint);

  const std::vector<Namespace>& namespaces() const { return namespaces_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  size_t size() const { return endpoints_.size(); }
  const Endpoint& endpoint(size_t index) const { return endpoints_.at(index); }
  bool is_pod(size_t index) const { return endpoints_.at(index).kind == Endpoint::Kind::kPod; }
  const std::optional<IpAddress>& ip(size_t index) const { return ips_.at(index); }
  // Labels of a pod's namespace (empty for externals).
  const Labels& namespace_labels(size_t index) const;
  // Labels of a namespace by name; nullptr when unknown.
  const Labels* FindNamespace(std::string_view name) const;
  std::optional<size_t> Find(std::string_view id) const;

  // A Kubernetes cluster model with the same namespaces and endpoints.
  Cluster MakeCluster() const;

 private:
  std::vector<Namespace> namespaces_;
  std::map<std::string, size_t, std::less<>> namespace_index_;
  std::vector<Endpoint> endpoints_;
  std::vector<std::optional<IpAddress>> ips_;
  std::vector<size_t> endpoint_namespace_;  // index into namespaces_, or npos
  std::map<std::string, size_t, std::less<>> endpoint_index_;
};

// One policy semantics over a universe.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // The ports on which `side` of `subject` admits a connection with `peer`:
  // for kIngress the connection peer -> subject, for kEgress subject -> peer.
  // Indices are into the universe's endpoints.
  virtual PortSet Allowed(Side side, size_t subject, size_t peer) const = 0;

  // One question: does `side` of `subject` admit (protocol, port) with `peer`?
  bool Allows(Side side, size_t subject, size_t peer, Protocol protocol, int port) const {
    return Allowed(side, subject, peer).Contains(protocol, port);
  }
};

// Kubernetes NetworkPolicy semantics: k8s_eval's Cluster, loaded with the
// universe and the given manifests (networking.k8s.io/v1 NetworkPolicy).
class K8sEvaluator : public Evaluator {
 public:
  // Throws Error as Cluster::LoadPolicies does.
  K8sEvaluator(const Universe& universe, std::string_view yaml,
               std::string_view source_name = "<input>");
  PortSet Allowed(Side side, size_t subject, size_t peer) const override;

 private:
  const Universe& universe_;
  Cluster cluster_;
  // Per side and endpoint: the port boundaries of the policies selecting it.
  std::array<std::vector<PortSampler>, 2> samplers_;
};

struct Difference {
  Side side = Side::kIngress;
  size_t subject = 0;
  size_t peer = 0;
  PortSet only_expected;  // admitted by `expected` alone
  PortSet only_actual;    // admitted by `actual` alone
};

// Compares two evaluators on both sides of every ordered pair of endpoints.
// Returns at most `max_differences` differences (all of them when 0).
std::vector<Difference> Compare(const Universe& universe, const Evaluator& expected,
                                const Evaluator& actual, size_t max_differences = 0);

// "ingress of ns/a from ns/b: only expected TCP 80; only actual UDP 53".
std::string Describe(const Universe& universe, const Difference& difference);

// ---------------------------------------------------------------------------
// Strict reading of manifests, shared by the Cilium and Calico evaluators.
// Unknown fields are errors (a typo would silently change the meaning), and
// every error names the source, the document, the object and the field.

// Parses every document of a multi-document YAML string, skipping empty
// ones; each comes with its 1-based position. Throws Error on invalid YAML.
std::vector<std::pair<int, YAML::Node>> LoadDocuments(std::string_view yaml,
                                                      std::string_view source_name);

class DocReader {
 public:
  DocReader(std::string_view source_name, int document)
      : source_(source_name), document_(document) {}
  // Names the object in later errors, e.g. "CiliumNetworkPolicy ns/name".
  void SetObject(std::string object) { object_ = std::move(object); }

  [[noreturn]] void Fail(std::string_view path, std::string_view message) const;

  static bool Absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }
  static std::string Join(std::string_view path, std::string_view key);
  static std::string Index(std::string_view path, size_t i);

  void RequireMap(const YAML::Node& node, std::string_view path) const;
  void RequireList(const YAML::Node& node, std::string_view path) const;
  // A scalar, quoted or not.
  std::string String(const YAML::Node& node, std::string_view path) const;
  // A scalar written as a YAML string (quoted, so not a number or boolean).
  std::string QuotedString(const YAML::Node& node, std::string_view path) const;
  // An unquoted integer.
  int64_t Integer(const YAML::Node& node, std::string_view path) const;
  // An unquoted number (integer or decimal).
  double Number(const YAML::Node& node, std::string_view path) const;
  // true / false.
  bool Boolean(const YAML::Node& node, std::string_view path) const;
  // Fails on keys of `map` outside `allowed`.
  void CheckKeys(const YAML::Node& map, std::string_view path,
                 std::initializer_list<std::string_view> allowed) const;
  // Reads the header of a namespaced object: checks apiVersion and kind
  // (only `kind` of `api_version` is accepted) and the top-level keys, reads
  // metadata.name and metadata.namespace, and names the object in later
  // errors. Returns {name, namespace}.
  std::pair<std::string, std::string> ReadHeader(const YAML::Node& doc,
                                                 std::string_view api_version,
                                                 std::string_view kind);
  // Fails when `map` has `key`: a field the evaluator does not model.
  void Unsupported(const YAML::Node& map, std::string_view path,
                   std::initializer_list<std::string_view> keys) const;

 private:
  std::string source_;
  int document_;
  std::string object_;
};

}  // namespace netpolc::verify
