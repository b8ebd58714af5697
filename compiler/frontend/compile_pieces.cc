#include "compiler/frontend/compile_pieces.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <unordered_map>
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

using EachDeclaration = std::function<bool(const DeclarationPiece&, std::string_view)>;

// Where a StreamedModule reads the text of its declarations.
class DeclarationText {
 public:
  virtual ~DeclarationText() = default;
  // Calls `each` with every declaration of the file (ScanDeclarations) and
  // its text, in file order, until it returns false. False when it did, or
  // the file cannot be compiled in pieces: larger than `max_bytes`, not
  // valid UTF-8, or not readable.
  virtual bool Scan(size_t max_bytes, const EachDeclaration& each) = 0;
  // The text of `piece`, whole declarations as Scan gave them, read into
  // `buffer` if need be; nullopt when it cannot be read as Scan read it.
  virtual std::optional<std::string_view> Read(const SourcePiece& piece,
                                               std::string& buffer) const = 0;
};

// The text a SourceManager holds.
class HeldText : public DeclarationText {
 public:
  HeldText(const SourceManager& sources, uint32_t file_id)
      : sources_(sources), file_id_(file_id) {}

  bool Scan(size_t max_bytes, const EachDeclaration& each) override {
    if (!ParsableInPieces(sources_, file_id_, max_bytes)) return false;
    std::string_view text = sources_.file(file_id_).text;
    for (const DeclarationPiece& d : ScanDeclarations(text)) {
      if (!each(d, text.substr(d.piece.begin, d.piece.end - d.piece.begin))) return false;
    }
    return true;
  }

  std::optional<std::string_view> Read(const SourcePiece& piece, std::string&) const override {
    std::string_view text = sources_.file(file_id_).text;
    if (piece.begin > piece.end || piece.end > text.size()) return std::nullopt;
    return text.substr(piece.begin, piece.end - piece.begin);
  }

 private:
  const SourceManager& sources_;
  uint32_t file_id_;
};

