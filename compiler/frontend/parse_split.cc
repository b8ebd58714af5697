#include "compiler/frontend/parse_split.h"

#include <cstring>

namespace netpolc {
namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The keywords a top-level declaration starts with (grammar/Netpol.g4, decl).
bool StartsDeclaration(std::string_view text, size_t i) {
  static constexpr std::string_view kKeywords[] = {"component", "param", "flag",  "instance",
                                                   "dns",       "import", "kube_apiserver", "nodes"};
  for (std::string_view word : kKeywords) {
    if (text.compare(i, word.size(), word) == 0 &&
        (i + word.size() == text.size() || !IsIdentChar(text[i + word.size()]))) {
      return true;
    }
  }
  return false;
}

// Scans like the lexer: skips a string or comment starting at `i` and returns
// the offset after it, or returns `i` when none starts there.
size_t SkipStringOrComment(std::string_view text, size_t i) {
  const size_t n = text.size();
  char c = text[i];
  if (c == '"') {
    // STRING / UNTERMINATED_STRING: up to the closing quote, or up to a line
    // break or a backslash that escapes nothing.
    size_t j = i + 1;
    while (j < n) {
      char d = text[j];
      if (d == '"') return j + 1;
      if (d == '\r' || d == '\n') return j;
      if (d == '\\') {
        if (j + 1 >= n || text[j + 1] == '\r' || text[j + 1] == '\n') return j;
        j += 2;
        continue;
      }
      ++j;
    }
    return j;
  }
  if (c == '/' && i + 1 < n && text[i + 1] == '/') {
    size_t j = i + 2;
    while (j < n && text[j] != '\r' && text[j] != '\n') ++j;
    return j;
  }
  if (c == '/' && i + 1 < n && text[i + 1] == '*') {
    size_t close = text.find("*/", i + 2);
    return close == std::string_view::npos ? n : close + 2;
  }
  return i;
}

// Skips whitespace and comments from `i`.
size_t SkipTrivia(std::string_view text, size_t i) {
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (c == '/') {
      size_t j = SkipStringOrComment(text, i);
      if (j != i) {
        i = j;
        continue;
      }
    }
    break;
  }
  return i;
}

// The identifier starting at `i` (empty if none).
std::string_view WordAt(std::string_view text, size_t i) {
  size_t j = i;
  while (j < text.size() && IsIdentChar(text[j])) ++j;
  return text.substr(i, j - i);
}

// The characters the scan stops at: strings and comments may start there,
// brackets open or close, declarations end.
struct StopTable {
  bool stop[256] = {};
  constexpr StopTable() {
    for (char c : std::string_view("\"/{}()[];")) stop[static_cast<unsigned char>(c)] = true;
  }
};
constexpr StopTable kStops;

// Line and column (1-based, columns in code points) of an offset, advanced
// lazily from the start of the text.
class Position {
 public:
  explicit Position(std::string_view text)
      : text_(text), has_cr_(text.find('\r') != std::string_view::npos) {}

  void AdvanceTo(size_t offset) {
    if (has_cr_) {
      AdvanceByBytes(offset);
      return;
    }
    // Text without CRs: lines end at LF only, found with memchr; the column
    // is counted from the last line start.
    const char* base = text_.data();
    size_t line_start = at_;
    bool new_line = false;
    while (at_ < offset) {
      const void* lf = std::memchr(base + at_, '\n', offset - at_);
      if (lf == nullptr) break;
      ++line_;
      at_ = static_cast<size_t>(static_cast<const char*>(lf) - base) + 1;
      line_start = at_;
      new_line = true;
    }
    if (new_line) column_ = 1;
    for (size_t k = line_start; k < offset; ++k) {
      if ((static_cast<unsigned char>(base[k]) & 0xC0) != 0x80) ++column_;
    }
    at_ = offset;
  }

  uint32_t line() const { return line_; }
  uint32_t column() const { return column_; }

 private:
  void AdvanceByBytes(size_t offset) {
    for (; at_ < offset; ++at_) {
      unsigned char c = static_cast<unsigned char>(text_[at_]);
      // Lines end at LF, CRLF or a lone CR, as for the lexer.
      if (c == '\n' || (c == '\r' && (at_ + 1 == text_.size() || text_[at_ + 1] != '\n'))) {
        ++line_;
        column_ = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++column_;
      }
    }
  }

  std::string_view text_;
  bool has_cr_;
  size_t at_ = 0;
  uint32_t line_ = 1, column_ = 1;
};

}  // namespace

std::vector<SourcePiece> SplitDeclarations(std::string_view text, size_t min_bytes) {
  std::vector<SourcePiece> pieces;
  SourcePiece piece;
  Position position(text);
  const size_t n = text.size();
  size_t depth = 0;
  size_t i = 0;
  while (i < n) {
    // Past the characters that change nothing here.
    while (i < n && !kStops.stop[static_cast<unsigned char>(text[i])]) ++i;
    if (i == n) break;
    char c = text[i];
    if (c == '"' || c == '/') {
      size_t j = SkipStringOrComment(text, i);
      if (j != i) {
        i = j;
        continue;
      }
    }
    ++i;
    if (c == '{' || c == '(' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ')' || c == ']') {
      if (depth > 0) --depth;
    }
    if (depth != 0 || (c != ';' && c != '}')) continue;
    if (i - piece.begin < min_bytes) continue;
    size_t next = SkipTrivia(text, i);
    if (next < n && !StartsDeclaration(text, next)) continue;
    if (next == n) break;  // the rest is trivia: it stays in this piece
    piece.end = static_cast<uint32_t>(i);
    pieces.push_back(piece);
    position.AdvanceTo(i);
    piece = SourcePiece{static_cast<uint32_t>(i), 0, position.line(), position.column()};
  }
  piece.end = static_cast<uint32_t>(n);
  pieces.push_back(piece);
  return pieces;
}

std::vector<DeclarationPiece> ScanDeclarations(std::string_view text) {
  std::vector<SourcePiece> pieces = SplitDeclarations(text, 1);
  std::vector<DeclarationPiece> out;
  out.reserve(pieces.size());
  for (const SourcePiece& piece : pieces) {
    std::string_view own = text.substr(piece.begin, piece.end - piece.begin);
    DeclarationPiece d{piece, {}, {}};
    size_t i = SkipTrivia(own, 0);
    d.keyword = WordAt(own, i);
    if (d.keyword == "component") d.name = WordAt(own, SkipTrivia(own, i + d.keyword.size()));
    out.push_back(d);
  }
  return out;
}

}  // namespace netpolc
