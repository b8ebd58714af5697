// Compiling a rules file piece by piece: each piece of declarations is
// parsed on the thread pool and its components lowered into the module as
// soon as the piece's AST is built, which is then freed. Memory is bounded by
// the pieces in flight and the module, not by the AST of the whole file.
#pragma once

#include <cstdint>
#include <optional>

#include "compiler/ir/module.h"
#include "compiler/source.h"

namespace netpolc {

// The module of the file `file_id` of `sources`, or nullopt when the file
// cannot be compiled this way, with nothing reported: when it has any problem
// (lexical, syntax or lowering errors), imports other files, or pieces are
// turned off (NETPOLC_PIECE_BYTES=0). The caller then parses and lowers the
// whole file, which reports exactly what it always did. When it returns a
// module, it is the one the whole file lowers to.
std::optional<ir::Module> CompileInPieces(const SourceManager& sources, uint32_t file_id);

}  // namespace netpolc
