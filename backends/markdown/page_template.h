// The template of a documentation page (docs/markdown.md, "With a
// template"): text copied byte for byte around marker lines.
//
//   <!-- netpolc:ingress -->          the ingress section
//   <!-- netpolc:egress -->           the egress section
//   <!-- netpolc:components -->       one block per component, both directions
//   <!-- netpolc:layout               a YAML layout (layout.h), up to a line
//   ...                               holding only -->
//   -->
//   <!-- netpolc:after [ingress|egress] ID -->   prose placed after component
//   ...                                           ID's block in that section
//   <!-- netpolc:end -->                          (the components section
//                                                 without a direction)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/markdown/layout.h"
#include "compiler/diagnostics.h"

namespace netpolc::backends::markdown {

enum class Section : uint8_t { kIngress, kEgress, kComponents };

struct PageTemplate {
  struct Piece {
    std::string text;                  // copied as written (whole lines)
    std::optional<Section> section;    // or a section, followed by `text`
  };
  std::vector<Piece> pieces;
  Layout layout;
  // Prose lines (without their line breaks) by section and component id.
  std::map<std::pair<Section, std::string>, std::vector<std::string>> prose;
  // The template line of each prose block, for diagnostics.
  std::map<std::pair<Section, std::string>, uint32_t> prose_line;
  bool has[3] = {false, false, false};  // indexed by Section
};

// Splits the template; reports every problem (unknown, repeated or malformed
// markers, unterminated blocks, a bad layout) and returns nullopt when there
// is one. The check that the sections fit the rules is the caller's.
std::optional<PageTemplate> ParseTemplate(std::string_view text, uint32_t template_file,
                                          Diagnostics& diagnostics);

std::string_view SectionName(Section section);

}  // namespace netpolc::backends::markdown
