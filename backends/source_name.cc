#include "backends/source_name.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace netpolc::backends {
namespace {

// The code point at text[i] and its length, or nullopt when the bytes there
// are not UTF-8 (overlong forms and surrogates included).
std::optional<uint32_t> Decode(std::string_view text, size_t i, size_t& length) {
  unsigned char lead = static_cast<unsigned char>(text[i]);
  length = 1;
  if (lead < 0x80) return lead;
  size_t n = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                                           : lead >= 0xF0 && lead <= 0xF4   ? 4
                                                                            : 0;
  if (n == 0 || i + n > text.size()) return std::nullopt;
  uint32_t cp = lead & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) {
    unsigned char c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return std::nullopt;
  }
  length = n;
  return cp;
}

bool IsFormatOrBreak(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

}  // namespace

std::string SourceNameForComment(std::string_view name) {
  // The name netpolc itself gives standard input (`build -`): not a file
  // name, and safe in every comment, so it is written as it is.
  if (name == "<stdin>") return std::string(name);
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    size_t length;
    std::optional<uint32_t> cp = Decode(name, i, length);
    if (!cp) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(name[i]));
      ++i;
      continue;
    }
    char ch = static_cast<char>(*cp);
    bool slash_of_comment = ch == '/' && ((i > 0 && name[i - 1] == '*') ||
                                          (i + 1 < name.size() && name[i + 1] == '*'));
    if (*cp < 0x80 && IsFormatOrBreak(*cp)) {
      out += fmt::format("\\x{:02x}", *cp);
    } else if (IsFormatOrBreak(*cp)) {
      out += fmt::format("\\u{:04x}", *cp);
    } else if (ch == '\\' && *cp == '\\') {
      out += "\\\\";
    } else if (*cp < 0x80 && (ch == '<' || ch == '>' || ch == '{' || ch == '}' || slash_of_comment)) {
      out += fmt::format("\\x{:02x}", *cp);
    } else {
      out.append(name.substr(i, length));
    }
    i += length;
  }
  return out;
}

}  // namespace netpolc::backends
