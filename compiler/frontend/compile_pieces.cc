#include "compiler/frontend/compile_pieces.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/frontend/lower.h"
#include "compiler/parallel.h"
#include "compiler/frontend/parse.h"
#include "compiler/frontend/parse_pieces.h"
#include "compiler/frontend/parse_split.h"

namespace netpolc {
namespace {

// Consecutive component declarations, parsed as one piece.
struct ComponentGroup {
  SourcePiece piece;
  size_t first = 0;  // the index of its first component in the file
  size_t count = 0;
};

}  // namespace

std::optional<ir::Module> CompileInPieces(const SourceManager& sources, uint32_t file_id) {
  const size_t piece_bytes = PieceBytes();
  if (piece_bytes == 0 || !ParsableInPieces(sources, file_id)) return std::nullopt;
  const std::string& text = sources.file(file_id).text;

  // The declarations as the text shows them: components (by name) in groups
  // of about piece_bytes, every other declaration in the header pieces.
  std::vector<SourcePiece> header;
  std::vector<ComponentGroup> groups;
  std::vector<std::string> names;
  {
    std::unordered_set<std::string_view> seen;
    bool open = false;  // the last group may take the next component
    for (const DeclarationPiece& d : ScanDeclarations(text)) {
      if (d.keyword == "component" && !d.name.empty()) {
        // Two components of one name: the whole file reports it.
        if (!seen.insert(d.name).second) return std::nullopt;
        if (!open || groups.back().piece.end - groups.back().piece.begin >= piece_bytes) {
          groups.push_back({d.piece, names.size(), 0});
        } else {
          groups.back().piece.end = d.piece.end;
        }
        ++groups.back().count;
        names.emplace_back(d.name);
        open = true;
      } else {
        if (!header.empty() && header.back().end == d.piece.begin) {
          header.back().end = d.piece.end;
        } else {
          header.push_back(d.piece);
        }
        open = false;
      }
    }
  }

  // Lowering reports nothing on a file that compiles; anything it reports
  // sends the file to the whole-file path.
  Diagnostics diagnostics;
  std::atomic<size_t> token_count{0};
  PieceLowerer lowerer(diagnostics);
  {
    ast::File head;
    head.file_id = file_id;
    for (const SourcePiece& piece : header) {
      std::optional<ast::File> parsed = ParseFilePiece(sources, file_id, piece, token_count);
      if (!parsed || !parsed->components.empty()) return std::nullopt;
      AppendDeclarations(head, std::move(*parsed));
    }
    if (!head.imports.empty()) return std::nullopt;  // the importer works on whole files
    if (!lowerer.LowerHeader(head, names) || !diagnostics.all().empty()) return std::nullopt;
  }

  // The components, a batch of pieces at a time: each piece parsed, its
  // components lowered and its AST freed on the thread pool; the components
  // are then placed in the module by index.
  const size_t batch = 2 * ThreadCount();
  std::vector<std::vector<ir::Component>> lowered;
  size_t count = 0;
  for (size_t first = 0; first < groups.size(); first += count) {
    // The first piece alone, as in ParseByPieces: ANTLR's shared DFA caches
    // are then filled mostly by one thread.
    count = first == 0 ? 1 : std::min(batch, groups.size() - first);
    lowered.assign(count, {});
    std::atomic<bool> failed{false};
    ParallelFor(count, [&](size_t i) {
      if (failed.load(std::memory_order_relaxed)) return;
      const ComponentGroup& group = groups[first + i];
      std::optional<ast::File> piece =
          ParseFilePiece(sources, file_id, group.piece, token_count);
      bool ok = piece && piece->components.size() == group.count && piece->params.empty() &&
                piece->flags.empty() && piece->instances.empty() && piece->dns.empty() &&
                piece->imports.empty() && piece->entity_peers.empty();
      if (ok) {
        lowered[i].resize(group.count);
        for (size_t k = 0; k < group.count && ok; ++k) {
          ok = lowerer.LowerComponentAside(group.first + k, piece->components[k], lowered[i][k]);
        }
      }
      if (!ok) failed.store(true, std::memory_order_relaxed);
    });
    if (failed.load()) return std::nullopt;
    for (size_t i = 0; i < count; ++i) {
      const ComponentGroup& group = groups[first + i];
      for (size_t k = 0; k < group.count; ++k) {
        lowerer.SetComponent(group.first + k, std::move(lowered[i][k]));
      }
    }
  }
  // Over the limit on tokens (counted with the EOF), the whole file reports it.
  if (token_count.load() + 1 > kMaxTokens) return std::nullopt;
  return lowerer.TakeModule();
}

}  // namespace netpolc
