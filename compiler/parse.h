// Parsing: source text -> AST (ast.h). The only part of the compiler that sees
// ANTLR; syntax errors become diagnostics with positions.
#pragma once

#include <optional>
#include <vector>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/source.h"

namespace netpolc {

// Limits that keep every input path bounded (fuzzing, hostile input).
inline constexpr size_t kMaxSourceBytes = 64 * 1024 * 1024;
inline constexpr int kMaxNesting = 64;

// Parses the file `file_id` of `sources`. Returns nullopt when there were
// lexical or syntax errors (reported to `diagnostics`).
std::optional<ast::File> ParseFile(const SourceManager& sources,
                                   uint32_t file_id, Diagnostics& diagnostics);

// Parses a comma-separated peer list (the value of a peers parameter given
// on the command line), held as file `file_id`.
std::optional<std::vector<ast::Peer>> ParsePeerList(
    const SourceManager& sources, uint32_t file_id, Diagnostics& diagnostics);

}  // namespace netpolc
