// Small value types shared by the module and the policy IR.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <algorithm>

namespace netpolc::ir {

enum class Direction : uint8_t { kIngress, kEgress };
enum class Protocol : uint8_t { kTcp, kUdp, kSctp };

std::string_view ProtocolName(Protocol protocol);  // "TCP", "UDP", "SCTP"

// An inclusive port range of one protocol.
struct PortRange {
  Protocol protocol = Protocol::kTcp;
  uint16_t first = 0;
  uint16_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};

// The ranges sorted (by protocol, then port), overlapping ranges of one
// protocol merged. Adjacent ports stay separate entries: a range needs
// endPort, which some network plugins ignore. This is the canonical form of
// the ports of a rule in the policies.
std::vector<PortRange> NormalisePorts(std::vector<PortRange> ports);

struct Label {
  std::string key;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// A label selector requirement (Kubernetes' matchExpressions): In and NotIn
// take a non-empty set of values; Exists and DoesNotExist take none. NotIn
// and DoesNotExist also match objects without the key.
struct Requirement {
  enum class Op : uint8_t { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // sorted, unique
  friend bool operator==(const Requirement&, const Requirement&) = default;
  friend auto operator<=>(const Requirement&, const Requirement&) = default;
};

// "In", "NotIn", "Exists", "DoesNotExist".
std::string_view RequirementOpName(Requirement::Op op);
// Whether labels (key -> value, looked up with `find`) satisfy every requirement.
template <typename LabelMap>
bool SatisfiesAll(const LabelMap& labels, const std::vector<Requirement>& requirements) {
  for (const Requirement& r : requirements) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kIn:
        if (!in) return false;
        break;
      case Requirement::Op::kNotIn:
        if (in) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

// A port given by the name of a container port of the destination pod
// (Kubernetes' named ports): `https`.
struct NamedPort {
  Protocol protocol = Protocol::kTcp;
  std::string name;
  friend bool operator==(const NamedPort&, const NamedPort&) = default;
  friend auto operator<=>(const NamedPort&, const NamedPort&) = default;
};

}  // namespace netpolc::ir
