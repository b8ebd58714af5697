#include "compiler/diagnostics.h"

#include <array>

namespace netpolc {
namespace {

constexpr std::array kInfos = {
#define DIAGNOSTIC(kind, severity, name, format) \
  DiagnosticInfo{Severity::k##severity, name, format},
#include "compiler/diagnostic_kinds.def"
#undef DIAGNOSTIC
};

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

// Byte offset of the 1-based code-point column in a UTF-8 line.
size_t ByteOffsetOfColumn(std::string_view line, uint32_t column) {
  size_t offset = 0;
  for (uint32_t c = 1; c < column && offset < line.size(); ++c) {
    ++offset;
    while (offset < line.size() &&
           (static_cast<unsigned char>(line[offset]) & 0xC0) == 0x80) {
      ++offset;
    }
  }
  return offset;
}

}  // namespace

const DiagnosticInfo& InfoOf(DiagnosticKind kind) {
  return kInfos[static_cast<size_t>(kind)];
}

void Diagnostics::Add(DiagnosticKind kind, Severity severity, SourceLoc loc,
                      std::string message) {
  if (stopped_) return;
  if (severity == Severity::kError && error_count_ == max_errors_) {
    stopped_ = true;
    const DiagnosticInfo& info = InfoOf(DiagnosticKind::kTooManyErrors);
    diagnostics_.push_back({DiagnosticKind::kTooManyErrors, info.severity,
                            SourceLoc{},
                            fmt::format(fmt::runtime(info.format),
                                        max_errors_)});
    return;
  }
  if (severity == Severity::kError) ++error_count_;
  diagnostics_.push_back({kind, severity, loc, std::move(message)});
}

std::string Render(const Diagnostic& d, const SourceManager& sources) {
  std::string out;
  std::string_view name = InfoOf(d.kind).name;
  if (!d.loc.valid() || d.loc.file >= sources.size()) {
    return fmt::format("netpolc: {}: {} [{}]\n", SeverityName(d.severity),
                       d.message, name);
  }
  const SourceFile& file = sources.file(d.loc.file);
  out = fmt::format("{}:{}:{}: {}: {} [{}]\n", file.path, d.loc.line,
                    d.loc.column, SeverityName(d.severity), d.message, name);
  std::string_view line = file.Line(d.loc.line);
  if (d.loc.line == 0) return out;
  out.append(line);
  out.push_back('\n');
  // Caret line: keep tabs so the caret lines up under the source.
  size_t caret_at = ByteOffsetOfColumn(line, d.loc.column);
  std::string marker;
  for (size_t i = 0; i < caret_at && i < line.size();) {
    marker.push_back(line[i] == '\t' ? '\t' : ' ');
    ++i;
    while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
  }
  marker.push_back('^');
  // Underline the rest of the token, but not past the end of the line.
  size_t remaining = 0;  // code points from the caret to the end of the line
  for (size_t i = caret_at; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++remaining;
  }
  size_t underline = d.loc.length > 1 ? d.loc.length - 1 : 0;
  if (remaining > 0 && underline > remaining - 1) underline = remaining - 1;
  marker.append(underline, '~');
  out.append(marker);
  out.push_back('\n');
  return out;
}

std::string RenderAll(const Diagnostics& diagnostics,
                      const SourceManager& sources) {
  std::string out;
  for (const Diagnostic& d : diagnostics.all()) out += Render(d, sources);
  return out;
}

}  // namespace netpolc
