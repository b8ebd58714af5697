// Diagnostics: kinds (declared in diagnostic_kinds.def), collection and
// rendering as `file:line:col: error: message [kind]` plus the source line
// and a caret.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "compiler/source.h"

namespace netpolc {

enum class Severity : uint8_t { kError, kWarning, kNote };

// "error", "warning" or "note", as diagnostics are printed.
std::string_view SeverityName(Severity severity);

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

// Echoed text (names, values, keys, file names, source lines) is shown
// escaped and capped, so that hostile input can neither drive the terminal
// nor flood stderr.
//
// Control characters (C0, DEL, C1), line and paragraph separators and
// bidirectional formatting characters become \xNN or \uNNNN; so do bytes
// that are not UTF-8. Tabs too, except in quoted source lines.
std::string EscapeControls(std::string_view text);
// EscapeControls keeping newlines and tabs: for whole messages already laid
// out in lines (what a command prints on stderr).
std::string EscapeControlsKeepLines(std::string_view text);
// Whether EscapeControlsKeepLines(text) is `text` as it is.
bool ShownAsIsKeepLines(std::string_view text);
// EscapeControls, cut after `max_chars` code points with "...".
constexpr size_t kMaxEchoedChars = 120;
std::string Echo(std::string_view text, size_t max_chars = kMaxEchoedChars);
// Each string argument of a diagnostic's message is capped at this (it may
// be a whole sentence that already quotes a value); a message as a whole at
// kMaxMessageBytes; a quoted source line is shown in a window of
// kMaxSourceColumns columns around the caret.
constexpr size_t kMaxEchoedArgChars = 400;
constexpr size_t kMaxMessageBytes = 2000;
constexpr size_t kMaxSourceColumns = 200;

// What Diagnostics::Emit formats: strings echoed (Echo), other values as is.
template <typename T>
decltype(auto) EchoArg(const T& arg) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return Echo(std::string_view(arg), kMaxEchoedArgChars);
  } else {
    return (arg);
  }
}

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
        fmt::format(fmt::runtime(info.format), EchoArg(args)...));
  }

  size_t error_count() const { return error_count_; }
  bool has_errors() const { return error_count_ > 0; }
  // False once another error would be dropped: work spent only on an error's
  // message (a "did you mean" search) can be skipped then.
  bool keeps_errors() const { return !stopped_ && error_count_ < max_errors_; }
  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  // Emits the diagnostics of `other` after these, in order (this list's
  // limit applies; its "too many errors" ends this list too once full).
  void Append(const Diagnostics& other);

 private:
  void Add(DiagnosticKind kind, Severity severity, SourceLoc loc,
           std::string message);

  size_t max_errors_;
  size_t error_count_ = 0;
  bool stopped_ = false;
  std::vector<Diagnostic> diagnostics_;
};

// Renders one diagnostic: location, severity, message and [kind], then the
// source line and a caret under the location (when it is in a file). The
// file name, the message and the line are escaped (EscapeControls); a long
// line is shown around the caret, cut with "...".
std::string Render(const Diagnostic& diagnostic, const SourceManager& sources);
// The same, appended to `out`.
void RenderTo(std::string& out, DiagnosticKind kind, Severity severity, const SourceLoc& loc,
              std::string_view message, const SourceManager& sources);
std::string RenderAll(const Diagnostics& diagnostics,
                      const SourceManager& sources);

}  // namespace netpolc
