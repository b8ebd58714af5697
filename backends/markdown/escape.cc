#include "backends/markdown/escape.h"

namespace netpolc::backends::markdown {

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_break = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!in_break) out.push_back(' ');
      in_break = true;
      continue;
    }
    in_break = false;
    out.push_back(c);
  }
  return out;
}

std::string LinkText(std::string_view text) {
  std::string out;
  for (char c : OneLine(text)) {
    if (c == '[' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string LinkDestination(std::string_view address) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(address.size());
  for (char c : address) {
    auto byte = static_cast<unsigned char>(c);
    bool encode = byte <= 0x20 || byte == 0x7F || c == '(' || c == ')' || c == '<' || c == '>' ||
                  c == '|' || c == '\\' || c == '`';
    if (!encode) {
      out.push_back(c);
      continue;
    }
    out.push_back('%');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

}  // namespace netpolc::backends::markdown
