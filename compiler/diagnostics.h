// Diagnostics: kinds (declared in diagnostic_kinds.def), collection and
// rendering as `file:line:col: error: message [kind]` plus the source line
// and a caret.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source.h"

namespace netpolc {

enum class Severity : uint8_t { kError, kWarning, kNote };

enum class DiagnosticKind : uint16_t {
#define DIAGNOSTIC(kind, severity, name, format) k##kind,
#include "compiler/diagnostic_kinds.def"
#undef DIAGNOSTIC
};

struct DiagnosticInfo {
  Severity severity;
  std::string_view name;
  std::string_view format;
};

const DiagnosticInfo& InfoOf(DiagnosticKind kind);

struct Diagnostic {
  DiagnosticKind kind;
  Severity severity;
  SourceLoc loc;
  std::string message;
};

// Collects diagnostics of one compilation. Emitting stops (silently, after a
// final "too many errors") once max_errors errors have been recorded, so a
// pathological input cannot produce unbounded output.
class Diagnostics {
 public:
  explicit Diagnostics(size_t max_errors = 50) : max_errors_(max_errors) {}

  template <typename... Args>
  void Emit(DiagnosticKind kind, SourceLoc loc, const Args&... args) {
    const DiagnosticInfo& info = InfoOf(kind);
    Add(kind, info.severity, loc,
        fmt::format(fmt::runtime(info.format), args...));
  }

  size_t error_count() const { return error_count_; }
  bool has_errors() const { return error_count_ > 0; }
  const std::vector<Diagnostic>& all() const { return diagnostics_; }

 private:
  void Add(DiagnosticKind kind, Severity severity, SourceLoc loc,
           std::string message);

  size_t max_errors_;
  size_t error_count_ = 0;
  bool stopped_ = false;
  std::vector<Diagnostic> diagnostics_;
};

// Renders one diagnostic: location, severity, message and [kind], then the
// source line and a caret under the location (when it is in a file).
std::string Render(const Diagnostic& diagnostic, const SourceManager& sources);
std::string RenderAll(const Diagnostics& diagnostics,
                      const SourceManager& sources);

}  // namespace netpolc
