#include "compiler/frontend/parse_pieces.h"

#include <atomic>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "compiler/parallel.h"

namespace netpolc {
namespace {

template <typename T>
void AppendAll(std::vector<T>& into, std::vector<T>&& from) {
  if (into.empty()) {
    into = std::move(from);
  } else {
    into.insert(into.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
  }
}

}  // namespace

void AppendDeclarations(ast::File& into, ast::File&& from) {
  // Every list of declarations of ast::File is appended here: a new one must
  // be added too (this assertion fails when the struct changes).
  static_assert(sizeof(ast::File) == sizeof(uint64_t) + 8 * sizeof(std::vector<int>),
                "ast::File changed: append its new declarations in AppendDeclarations");
  AppendAll(into.params, std::move(from.params));
  AppendAll(into.flags, std::move(from.flags));
  AppendAll(into.instances, std::move(from.instances));
  AppendAll(into.dns, std::move(from.dns));
  AppendAll(into.components, std::move(from.components));
  AppendAll(into.imports, std::move(from.imports));
  AppendAll(into.import_aliases, std::move(from.import_aliases));
  AppendAll(into.entity_peers, std::move(from.entity_peers));
}

size_t PieceBytes() {
  const char* env = std::getenv("NETPOLC_PIECE_BYTES");
  if (env == nullptr || *env == '\0') return kPieceBytes;
  size_t n = 0;
  for (const char* c = env; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || n > (size_t{1} << 40)) return kPieceBytes;
    n = n * 10 + static_cast<size_t>(*c - '0');
  }
  return n;
}

std::optional<ast::File> ParseByPieces(std::string_view text, uint32_t file_id,
                                       const PieceParser& parse_piece) {
  size_t piece_bytes = PieceBytes();
  if (piece_bytes == 0) return std::nullopt;  // parse the whole file at once
  std::vector<SourcePiece> pieces = SplitDeclarations(text, piece_bytes);
  std::vector<std::optional<ast::File>> results(pieces.size());
  // The first piece alone: ANTLR fills its shared DFA caches mostly while
  // meeting the grammar's constructs for the first time, which is then done
  // by one thread.
  results[0] = parse_piece(pieces[0]);
  if (!results[0]) return std::nullopt;
  std::atomic<bool> failed{false};
  ParallelFor(pieces.size() - 1, [&](size_t k) {
    if (failed.load(std::memory_order_relaxed)) return;  // the whole file is parsed again
    size_t i = k + 1;
    results[i] = parse_piece(pieces[i]);
    if (!results[i]) failed.store(true, std::memory_order_relaxed);
  });
  if (failed.load()) return std::nullopt;
  ast::File file;
  file.file_id = file_id;
  for (std::optional<ast::File>& result : results) AppendDeclarations(file, std::move(*result));
  return file;
}

}  // namespace netpolc
