#include "compiler/diagnostics.h"

#include <cstdint>
#include <cstring>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace netpolc {
namespace {

constexpr std::array kInfos = {
#define DIAGNOSTIC(kind, severity, name, format) \
  DiagnosticInfo{Severity::k##severity, name, format},
#include "compiler/diagnostic_kinds.def"
#undef DIAGNOSTIC
};

// One code point of a line (or one byte that is not UTF-8), as shown.
struct Unit {
  std::string text;  // what is shown: the bytes, or an escape
  size_t width;      // columns it takes (tab: 1, it is kept as a tab)
};

// The code point at text[i] (its length in `length`), or nullopt when the
// bytes there are not UTF-8.
std::optional<uint32_t> DecodeAt(std::string_view text, size_t i, size_t& length) {
  unsigned char lead = static_cast<unsigned char>(text[i]);
  length = 1;
  if (lead < 0x80) return lead;
  uint32_t cp;
  size_t n;
  if (lead >= 0xC2 && lead <= 0xDF) {
    cp = lead & 0x1F;
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    cp = lead & 0x0F;
    n = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    cp = lead & 0x07;
    n = 4;
  } else {
    return std::nullopt;
  }
  if (i + n > text.size()) return std::nullopt;
  for (size_t k = 1; k < n; ++k) {
    unsigned char c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return std::nullopt;
  }
  length = n;
  return cp;
}

bool MustEscape(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Splits text into units; in a source line (`keep_tabs`), tabs stay tabs.
template <typename Fn>
void ForEachUnit(std::string_view text, bool keep_tabs, Fn fn) {
  for (size_t i = 0; i < text.size();) {
    size_t length;
    std::optional<uint32_t> cp = DecodeAt(text, i, length);
    if (!cp) {
      fn(Unit{fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i])), 4});
      // A lead byte's continuation bytes belong to the same column.
      size_t j = i + 1;
      while (j < text.size() && j < i + 4 && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) {
        fn(Unit{fmt::format("\\x{:02x}", static_cast<unsigned char>(text[j])), 0});
        ++j;
      }
      i = j;
      continue;
    }
    if (*cp == '\t' && keep_tabs) {
      fn(Unit{"\t", 1});
    } else if (MustEscape(*cp)) {
      std::string e = *cp < 0x80 ? fmt::format("\\x{:02x}", *cp) : fmt::format("\\u{:04x}", *cp);
      size_t width = e.size();
      fn(Unit{std::move(e), width});
    } else {
      fn(Unit{std::string(text.substr(i, length)), 1});
    }
    i += length;
  }
}

// The byte index where the column after the one starting at text[i] starts
// (as ForEachUnit splits columns: a code point, or a byte that is not UTF-8
// with the continuation bytes after it).
size_t NextColumn(std::string_view text, size_t i) {
  size_t length;
  if (DecodeAt(text, i, length)) return i + length;
  size_t j = i + 1;
  while (j < text.size() && j < i + 4 && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) ++j;
  return j;
}

// Whether every byte of `text` is shown as it is: printable ASCII, and tabs
// (`keep_tabs`) and newlines (`keep_newlines`). Such text is its own escape,
// one column per byte; the common case, which then skips ForEachUnit.
bool ShownAsIs(std::string_view text, bool keep_tabs, bool keep_newlines = false) {
  auto shown = [&](unsigned char c) {
    return (c >= 0x20 && c < 0x7F) || (c == '\t' && keep_tabs) || (c == '\n' && keep_newlines);
  };
  // Eight bytes at a time: a word with no byte below 0x20, none from 0x80
  // and no 0x7F is shown as it is; any other word is looked at bytewise.
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const char* data = text.data();
  const size_t n = text.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    const uint64_t below = (word - kOnes * 0x20) & ~word & kHigh;  // a byte < 0x20
    const uint64_t del = word ^ (kOnes * 0x7F);
    const uint64_t deletes = (del - kOnes) & ~del & kHigh;  // a byte 0x7F
    if (((word & kHigh) | below | deletes) == 0) continue;
    for (size_t k = i; k < i + 8; ++k) {
      if (!shown(static_cast<unsigned char>(data[k]))) return false;
    }
  }
  for (; i < n; ++i) {
    if (!shown(static_cast<unsigned char>(data[i]))) return false;
  }
  return true;
}

