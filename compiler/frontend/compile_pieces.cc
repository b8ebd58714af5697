#include "compiler/frontend/compile_pieces.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
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

struct StreamedModule::State {
  State(const SourceManager& s, uint32_t id) : sources(s), file_id(id) {}
  const SourceManager& sources;
  uint32_t file_id;
  // Lowering reports nothing on a file that compiles; anything it reports
  // sends the file to the whole-file path.
  Diagnostics diagnostics;
  std::vector<std::string> names;  // the components', in file order
  std::vector<SourcePiece> pieces;  // each component's declaration, when streamed
  PieceLowerer lowerer{diagnostics};
};

namespace {

// Compiles the file of `state` in pieces into its lowerer's module; when
// `stream`, every component's rules are dropped once lowered and its piece
// kept. False on any problem (nothing reported).
bool CompileInto(StreamedModule::State& state, bool stream) {
  const SourceManager& sources = state.sources;
  const uint32_t file_id = state.file_id;
  const size_t piece_bytes = PieceBytes();
  if (piece_bytes == 0 ||
      !ParsableInPieces(sources, file_id, stream ? kMaxStreamedSourceBytes : kMaxSourceBytes)) {
    return false;
  }
  const std::string& text = sources.file(file_id).text;

  // The declarations as the text shows them: components (by name) in groups
  // of about piece_bytes, every other declaration in the header pieces.
  std::vector<SourcePiece> header;
  std::vector<ComponentGroup> groups;
  std::vector<std::string>& names = state.names;
  {
    std::unordered_set<std::string_view> seen;
    bool open = false;  // the last group may take the next component
    for (const DeclarationPiece& d : ScanDeclarations(text)) {
      if (d.keyword == "component" && !d.name.empty()) {
        // Two components of one name: the whole file reports it.
        if (!seen.insert(d.name).second) return false;
        if (!open || groups.back().piece.end - groups.back().piece.begin >= piece_bytes) {
          groups.push_back({d.piece, names.size(), 0});
        } else {
          groups.back().piece.end = d.piece.end;
        }
        ++groups.back().count;
        names.emplace_back(d.name);
        if (stream) state.pieces.push_back(d.piece);
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

  std::atomic<size_t> token_count{0};
  const bool per_file_limit = text.size() <= kMaxSourceBytes;
  PieceLowerer& lowerer = state.lowerer;
  {
    ast::File head;
    head.file_id = file_id;
    for (const SourcePiece& piece : header) {
      std::optional<ast::File> parsed = ParseFilePiece(sources, file_id, piece, token_count);
      if (!parsed || !parsed->components.empty()) return false;
      AppendDeclarations(head, std::move(*parsed));
    }
    if (!head.imports.empty()) return false;  // the importer works on whole files
    if (!lowerer.LowerHeader(head, names) || !state.diagnostics.all().empty()) return false;
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
      // A file larger than kMaxSourceBytes has the limit on tokens per piece.
      std::atomic<size_t> piece_tokens{0};
      std::optional<ast::File> piece = ParseFilePiece(
          sources, file_id, group.piece, per_file_limit ? token_count : piece_tokens);
      bool ok = piece && piece->components.size() == group.count && piece->params.empty() &&
                piece->flags.empty() && piece->instances.empty() && piece->dns.empty() &&
                piece->imports.empty() && piece->entity_peers.empty();
      if (ok) {
        lowered[i].resize(group.count);
        for (size_t k = 0; k < group.count && ok; ++k) {
          ok = lowerer.LowerComponentAside(group.first + k, piece->components[k], lowered[i][k]);
          if (ok && stream) DropRules(lowered[i][k]);
        }
      }
      if (!ok) failed.store(true, std::memory_order_relaxed);
    });
    if (failed.load()) return false;
    for (size_t i = 0; i < count; ++i) {
      const ComponentGroup& group = groups[first + i];
      for (size_t k = 0; k < group.count; ++k) {
        lowerer.SetComponent(group.first + k, std::move(lowered[i][k]));
      }
    }
  }
  // Over the limit on tokens (counted with the EOF), the whole file reports
  // it. (A file larger than kMaxSourceBytes has the limit per piece.)
  return !per_file_limit || token_count.load() + 1 <= kMaxTokens;
}

}  // namespace

std::optional<ir::Module> CompileInPieces(const SourceManager& sources, uint32_t file_id) {
  StreamedModule::State state(sources, file_id);
  if (!CompileInto(state, /*stream=*/false)) return std::nullopt;
  return state.lowerer.TakeModule();
}

size_t StreamBytes() {
  static const size_t bytes = [] {
    const char* value = std::getenv("NETPOLC_STREAM_BYTES");
    if (value == nullptr || *value == '\0') return kStreamBytes;
    char* end = nullptr;
    unsigned long long n = std::strtoull(value, &end, 10);
    return *end == '\0' ? static_cast<size_t>(n) : kStreamBytes;
  }();
  return bytes;
}

void DropRules(ir::Component& component) {
  ir::Component::DroppedRules dropped{component.has_ingress(), component.has_egress()};
  std::vector<ir::Rule>().swap(component.rules);
  std::vector<ir::Note>().swap(component.notes);
  component.dropped_rules = dropped;
}

StreamedModule::StreamedModule(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamedModule::~StreamedModule() = default;

ir::Module& StreamedModule::module() { return state_->lowerer.module(); }

bool StreamedModule::Load(std::span<const uint32_t> indices) {
  State& state = *state_;
  std::vector<ir::Component> loaded(indices.size());
  std::atomic<bool> failed{false};
  ParallelFor(indices.size(), [&](size_t k) {
    if (failed.load(std::memory_order_relaxed)) return;
    const uint32_t index = indices[k];
    std::atomic<size_t> token_count{0};
    std::optional<ast::File> piece =
        index < state.pieces.size()
            ? ParseFilePiece(state.sources, state.file_id, state.pieces[index], token_count)
            : std::nullopt;
    bool ok = piece && piece->components.size() == 1 &&
              state.lowerer.LowerComponentAside(index, piece->components[0], loaded[k]);
    if (!ok) failed.store(true, std::memory_order_relaxed);
  });
  if (failed.load()) return false;
  ir::Module& module = this->module();
  for (size_t k = 0; k < indices.size(); ++k) {
    module.components[indices[k]] = std::move(loaded[k]);
  }
  return true;
}

void StreamedModule::Drop(std::span<const uint32_t> indices) {
  ir::Module& module = this->module();
  for (uint32_t index : indices) {
    if (index < module.components.size()) DropRules(module.components[index]);
  }
}

std::unique_ptr<StreamedModule> CompileStreamed(const SourceManager& sources, uint32_t file_id) {
  auto state = std::make_unique<StreamedModule::State>(sources, file_id);
  if (!CompileInto(*state, /*stream=*/true)) return nullptr;
  return std::unique_ptr<StreamedModule>(new StreamedModule(std::move(state)));
}

}  // namespace netpolc
