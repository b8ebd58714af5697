// The reader of Kubernetes manifests shared by `netpolc connlist`, `import`
// and `verify`: YAML or JSON files (or directories, read recursively), each
// with any number of documents, `List`/`PodList`/`NamespaceList`/... wrappers
// flattened. It keeps what network policies are evaluated over:
//  * Namespaces (name and labels);
//  * workloads: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
//    CronJob, ReplicationController and KubeVirt VirtualMachine, with the
//    labels of their pods (the pod template's, or a Pod's own) and their named
//    container ports. A Pod with a controlling owner stands for that owner
//    (e.g. `ns/frontend-99684f7f8[ReplicaSet]`), as np-guard's analyzer does;
//  * networking.k8s.io/v1 NetworkPolicies, with named ports and the line of
//    every rule;
//  * Cilium and Calico policy documents, kept as text for `verify`.
// Other kinds are skipped with one warning per kind. Malformed YAML and
// malformed fields are errors naming file:line:column.
//
// Reads are bounded: file size, total size, number of files, directory depth
// and number of objects (see the limits below).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/verify/k8s_eval.h"

namespace netpolc::manifests {

using verify::LabelSelector;
using verify::Labels;
using verify::Protocol;

inline constexpr std::uintmax_t kMaxFileBytes = 64u << 20;    // one file
inline constexpr std::uintmax_t kMaxTotalBytes = 256u << 20;  // all files
inline constexpr size_t kMaxFiles = 10000;
inline constexpr int kMaxDirectoryDepth = 32;
inline constexpr size_t kMaxObjects = 200000;

// A located error: "file:line:column: message".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string ToString() const;
};

struct Namespace {
  std::string name;
  Labels labels;  // kubernetes.io/metadata.name=<name> added when absent
};

struct ContainerPort {
  std::string name;  // may be empty
  int port = 0;
  Protocol protocol = Protocol::kTCP;
};

struct Workload {
  std::string name;            // the owner's name (or the Pod's, without owner)
  std::string namespace_name;  // "default" when absent
  std::string kind;            // "Deployment", "ReplicaSet", "Pod", "VirtualMachine"...
  Labels labels;
  std::vector<ContainerPort> ports;
  Location where;
  // "ns/name[Kind]", the analyzer's name of the workload.
  std::string Id() const { return namespace_name + "/" + name + "[" + kind + "]"; }
};

// An address range of IPv4 (inclusive bounds).
struct IpRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
};

struct IpBlockPeer {
  std::string cidr;                 // as written
  std::vector<std::string> except;  // as written
  std::vector<IpRange> ranges;      // cidr minus except (empty for IPv6)
  bool ipv6 = false;
};

struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlockPeer> ip_block;
};

struct PolicyPort {
  Protocol protocol = Protocol::kTCP;
  std::optional<int> port;  // absent with named_port empty: every port
  std::string named_port;   // a port name, resolved against the pod's containers
  std::optional<int> end_port;
};

struct PolicyRule {
  std::vector<PolicyPeer> peers;  // empty: every peer
  std::vector<PolicyPort> ports;  // empty: every port
  Location where;
};

struct NetworkPolicy {
  std::string name;
  std::string namespace_name;
  LabelSelector pod_selector;
  bool affects_ingress = false;  // effective policy types
  bool affects_egress = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
  Location where;
  std::string yaml;  // the document as YAML (apiVersion, kind and namespace set)
  std::string Id() const { return namespace_name + "/" + name; }
};

// A policy document of another target, kept for its evaluator.
struct ForeignDocument {
  std::string kind;  // "CiliumNetworkPolicy", "NetworkPolicy" (Calico)...
  std::string api_version;
  std::string yaml;  // the document re-emitted as YAML
  Location where;
  std::string name;  // "ns/name", or "name" for cluster-wide kinds
  // The port names its rules use, with their protocols (see verify).
  std::vector<std::pair<std::string, Protocol>> port_names;
};

struct Manifests {
  std::vector<Namespace> namespaces;  // explicit ones, de-duplicated by name
  std::vector<Workload> workloads;    // one per Id(), first pod wins
  std::vector<NetworkPolicy> policies;
  std::vector<ForeignDocument> cilium;
  std::vector<ForeignDocument> calico;
  std::vector<std::string> warnings;  // "file: skipped 3 objects of kind Service"

  // Labels of a namespace, explicit or implied by a workload (name label only).
  Labels NamespaceLabels(const std::string& name) const;
};

// Reads every path (file or directory). Throws Error.
Manifests ReadManifests(const std::vector<std::string>& paths);
// Reads one text as if it were a file named `name`. Throws Error.
void ReadText(const std::string& text, const std::string& name, Manifests& out);
// Orders and de-duplicates after ReadText calls (ReadManifests does it).
void Finish(Manifests& out);

// Control characters and backslashes escaped (\xNN, \\), so that a hostile
// name or file name stays one line of a message or of an output.
std::string EscapeText(std::string_view text);

// A double-quoted string that is both a JSON string and a string literal of
// the rules language: `"` and `\` escaped, \n and \t, other control
// characters as \u00XX; other bytes (UTF-8) as they are.
std::string QuoteString(std::string_view text);

// "1.2.3.4" for an address.
std::string FormatIp(std::uint32_t ip);

}  // namespace netpolc::manifests
