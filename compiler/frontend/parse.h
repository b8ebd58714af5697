// Parsing: source text -> AST (ast.h). The only part of the compiler that sees
// ANTLR; syntax errors become diagnostics with positions.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/frontend/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/frontend/parse_split.h"
#include "compiler/source.h"

namespace netpolc {

// Limits that keep every input path bounded (fuzzing, hostile input).
inline constexpr size_t kMaxSourceBytes = 64 * 1024 * 1024;
inline constexpr int kMaxNesting = 64;
// Items of one comma-separated list (peers, ports, labels, except blocks).
inline constexpr size_t kMaxListItems = 10000;
// Tokens of one file, whitespace and comments included (a rules file has
// about one token per 3 bytes). Bounds the memory the front end holds per
// file: up to some 700 bytes per token in token objects, parse tree and AST
// today, so about 6 GB at worst; to be raised as the front end holds less.
inline constexpr size_t kMaxTokens = size_t{1} << 23;

// Parses the file `file_id` of `sources`. Returns nullopt when there were
// lexical or syntax errors (reported to `diagnostics`).
std::optional<ast::File> ParseFile(const SourceManager& sources,
                                   uint32_t file_id, Diagnostics& diagnostics);

// For callers that parse a file piece by piece themselves (the front end
// lowers each piece's declarations as soon as they are parsed): whether the
// file may be parsed in pieces at all (size and UTF-8 checked), and the AST
// of one piece of it (parse_split.h), or nullopt on any problem at all, with
// nothing reported (the caller then uses ParseFile, which reports it). Adds
// the piece's tokens to `token_count`; a file whose pieces add up to more
// than kMaxTokens must be parsed with ParseFile too.
// `max_bytes` is the largest file allowed (larger files are compiled only in
// pieces: compile_pieces.h).
bool ParsableInPieces(const SourceManager& sources, uint32_t file_id,
                      size_t max_bytes = kMaxSourceBytes);
std::optional<ast::File> ParseFilePiece(const SourceManager& sources, uint32_t file_id,
                                        const SourcePiece& piece,
                                        std::atomic<size_t>& token_count);

// Whether `text` is valid UTF-8, as the parser requires.
bool IsValidUtf8(std::string_view text);

// As ParseFilePiece, for a piece whose own text is `text` (the file's text
// need not be held): `piece` gives where it starts.
std::optional<ast::File> ParseTextPiece(std::string_view text, uint32_t file_id,
                                        const SourcePiece& piece,
                                        std::atomic<size_t>& token_count);

// Reports that the file `file_id` is larger than `max_bytes` or is not
// valid UTF-8, as ParseFile does; false when it is neither.
bool ReportInvalidText(const SourceManager& sources, uint32_t file_id, size_t max_bytes,
                       Diagnostics& diagnostics);

// One piece of a file that is valid UTF-8, parsed as ParseFile parses a
// file, problems reported (the limit on tokens holds for the piece): for a
// file too large to be parsed whole (compile_pieces.h).
std::optional<ast::File> ParseFilePieceReporting(const SourceManager& sources, uint32_t file_id,
                                                 const SourcePiece& piece,
                                                 Diagnostics& diagnostics);

// Parses a comma-separated peer list (the value of a peers parameter given
// on the command line), held as file `file_id`.
std::optional<std::vector<ast::Peer>> ParsePeerList(
    const SourceManager& sources, uint32_t file_id, Diagnostics& diagnostics);

// A token of the rules language, for tools that work on the text rather than
// on the AST (the formatter). Free of ANTLR types.
struct LexedToken {
  enum class Kind : uint8_t {
    kKeyword,       // a reserved word: component, ingress, when, true, ...
    kPunctuation,   // { } ( ) [ ] ; , : = -
    kIdent,         // a name
    kParam,         // $name
    kInt,           // digits
    kString,        // "..." (with its quotes, escapes undecoded)
    kLineComment,   // // ... (without the line break)
    kBlockComment,  // /* ... */
    kWhitespace,    // spaces, tabs and line breaks
    kEof,           // the end of the file (empty text)
  };
  enum class Channel : uint8_t {
    kDefault,  // seen by the parser
    kHidden,   // comments and whitespace
  };
  Kind kind;
  Channel channel;
  std::string text;  // exactly as in the source
  uint32_t line;     // 1-based
  uint32_t column;   // 1-based, in code points
};

// Splits the file `file_id` of `sources` into every token, comments and
// whitespace included, ending with kEof; concatenating the texts gives the
// file back. Returns nullopt when there were lexical errors (reported to
// `diagnostics` as ParseFile reports them). Does not parse: a file that lexes
// may still have syntax errors.
std::optional<std::vector<LexedToken>> LexFile(const SourceManager& sources, uint32_t file_id,
                                               Diagnostics& diagnostics);

// The tokens of one piece, whitespace and comments included (as LexFile
// gives them), the EOF only when `last`; nullopt on any problem.
std::optional<std::vector<LexedToken>> LexFilePiece(const SourceManager& sources, uint32_t file_id,
                                                    const SourcePiece& piece, bool last);

}  // namespace netpolc