std::string QuoteLine(std::string_view line, uint32_t column, uint32_t length);

// Appends the source line and the caret line under the 1-based column
// `column`, underlining `length` columns, in a window around the caret when
// the line is long.
void QuoteLineTo(std::string& out, std::string_view line, uint32_t column, uint32_t length) {
  // A line shown as it is, within the window: one column per byte, and the
  // same lines as the general case (QuoteLine) gives for it.
  if (line.size() <= kMaxSourceColumns && ShownAsIs(line, true)) {
    const size_t columns = line.size();
    const size_t caret = column > 0 ? std::min<size_t>(column - 1, columns) : 0;
    size_t underline = length > 1 ? length - 1 : 0;
    if (caret < columns) {
      underline = std::min(underline, columns - caret - 1);
    } else {
      underline = 0;
    }
    out.reserve(out.size() + 2 * columns + underline + 3);
    out.append(line);
    out += '\n';
    for (size_t c = 0; c < caret; ++c) out += line[c] == '\t' ? '\t' : ' ';
    out += '^';
    if (caret < columns) out.append(underline, '~');
    out += '\n';
    return;
  }
  out += QuoteLine(line, column, length);
}

// The general case of QuoteLineTo.
std::string QuoteLine(std::string_view line, uint32_t column, uint32_t length) {
  // Of a very long line only the part around the caret is split into units:
  // memory and time stay bounded (a 64 MiB line would take gigabytes). The
  // part kept reaches twice the window's width past the caret on each side,
  // so the window and its "..." come out as from the whole line.
  if (line.size() > 8 * kMaxSourceColumns) {
    const size_t margin = 2 * kMaxSourceColumns;
    const size_t from = column > margin ? column - margin : 1;  // first column kept
    const size_t to = size_t{column} + margin;                    // first column dropped
    size_t i = 0, c = 1;
    for (; i < line.size() && c < from; ++c) i = NextColumn(line, i);
    const size_t start = i;
    for (; i < line.size() && c < to; ++c) i = NextColumn(line, i);
    line = line.substr(start, i - start);
    column -= static_cast<uint32_t>(from - 1);
  }
  // Units; a unit of width 0 continues the column before it.
  std::vector<Unit> units;
  std::vector<size_t> column_start;  // index into units of each column
  ForEachUnit(line, true, [&](Unit u) {
    if (u.width > 0 || units.empty()) column_start.push_back(units.size());
    units.push_back(std::move(u));
  });
  size_t columns = column_start.size();
  auto column_width = [&](size_t c) {
    size_t end = c + 1 < columns ? column_start[c + 1] : units.size();
    size_t w = 0;
    for (size_t u = column_start[c]; u < end; ++u) w += u == column_start[c] ? units[u].width : 4;
    return w;
  };
  size_t caret = column > 0 ? std::min<size_t>(column - 1, columns) : 0;
  size_t underline = length > 1 ? length - 1 : 0;
  if (columns > caret && underline > columns - caret - 1) underline = columns - caret - 1;
  if (columns <= caret) underline = 0;
  // The window: whole line when it fits, else from some columns before the
  // caret, as many as fit.
  size_t first = 0, last = columns;  // columns [first, last)
  size_t total = 0;
  for (size_t c = 0; c < columns; ++c) total += column_width(c);
  if (total > kMaxSourceColumns) {
    size_t before = 0;
    first = caret;
    while (first > 0 && before + column_width(first - 1) <= kMaxSourceColumns / 3) {
      before += column_width(--first);
    }
    size_t width = before;
    last = first + (caret - first);
    while (last < columns && width + column_width(last) <= kMaxSourceColumns) width += column_width(last++);
  }
  std::string shown, marker;
  if (first > 0) {
    shown += "...";
    marker += "   ";
  }
  for (size_t c = first; c < last; ++c) {
    size_t end = c + 1 < columns ? column_start[c + 1] : units.size();
    for (size_t u = column_start[c]; u < end; ++u) shown += units[u].text;
    if (c < caret) {
      if (units[column_start[c]].text == "\t") {
        marker += '\t';
      } else {
        marker.append(column_width(c), ' ');
      }
    }
  }
  if (last < columns) shown += "...";
  marker += '^';
  size_t tildes = 0;
  for (size_t c = caret; c < caret + underline + 1 && c < last; ++c) tildes += column_width(c);
  if (tildes > 1) marker.append(tildes - 1, '~');
  return shown + "\n" + marker + "\n";
}

