// Parsing a rules file piece by piece (parse_split.h), in parallel: each
// piece's tokens and parse tree live only while its AST is built, so memory
// is bounded by the pieces in flight, not by the file. No ANTLR here; the
// parser of one piece is passed in (parse.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "compiler/frontend/ast.h"
#include "compiler/frontend/parse_split.h"

namespace netpolc {

// Pieces are cut at least this long: big enough that setting up a lexer and a
// parser is negligible, small enough to spread over threads and keep memory low.
inline constexpr size_t kPieceBytes = 64 * 1024;

// kPieceBytes, or NETPOLC_PIECE_BYTES when set to a number (for tests: 1 cuts
// between every two declarations, 0 parses every file as a whole).
size_t PieceBytes();

// Parses one piece of the file: its AST (file_id set), or nullopt when the
// piece has any problem at all (lexical, syntax, or any diagnostic).
using PieceParser = std::function<std::optional<ast::File>(const SourcePiece&)>;

// Splits `text` into pieces and parses them with `parse_piece` on the thread
// pool (parallel.h); returns the file's AST, the pieces' declarations in file
// order, or nullopt when a piece failed or PieceBytes() is 0 (the caller then
// parses the whole file, which reports problems exactly as before).
std::optional<ast::File> ParseByPieces(std::string_view text, uint32_t file_id,
                                       const PieceParser& parse_piece);

// Appends the declarations of `from` after those of `into`.
void AppendDeclarations(ast::File& into, ast::File&& from);

}  // namespace netpolc