// A regular file, read a window at a time by Scan and again for each piece
// by Read: its text is never held whole. Each declaration's hash is kept, so
// that a file changed since Scan is never compiled in part.
class FileText : public DeclarationText {
 public:
  // The text from `path`; nothing read yet.
  explicit FileText(const std::string& path)
      : fd_(open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC)) {
    struct stat info;
    if (fd_ >= 0 && (fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode))) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~FileText() override {
    if (fd_ >= 0) close(fd_);
  }
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;

  bool Scan(size_t max_bytes, const EachDeclaration& each) override {
    if (fd_ < 0) return false;
    declarations_.clear();
    // The window holds the file's bytes from `base` on; window[0] is at
    // `line` and `column`, where a declaration starts.
    std::string window;
    size_t base = 0;
    uint32_t line = 1, column = 1;
    bool eof = false;
    size_t want = kWindowBytes;
    while (true) {
      if (!eof && window.size() < want) {
        // One byte past the limit at most, which tells a file too large.
        const size_t goal = std::min(want, max_bytes + 1 - base);
        if (!AppendAt(base + window.size(), goal - window.size(), window)) return false;
        eof = window.size() < goal;
      }
      if (base + window.size() > max_bytes) return false;
      std::vector<DeclarationPiece> found = ScanDeclarations(window);
      size_t take = found.size();
      if (!eof) {
        // The last declaration may go on past the window. And if the word
        // it starts with ends the window, the word may go on too: then it
        // is no keyword, and the cut before it no cut.
        take = found.size() - 1;
        const std::string_view keyword = found.back().keyword;
        if (take > 0 && !keyword.empty() &&
            keyword.data() + keyword.size() == window.data() + window.size()) {
          --take;
        }
        if (take == 0) {
          // One declaration longer than the window: a larger window.
          want = 2 * window.size();
          continue;
        }
      }
      for (size_t k = 0; k < take; ++k) {
        DeclarationPiece d = found[k];
        std::string_view text = std::string_view(window).substr(d.piece.begin,
                                                                d.piece.end - d.piece.begin);
        if (!IsValidUtf8(text)) return false;
        d.piece = InFile(d.piece, base, line, column);
        declarations_.push_back({d.piece.begin, d.piece.end, Hash(text)});
        if (!each(d, text)) return false;
      }
      if (take == found.size()) {
        size_ = base + window.size();
        return true;
      }
      const SourcePiece next = InFile(found[take].piece, base, line, column);
      window.erase(0, found[take].piece.begin);
      base = next.begin;
      line = next.line;
      column = next.column;
      want = std::max(kWindowBytes, 2 * window.size());
    }
  }

  std::optional<std::string_view> Read(const SourcePiece& piece,
                                       std::string& buffer) const override {
    // A file that shrank gives fewer bytes.
    buffer.clear();
    if (fd_ < 0 || piece.begin > piece.end ||
        !AppendAt(piece.begin, piece.end - piece.begin, buffer) ||
        buffer.size() != piece.end - piece.begin) {
      return std::nullopt;
    }
    // The declarations it covers, each as Scan read it.
    auto d = std::lower_bound(declarations_.begin(), declarations_.end(), piece.begin,
                              [](const Declaration& x, uint32_t begin) { return x.begin < begin; });
    uint32_t at = piece.begin;
    for (; d != declarations_.end() && d->begin == at && d->end <= piece.end; ++d) {
      std::string_view text = std::string_view(buffer).substr(d->begin - piece.begin,
                                                              d->end - d->begin);
      if (Hash(text) != d->hash) return std::nullopt;
      at = d->end;
    }
    if (at != piece.end) return std::nullopt;
    return std::string_view(buffer);
  }

  // The whole file, if it is still the text Scan read.
  std::optional<std::string> ReadWhole() const {
    std::string text;
    // One byte more than was scanned tells a file that grew.
    if (fd_ < 0 || !AppendAt(0, size_ + 1, text) || text.size() != size_) return std::nullopt;
    for (const Declaration& d : declarations_) {
      if (Hash(std::string_view(text).substr(d.begin, d.end - d.begin)) != d.hash) {
        return std::nullopt;
      }
    }
    return text;
  }

 private:
  static constexpr size_t kWindowBytes = size_t{4} << 20;
  struct Declaration {
    uint32_t begin;
    uint32_t end;
    size_t hash;
  };

  static size_t Hash(std::string_view text) { return std::hash<std::string_view>()(text); }

  // `piece` of a window that starts at `base`, `line` and `column` of the
  // file, as a piece of the file.
  static SourcePiece InFile(SourcePiece piece, size_t base, uint32_t line, uint32_t column) {
    if (piece.line == 1) piece.column += column - 1;
    piece.line += line - 1;
    piece.begin += static_cast<uint32_t>(base);
    piece.end += static_cast<uint32_t>(base);
    return piece;
  }

  // Appends up to `size` bytes of the file from `offset` to `out` (fewer
  // only at the end of the file); false on a read error.
  bool AppendAt(size_t offset, size_t size, std::string& out) const {
    const size_t start = out.size();
    out.resize(start + size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pread(fd_, out.data() + start + done, size - done,
                              static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(start + done);
    return true;
  }

  int fd_;
  std::vector<Declaration> declarations_;  // as Scan read them, in file order
  size_t size_ = 0;
};

}  // namespace

struct StreamedModule::State {
  State(uint32_t id, std::shared_ptr<DeclarationText> t) : file_id(id), text(std::move(t)) {}
  uint32_t file_id;
  // Where the declarations' text is read.
  std::shared_ptr<DeclarationText> text;
  // Lowering reports nothing on a file that compiles; anything it reports
  // sends the file to the whole-file path (or, streamed, to ReportInPieces).
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
  const uint32_t file_id = state.file_id;
  const size_t piece_bytes = PieceBytes();
  if (piece_bytes == 0) return false;
  DeclarationText& source = *state.text;

