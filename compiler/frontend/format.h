// The canonical layout of rules files (`netpolc fmt`).
//
// The formatter changes only the layout: the tokens of the file and its
// comments stay, in the same order (the one exception: a trailing comma in a
// label map written on one line is dropped, and one is added after the last
// entry of a label map written over several lines). The layout:
//
// - one declaration, component item or property per line, indented by two
//   spaces per block level; a statement is on one line, but for the line
//   breaks its author wrote after a comma in a list (ports, peers, excepts)
//   and those a comment needs: it continues on lines indented four more
//   spaces;
// - single spaces between tokens, none before `;` `,` `:` `)` `]`, after `(`
//   `[`, or around the `-` of a port range or the `.` of a qualified name;
// - property blocks (`{ doc "..."; }`) and label maps stay on one line when
//   they were written on one line without comments, else get one item per
//   line; component and instance bodies always get one item per line;
//   empty blocks are `{}`;
// - comments stay where they were: a comment that followed a token on its
//   line still does, a comment on a line of its own still is, at the
//   indentation of what follows; a `;` or `,` written after a comment moves
//   before it;
// - blank lines between items are kept, several collapsed into one; none at
//   the start or end of a block or of the file; the file ends with one line
//   break.
//
// Formatting is idempotent: formatting formatted text changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/frontend/parse.h"
#include "compiler/source.h"

namespace netpolc {

// Formats the rules file `file_id` of `sources`. Returns nullopt when the file
// does not parse (the errors are reported to `diagnostics`, with locations):
// a file is only formatted when its structure is known. Also returns nullopt,
// reporting a formatter-error, if the result would not have exactly the
// tokens and comments of the input (a bug in the formatter, never a change of
// meaning).
std::optional<std::string> FormatFile(const SourceManager& sources, uint32_t file_id,
                                      Diagnostics& diagnostics);

// The layout of LexFile's tokens of a file that parses (no checks).
std::string FormatTokens(const std::vector<LexedToken>& tokens);

}  // namespace netpolc
