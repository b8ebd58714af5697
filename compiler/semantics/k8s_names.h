// Kubernetes naming rules (label keys and values, DNS-1123 names) and CIDR
// parsing, as the API server validates them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netpolc {

// Each returns an empty string when `s` is valid, else the reason.
std::string CheckLabelKey(std::string_view s);
std::string CheckLabelValue(std::string_view s);
std::string CheckDns1123Label(std::string_view s);      // namespaces
std::string CheckDns1123Subdomain(std::string_view s);  // object names
std::string CheckPortName(std::string_view s);          // IANA_SVC_NAME: container port names

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> address{};  // network address (v4 in the first 4 bytes)
  int prefix = 0;
  std::string text;  // canonical text
};

// Parses "a.b.c.d/n" or an IPv6 CIDR; on failure sets `error`.
std::optional<Cidr> ParseCidr(std::string_view s, std::string& error);
// True when `inner` is strictly inside `outer` (same family).
bool StrictlyInside(const Cidr& inner, const Cidr& outer);

}  // namespace netpolc
