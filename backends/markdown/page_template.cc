#include "backends/markdown/page_template.h"

#include <fmt/format.h>

#include <algorithm>

namespace netpolc::backends::markdown {
namespace {

constexpr std::string_view kOpen = "<!--";
constexpr std::string_view kPrefix = "netpolc:";
constexpr std::string_view kClose = "-->";
constexpr std::string_view kMarkers =
    "<!-- netpolc:ingress -->, <!-- netpolc:egress -->, <!-- netpolc:components -->, "
    "<!-- netpolc:layout ... -->, <!-- netpolc:after [ingress|egress] ID --> ... "
    "<!-- netpolc:end -->";

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// What a line is.
struct Marker {
  enum class Kind { kNone, kMalformed, kMarker, kLayoutOpen } kind = Kind::kNone;
  std::vector<std::string_view> words;  // kMarker: name and arguments
};

Marker Classify(std::string_view line) {
  Marker marker;
  size_t open = line.find(kOpen);
  if (open == std::string_view::npos) return marker;
  std::string_view rest = Trim(line.substr(open + kOpen.size()));
  if (rest.rfind(kPrefix, 0) != 0) return marker;  // an ordinary comment
  std::string_view trimmed = Trim(line);
  if (trimmed.rfind(kOpen, 0) != 0) {
    marker.kind = Marker::Kind::kMalformed;
    return marker;
  }
  std::string_view inner = trimmed.substr(kOpen.size());
  bool closed = inner.size() >= kClose.size() && inner.substr(inner.size() - kClose.size()) == kClose;
  if (closed) inner = inner.substr(0, inner.size() - kClose.size());
  inner = Trim(inner);
  std::vector<std::string_view> words = Words(inner.substr(kPrefix.size()));
  if (!closed) {
    // Only the layout block opens on one line and closes on another.
    marker.kind = words.size() == 1 && words[0] == "layout" && inner.find(kClose) == std::string_view::npos
                      ? Marker::Kind::kLayoutOpen
                      : Marker::Kind::kMalformed;
    return marker;
  }
  if (words.empty() || inner.find(kClose) != std::string_view::npos) {
    marker.kind = Marker::Kind::kMalformed;
    return marker;
  }
  marker.kind = Marker::Kind::kMarker;
  marker.words = std::move(words);
  return marker;
}

}  // namespace

std::string_view SectionName(Section section) {
  switch (section) {
    case Section::kIngress:
      return "ingress";
    case Section::kEgress:
      return "egress";
    case Section::kComponents:
      return "components";
  }
  return "";
}

std::optional<PageTemplate> ParseTemplate(std::string_view text, uint32_t template_file,
                                          Diagnostics& diagnostics) {
  PageTemplate page;
  page.layout = DefaultLayout();
  page.pieces.emplace_back();
  bool ok = true;
  uint32_t line_number = 0;
  auto error_at = [&](uint32_t line, const std::string& message) {
    diagnostics.Emit(DiagnosticKind::kInvalidTemplate,
                     SourceLoc{template_file, std::max<uint32_t>(line, 1), 1, 1}, message);
    ok = false;
  };
  auto error = [&](const std::string& message) { error_at(line_number, message); };

  uint32_t section_line[3] = {0, 0, 0};
  uint32_t layout_line = 0;         // first line of the layout block; 0 when none yet
  bool in_layout = false;
  std::string layout_text;
  std::optional<std::pair<Section, std::string>> prose;  // the prose block we are in
  uint32_t prose_start = 0;

  for (size_t start = 0; start < text.size();) {
    // A line ends with LF, CRLF or a lone CR (as everywhere a position is
    // computed); `line` keeps its end, copied as it is, `body` does not.
    size_t line_end = text.find_first_of("\r\n", start);
    size_t end = line_end == std::string_view::npos ? text.size()
                 : text.substr(line_end, 2) == "\r\n" ? line_end + 2
                                                       : line_end + 1;
    std::string_view line = text.substr(start, end - start);
    std::string_view body =
        text.substr(start, (line_end == std::string_view::npos ? text.size() : line_end) - start);
    start = end;
    ++line_number;

    if (in_layout) {
      if (Trim(body) == kClose) {
        in_layout = false;
        if (std::optional<Layout> layout =
                ParseLayout(layout_text, template_file, layout_line + 1, diagnostics)) {
          page.layout = std::move(*layout);
        } else {
          ok = false;
        }
      } else {
        layout_text.append(body);
        layout_text += '\n';
      }
      continue;
    }

    Marker marker = Classify(body);
    if (marker.kind == Marker::Kind::kNone) {
      if (prose) {
        std::string kept(body);
        page.prose[*prose].push_back(std::move(kept));
      } else {
        page.pieces.back().text.append(line);
      }
      continue;
    }
    if (marker.kind == Marker::Kind::kMalformed) {
      error(fmt::format("a marker must stand alone on its line; the markers are {}", kMarkers));
      continue;
    }
    if (marker.kind == Marker::Kind::kLayoutOpen) {
      if (prose) {
        error("a layout block cannot be inside a prose block");
        continue;
      }
      if (layout_line != 0) {
        error(fmt::format("a second layout block (the first is on line {})", layout_line));
      }
      layout_line = line_number;
      in_layout = true;
      layout_text.clear();
      continue;
    }

    std::string_view name = marker.words[0];
    std::vector<std::string_view> args(marker.words.begin() + 1, marker.words.end());
    if (name == "end") {
      if (!prose) {
        error("<!-- netpolc:end --> without a <!-- netpolc:after ... --> before it");
      } else if (!args.empty()) {
        error("<!-- netpolc:end --> takes nothing more");
      }
      prose.reset();
      continue;
    }
    if (prose) {
      error(fmt::format("a prose block (from line {}) ends with <!-- netpolc:end --> before "
                        "another marker",
                        prose_start));
      prose.reset();
    }
    if (name == "after") {
      std::optional<Section> section;
      std::string_view id;
      if (args.size() == 1) {
        section = Section::kComponents;
        id = args[0];
      } else if (args.size() == 2 && (args[0] == "ingress" || args[0] == "egress")) {
        section = args[0] == "ingress" ? Section::kIngress : Section::kEgress;
        id = args[1];
      } else {
        error("a prose block starts <!-- netpolc:after ingress ID -->, <!-- netpolc:after egress "
              "ID --> or (in the components section) <!-- netpolc:after ID -->");
        continue;
      }
      auto key = std::make_pair(*section, std::string(id));
      if (page.prose.count(key) != 0) {
        error(fmt::format("a second prose block after '{}' in the {} section (the first is on "
                          "line {})",
                          id, SectionName(*section), page.prose_line[key]));
      }
      page.prose[key].clear();
      page.prose_line[key] = line_number;
      prose = key;
      prose_start = line_number;
      continue;
    }
    std::optional<Section> section;
    if (name == "ingress") section = Section::kIngress;
    if (name == "egress") section = Section::kEgress;
    if (name == "components") section = Section::kComponents;
    if (!section && name == "layout") {
      error("a layout block opens with a line <!-- netpolc:layout and closes with a line -->, "
            "the YAML between them");
      continue;
    }
    if (!section) {
      error(fmt::format("unknown marker '{}'; the markers are {}", name, kMarkers));
      continue;
    }
    if (!args.empty()) {
      error(fmt::format("<!-- netpolc:{} --> takes nothing more", name));
      continue;
    }
    size_t index = static_cast<size_t>(*section);
    if (page.has[index]) {
      error(fmt::format("<!-- netpolc:{} --> appears a second time (first on line {})", name,
                        section_line[index]));
      continue;
    }
    page.has[index] = true;
    section_line[index] = line_number;
    PageTemplate::Piece piece;
    piece.section = section;
    piece.text = std::string(line.substr(body.size()));  // the marker line's own ending
    page.pieces.push_back(std::move(piece));
    page.pieces.emplace_back();
  }
  if (in_layout) {
    error_at(layout_line, "the layout block has no closing line '-->'");
  }
  if (prose) {
    error_at(prose_start, "the prose block has no <!-- netpolc:end --> line");
  }
  if (page.has[static_cast<size_t>(Section::kComponents)] &&
      (page.has[static_cast<size_t>(Section::kIngress)] ||
       page.has[static_cast<size_t>(Section::kEgress)])) {
    error_at(section_line[static_cast<size_t>(Section::kComponents)],
             "<!-- netpolc:components --> shows both directions: it cannot be used with "
             "<!-- netpolc:ingress --> or <!-- netpolc:egress -->");
  }
  for (const auto& [key, line] : page.prose_line) {
    if (!page.has[static_cast<size_t>(key.first)]) {
      error_at(line, fmt::format("a prose block for the {} section, which the template does not have",
                                 SectionName(key.first)));
    }
  }
  if (!ok) return std::nullopt;
  return page;
}

}  // namespace netpolc::backends::markdown
