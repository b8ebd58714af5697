#include "compiler/semantics/k8s_names.h"

#include <arpa/inet.h>

#include <cstring>

namespace netpolc {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters.
std::string CheckQualifiedNamePart(std::string_view s) {
  if (s.empty()) return "the name part must not be empty";
  if (s.size() > 63) return "the name part must be at most 63 characters";
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return "the name part must begin and end with a letter or digit";
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "the name part may contain only letters, digits, '-', '_' and '.'";
    }
  }
  return {};
}

}  // namespace

std::string CheckDns1123Label(std::string_view s) {
  if (s.empty()) return "it must not be empty";
  if (s.size() > 63) return "it must be at most 63 characters";
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) {
    return "it must begin and end with a lower-case letter or digit";
  }
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') {
      return "it may contain only lower-case letters, digits and '-'";
    }
  }
  return {};
}

// A container port's name (validation.IsValidPortName): 1 to 15 characters,
// lower-case letters, digits and '-', at least one letter, no '-' at either
// end and no two '-' in a row.
std::string CheckPortName(std::string_view s) {
  if (s.empty()) return "it must not be empty";
  if (s.size() > 15) return "it must be at most 15 characters";
  bool letter = false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return "it may contain only lower-case letters, digits and '-'";
    if (c >= 'a' && c <= 'z') letter = true;
  }
  if (!letter) return "it must contain at least one letter";
  if (s.front() == '-' || s.back() == '-') return "it must not begin or end with '-'";
  if (s.find("--") != std::string_view::npos) return "it must not contain '--'";
  return {};
}

std::string CheckDns1123Subdomain(std::string_view s) {
  if (s.empty()) return "it must not be empty";
  if (s.size() > 253) return "it must be at most 253 characters";
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty()) return "it must not contain empty parts between dots";
    if (!IsLowerAlnum(part.front()) || !IsLowerAlnum(part.back())) {
      return "each part must begin and end with a lower-case letter or digit";
    }
    for (char c : part) {
      if (!IsLowerAlnum(c) && c != '-') {
        return "it may contain only lower-case letters, digits, '-' and '.'";
      }
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

std::string CheckLabelKey(std::string_view s) {
  if (s.empty()) return "a label key must not be empty";
  size_t slash = s.find('/');
  std::string_view name = s;
  if (slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) return "the prefix before '/' must not be empty";
    std::string prefix_error = CheckDns1123Subdomain(prefix);
    if (!prefix_error.empty()) return "the prefix is not a DNS subdomain: " + prefix_error;
  }
  return CheckQualifiedNamePart(name);
}

std::string CheckLabelValue(std::string_view s) {
  if (s.empty()) return {};
  if (s.size() > 63) return "a label value must be at most 63 characters";
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return "a label value must begin and end with a letter or digit";
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "a label value may contain only letters, digits, '-', '_' and '.'";
    }
  }
  return {};
}

std::optional<Cidr> ParseCidr(std::string_view s, std::string& error) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    error = "expected an address and a prefix length, like 10.0.0.0/8";
    return std::nullopt;
  }
  std::string address(s.substr(0, slash));
  std::string_view length = s.substr(slash + 1);
  Cidr cidr;
  cidr.v6 = address.find(':') != std::string::npos;
  int family = cidr.v6 ? AF_INET6 : AF_INET;
  if (inet_pton(family, address.c_str(), cidr.address.data()) != 1) {
    error = "'" + address + "' is not an IP address";
    return std::nullopt;
  }
  int max = cidr.v6 ? 128 : 32;
  if (length.empty() || length.size() > 3) {
    error = "the prefix length must be a number from 0 to " + std::to_string(max);
    return std::nullopt;
  }
  int prefix = 0;
  for (char c : length) {
    if (c < '0' || c > '9') {
      error = "the prefix length must be a number from 0 to " + std::to_string(max);
      return std::nullopt;
    }
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max) {
    error = "the prefix length must be a number from 0 to " + std::to_string(max);
    return std::nullopt;
  }
  cidr.prefix = prefix;
  int bytes = cidr.v6 ? 16 : 4;
  bool host_bits = false;
  for (int i = 0; i < bytes; ++i) {
    int keep = std::min(8, std::max(0, prefix - i * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xFF << (8 - keep));
    if (cidr.address[i] & ~mask) host_bits = true;
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, cidr.address.data(), buffer, sizeof buffer);
  cidr.text = std::string(buffer) + "/" + std::to_string(prefix);
  if (host_bits) {
    error = "the address has bits set beyond the prefix length";
    return std::nullopt;
  }
  return cidr;
}

bool StrictlyInside(const Cidr& inner, const Cidr& outer) {
  if (inner.v6 != outer.v6 || inner.prefix <= outer.prefix) return false;
  int bytes = inner.v6 ? 16 : 4;
  for (int i = 0; i < bytes; ++i) {
    int keep = std::min(8, std::max(0, outer.prefix - i * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xFF << (8 - keep));
    if ((inner.address[i] & mask) != (outer.address[i] & mask)) return false;
  }
  return true;
}

}  // namespace netpolc