  // The declarations as the text shows them: components (by name) in groups
  // of about piece_bytes; every other declaration parsed at once into the
  // header.
  std::atomic<size_t> token_count{0};
  // Streamed, only a piece's tokens are ever held: the limit is per piece.
  const bool per_file_limit = !stream;
  ast::File head;
  head.file_id = file_id;
  std::vector<ComponentGroup> groups;
  std::vector<std::string>& names = state.names;
  {
    std::unordered_set<std::string> seen;
    bool open = false;  // the last group may take the next component
    auto each = [&](const DeclarationPiece& d, std::string_view text) {
      if (d.keyword == "component" && !d.name.empty()) {
        // Two components of one name: the whole file (or ReportInPieces)
        // reports it.
        if (!seen.emplace(d.name).second) return false;
        if (!open || groups.back().piece.end - groups.back().piece.begin >= piece_bytes) {
          groups.push_back({d.piece, names.size(), 0});
        } else {
          groups.back().piece.end = d.piece.end;
        }
        ++groups.back().count;
        if (stream && names.size() == kMaxStreamedComponents) return false;
        names.emplace_back(d.name);
        if (stream) state.pieces.push_back(d.piece);
        open = true;
        return true;
      }
      std::atomic<size_t> piece_tokens{0};
      std::optional<ast::File> parsed =
          ParseTextPiece(text, file_id, d.piece, per_file_limit ? token_count : piece_tokens);
      if (!parsed || !parsed->components.empty()) return false;
      AppendDeclarations(head, std::move(*parsed));
      open = false;
      return true;
    };
    if (!source.Scan(stream ? kMaxStreamedSourceBytes : kMaxSourceBytes, each)) return false;
  }

  PieceLowerer& lowerer = state.lowerer;
  if (!head.imports.empty()) return false;  // the importer works on whole files
  if (!lowerer.LowerHeader(head, names) || !state.diagnostics.all().empty()) return false;
  head = ast::File();

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
      // Streamed, the limit on tokens is per piece.
      std::atomic<size_t> piece_tokens{0};
      std::string buffer;
      std::optional<std::string_view> text = source.Read(group.piece, buffer);
      std::optional<ast::File> piece =
          text ? ParseTextPiece(*text, file_id, group.piece,
                                per_file_limit ? token_count : piece_tokens)
               : std::nullopt;
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
  // it.
  return !per_file_limit || token_count.load() + 1 <= kMaxTokens;
}

}  // namespace

