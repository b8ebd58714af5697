// Compiling a rules file piece by piece: each piece of declarations is
// parsed on the thread pool and its components lowered into the module as
// soon as the piece's AST is built, which is then freed. Memory is bounded by
// the pieces in flight and the module, not by the AST of the whole file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "compiler/diagnostics.h"
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

// Rules files larger than this are compiled only as a StreamedModule (up to
// kMaxStreamedSourceBytes); smaller ones too when NETPOLC_STREAM_BYTES (a
// number of bytes, for tests) is smaller than the file.
inline constexpr size_t kStreamBytes = size_t{16} << 20;
// The largest rules file a StreamedModule compiles (a build for a policy
// target); other commands hold the whole module and stop at kMaxSourceBytes.
inline constexpr size_t kMaxStreamedSourceBytes = size_t{256} << 20;

// The most components a StreamedModule holds (each keeps about 1-1.5 KB
// without its rules): a file of more is compiled whole when it is at most
// kMaxSourceBytes (whose token limit then bounds it), else refused.
inline constexpr size_t kMaxStreamedComponents = size_t{1} << 20;

// kStreamBytes, or NETPOLC_STREAM_BYTES when set to a number.
size_t StreamBytes();

// A module whose components hold everything but their rules and notes
// (ir::Component::dropped_rules): what the policies of other components read
// of them. A build of a large file makes its policies a batch at a time; Load
// lowers the batch's components again from their text, whole, and Drop lets
// their rules go once the batch is written. The module then never holds more
// than a batch's rules, and memory is bounded by the text of the file, a few
// hundred bytes per component and the batch, not by the rules.
class StreamedModule {
 public:
  ~StreamedModule();
  StreamedModule(const StreamedModule&) = delete;
  StreamedModule& operator=(const StreamedModule&) = delete;

  // The module (components without their rules except those loaded).
  ir::Module& module();
  // Lowers the components `indices` again, with their rules and notes, on
  // the thread pool. False (nothing changed) if one no longer lowers as it
  // did: held text cannot change, but a file read again can.
  bool Load(std::span<const uint32_t> indices);
  // Drops the rules and notes of the components `indices` again.
  void Drop(std::span<const uint32_t> indices);

  struct State;

 private:
  friend std::unique_ptr<StreamedModule> CompileStreamed(const SourceManager& sources,
                                                         uint32_t file_id);
  friend std::unique_ptr<StreamedModule> CompileStreamedFile(SourceManager& sources,
                                                             uint32_t file_id,
                                                             const std::string& path);
  explicit StreamedModule(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The file `file_id` of `sources` compiled into a StreamedModule, under the
// same conditions as CompileInPieces (nullptr, with nothing reported, when
// the file has any problem: see ReportInPieces), up to
// kMaxStreamedSourceBytes. The token limit (kMaxTokens) holds for each piece,
// whose tokens alone are ever held.
std::unique_ptr<StreamedModule> CompileStreamed(const SourceManager& sources, uint32_t file_id);

// As CompileStreamed, for the file `file_id` of `sources`, added unread
// (SourceManager::AddUnread), that is the regular file at `path`: its text is
// never held whole. It is read a window of a few MiB at a time (more only for
// a longer declaration), then again for each piece that is lowered
// (StreamedModule::Load, which fails if a piece is no longer the text first
// read). On success the file is given a reader that reads it whole again if
// a diagnostic quotes it (nullopt, so that no line is shown, if it changed).
// nullptr when CompileStreamed would return it or the file cannot be read:
// the caller then reads it whole (SourceManager::SetText) to compile it or
// report its problems.
std::unique_ptr<StreamedModule> CompileStreamedFile(SourceManager& sources, uint32_t file_id,
                                                    const std::string& path);

// Reports the problems of a file that CompileStreamed did not compile,
// without ever holding the whole file's tokens or AST: declaration by
// declaration, in file order, each piece's lexical and syntax errors, then,
// if there are none, each declaration's lowering errors (duplicates where
// Lower reports them). On every golden input the report is the whole file's
// (tests/unit/report_in_pieces_test.cc). The limit on tokens is per piece.
// False, with nothing reported, when the file imports others or no problem
// is found and it is at most kMaxSourceBytes (the caller then compiles it
// whole); a larger file always gets a report.
bool ReportInPieces(const SourceManager& sources, uint32_t file_id, Diagnostics& diagnostics);

// Drops the rules and notes of `component`, keeping whether it has rules of
// each direction.
void DropRules(ir::Component& component);

}  // namespace netpolc