// At most max_bytes of text, cut at a code point boundary with "...".
std::string Cap(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

}  // namespace

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

namespace {

// EscapeControls(text), appended to `out`.
void AppendEscaped(std::string& out, std::string_view text) {
  if (ShownAsIs(text, false)) {
    out += text;
    return;
  }
  out.reserve(out.size() + text.size());
  ForEachUnit(text, false, [&](const Unit& u) { out += u.text; });
}

}  // namespace

std::string EscapeControls(std::string_view text) {
  std::string out;
  AppendEscaped(out, text);
  return out;
}

bool ShownAsIsKeepLines(std::string_view text) { return ShownAsIs(text, true, true); }

std::string EscapeControlsKeepLines(std::string_view text) {
  if (ShownAsIs(text, true, true)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ForEachUnit(text.substr(start, end - start), true, [&](const Unit& u) { out += u.text; });
    if (end < text.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

std::string Echo(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  bool cut = false;
  ForEachUnit(text, false, [&](const Unit& u) {
    if (cut) return;
    if (u.width > 0 && chars == max_chars) {
      cut = true;
      return;
    }
    if (u.width > 0) ++chars;
    out += u.text;
  });
  if (cut) out += "...";
  return out;
}

const DiagnosticInfo& InfoOf(DiagnosticKind kind) {
  return kInfos[static_cast<size_t>(kind)];
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const Diagnostic& d : other.all()) {
    if (d.kind != DiagnosticKind::kTooManyErrors) {
      Add(d.kind, d.severity, d.loc, d.message);
    } else if (error_count_ == max_errors_) {
      // `other` stopped at the same limit: so does this list.
      Add(d.kind, Severity::kError, d.loc, d.message);
    }
  }
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
  RenderTo(out, d.kind, d.severity, d.loc, d.message, sources);
  return out;
}

void RenderTo(std::string& out, DiagnosticKind kind, Severity severity, const SourceLoc& loc,
              std::string_view message, const SourceManager& sources) {
  std::string_view name = InfoOf(kind).name;
  auto append_message = [&] {
    if (message.size() <= kMaxMessageBytes && ShownAsIs(message, false)) {
      out += message;
    } else {
      out += Cap(EscapeControls(message), kMaxMessageBytes);
    }
  };
  auto append_number = [&](uint32_t n) {
    char digits[12];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
  };
  const SourceFile* file =
      loc.valid() && loc.file < sources.size() ? &sources.file(loc.file) : nullptr;
  if (file == nullptr) {
    out += "netpolc";
  } else {
    AppendEscaped(out, file->path);
    out += ':';
    append_number(loc.line);
    out += ':';
    append_number(loc.column);
  }
  out += ": ";
  out += SeverityName(severity);
  out += ": ";
  append_message();
  out += " [";
  out += name;
  out += "]\n";
  if (file != nullptr && loc.line != 0) {
    QuoteLineTo(out, file->Line(loc.line), loc.column, loc.length);
  }
}

std::string RenderAll(const Diagnostics& diagnostics,
                      const SourceManager& sources) {
  std::string out;
  for (const Diagnostic& d : diagnostics.all()) out += Render(d, sources);
  return out;
}

}  // namespace netpolc
