// Cutting a rules file into pieces of whole top-level declarations, so that
// each piece can be lexed and parsed on its own (and in parallel). No ANTLR
// here: a cheap scan that follows the lexer's strings and comments
// (grammar/Netpol.g4) and counts brackets outside them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace netpolc {

// A piece of a file: bytes [begin, end), whose first character is at `line`
// and `column` (1-based, columns in code points) of the file.
struct SourcePiece {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t line = 1;
  uint32_t column = 1;
};

// Cuts `text` (valid UTF-8) into consecutive pieces covering all of it, each
// at least `min_bytes` long except the last. A cut is made only right after a
// `;` or `}` outside strings, comments and brackets that is followed (after
// whitespace and comments) by a keyword that starts a declaration, or by the
// end of the file: in a file that parses, such a cut lies between two
// declarations, so each piece parses as a file and the pieces' declarations,
// in order, are the file's. In a file with errors the cuts may lie anywhere;
// callers then parse the whole file to report them.
std::vector<SourcePiece> SplitDeclarations(std::string_view text, size_t min_bytes);

// One top-level declaration of a file as SplitDeclarations cuts it (pieces of
// one declaration each), with the word it starts with (after whitespace and
// comments; empty if none) and, for `component`, the word after that (its
// name; empty if none). A guess from the text alone: callers check it
// against what the piece parses to.
struct DeclarationPiece {
  SourcePiece piece;
  std::string_view keyword;
  std::string_view name;
};
std::vector<DeclarationPiece> ScanDeclarations(std::string_view text);

}  // namespace netpolc