std::optional<ir::Module> CompileInPieces(const SourceManager& sources, uint32_t file_id) {
  StreamedModule::State state(file_id, std::make_shared<HeldText>(sources, file_id));
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

bool ReportInPieces(const SourceManager& sources, uint32_t file_id, Diagnostics& diagnostics) {
  const size_t errors_before = diagnostics.error_count();
  const bool fits_whole = sources.file(file_id).text.size() <= kMaxSourceBytes;
  if (ReportInvalidText(sources, file_id, kMaxStreamedSourceBytes, diagnostics)) return true;
  const std::string& text = sources.file(file_id).text;
  // Nothing to report here: the whole file is compiled when it may be.
  auto not_compiled = [&](std::string_view why) {
    if (fits_whole) return false;
    diagnostics.Emit(DiagnosticKind::kLargeFileNotCompiled, SourceLoc{file_id, 1, 1, 1},
                     kMaxSourceBytes, std::string(why));
    return true;
  };

  // The declarations in pieces of about PieceBytes(), a component group
  // never holding anything else.
  struct Piece {
    SourcePiece piece;
    bool components = false;
  };
  std::vector<Piece> pieces;
  const size_t piece_bytes = std::max<size_t>(PieceBytes(), 1);
  size_t components = 0;
  for (const DeclarationPiece& d : ScanDeclarations(text)) {
    const bool component = d.keyword == "component";
    if (component && ++components > kMaxStreamedComponents) {
      return not_compiled("it declares more than " + std::to_string(kMaxStreamedComponents) +
                          " components");
    }
    if (!pieces.empty() && pieces.back().components == component &&
        pieces.back().piece.end - pieces.back().piece.begin < piece_bytes) {
      pieces.back().piece.end = d.piece.end;
    } else {
      pieces.push_back({d.piece, component});
    }
  }

  // Runs `work` on every piece, a batch at a time on the thread pool, and
  // appends each piece's diagnostics in file order.
  auto each_piece = [&](const std::function<void(size_t, Diagnostics&)>& work) {
    const size_t batch = 2 * ThreadCount();
    for (size_t first = 0; first < pieces.size() && diagnostics.keeps_errors();
         first += batch) {
      const size_t count = std::min(batch, pieces.size() - first);
      std::vector<Diagnostics> found(count);
      ParallelFor(count, [&](size_t i) { work(first + i, found[i]); });
      for (const Diagnostics& d : found) diagnostics.Append(d);
    }
  };

  // Lexical and syntax errors; the components' names, to find duplicates.
  std::vector<std::vector<std::pair<std::string, SourceLoc>>> named(pieces.size());
  bool imports = false;
  std::mutex mutex;
  each_piece([&](size_t i, Diagnostics& found) {
    std::optional<ast::File> file =
        ParseFilePieceReporting(sources, file_id, pieces[i].piece, found);
    if (!file) return;
    for (const ast::Component& c : file->components) named[i].emplace_back(c.name.value, c.name.loc);
    if (!file->imports.empty()) {
      std::lock_guard<std::mutex> lock(mutex);
      imports = true;
    }
  });
  if (diagnostics.error_count() > errors_before) return true;
  if (imports) return not_compiled("it imports other files, which needs the whole file");

  // Duplicate components, reported by the header's lowering as Lower
  // reports them; their bodies are not lowered, as in Lower.
  std::vector<std::string> names;
  std::vector<PieceLowerer::DuplicateComponent> duplicates;
  // Per piece, the index of each of its components among the names (or -1).
  std::vector<std::vector<int64_t>> index(pieces.size());
  {
    std::unordered_map<std::string_view, SourceLoc> first;  // where each name is declared first
    for (size_t i = 0; i < named.size(); ++i) {
      for (const auto& [name, loc] : named[i]) {
        auto [it, inserted] = first.emplace(name, loc);
        if (inserted) {
          index[i].push_back(static_cast<int64_t>(names.size()));
          names.push_back(name);
        } else {
          index[i].push_back(-1);
          duplicates.push_back({name, loc, it->second});
        }
      }
    }
  }

  // Lowering: every declaration but the components, then each component.
  StreamedModule::State state(file_id, std::make_shared<HeldText>(sources, file_id));
  {
    ast::File head;
    head.file_id = file_id;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i].components) continue;
      std::atomic<size_t> tokens{0};
      std::optional<ast::File> parsed = ParseFilePiece(sources, file_id, pieces[i].piece, tokens);
      if (!parsed || !parsed->components.empty()) {
        return not_compiled("a declaration does not compile on its own");
      }
      AppendDeclarations(head, std::move(*parsed));
    }
    state.names = std::move(names);
    // The components are lowered after errors here too, as Lower does.
    if (!state.lowerer.LowerHeader(head, state.names, &duplicates)) {
      return not_compiled("a declaration does not compile on its own");
    }
    diagnostics.Append(state.diagnostics);
  }
  each_piece([&](size_t i, Diagnostics& found) {
    if (!pieces[i].components) return;
    std::atomic<size_t> tokens{0};
    std::optional<ast::File> parsed = ParseFilePiece(sources, file_id, pieces[i].piece, tokens);
    if (!parsed) return;
    for (size_t k = 0; k < parsed->components.size() && k < index[i].size(); ++k) {
      if (index[i][k] < 0) continue;
      ir::Component ignored;
      state.lowerer.LowerComponentAside(static_cast<size_t>(index[i][k]), parsed->components[k],
                                        ignored, &found);
    }
  });
  if (diagnostics.error_count() > errors_before) return true;
  return not_compiled("a declaration does not compile on its own");
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
    std::string buffer;
    std::optional<std::string_view> text =
        index < state.pieces.size() ? state.text->Read(state.pieces[index], buffer)
                                    : std::nullopt;
    std::optional<ast::File> piece =
        text ? ParseTextPiece(*text, state.file_id, state.pieces[index], token_count)
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
  auto state = std::make_unique<StreamedModule::State>(
      file_id, std::make_shared<HeldText>(sources, file_id));
  if (!CompileInto(*state, /*stream=*/true)) return nullptr;
  return std::unique_ptr<StreamedModule>(new StreamedModule(std::move(state)));
}

std::unique_ptr<StreamedModule> CompileStreamedFile(SourceManager& sources, uint32_t file_id,
                                                    const std::string& path) {
  auto text = std::make_shared<FileText>(path);
  auto state = std::make_unique<StreamedModule::State>(file_id, text);
  if (!CompileInto(*state, /*stream=*/true)) return nullptr;
  sources.SetReader(file_id, [text] { return text->ReadWhole(); });
  return std::unique_ptr<StreamedModule>(new StreamedModule(std::move(state)));
}

}  // namespace netpolc
