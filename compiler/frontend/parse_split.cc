#include "compiler/frontend/parse_split.h"

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

}  // namespace

std::vector<SourcePiece> SplitDeclarations(std::string_view text, size_t min_bytes) {
  std::vector<SourcePiece> pieces;
  SourcePiece piece;
  // Line and column of offset `at`, advanced lazily up to each cut.
  size_t at = 0;
  uint32_t line = 1, column = 1;
  auto advance_to = [&](size_t offset) {
    for (; at < offset; ++at) {
      unsigned char c = static_cast<unsigned char>(text[at]);
      // Lines end at LF, CRLF or a lone CR, as for the lexer.
      if (c == '\n' || (c == '\r' && (at + 1 == text.size() || text[at + 1] != '\n'))) {
        ++line;
        column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++column;
      }
    }
  };
  const size_t n = text.size();
  size_t depth = 0;
  size_t i = 0;
  while (i < n) {
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
    advance_to(i);
    piece = SourcePiece{static_cast<uint32_t>(i), 0, line, column};
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
