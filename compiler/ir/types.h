// Small value types shared by the module and the policy IR.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

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

struct Label {
  std::string key;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

}  // namespace netpolc::ir
