// How the documentation page looks (docs/markdown.md, "Layout"): headings,
// anchors, notes, the columns of each table and the wording of their cells.
// A template gives it in a `<!-- netpolc:layout ... -->` block of YAML; every
// key is optional, and the defaults are the page of docs/templates.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/ir/types.h"

namespace netpolc::backends::markdown {

enum class Column : uint8_t {
  kType,         // TCP, UDP, SCTP
  kOrigin,       // ingress: who may connect
  kDestination,  // egress: where the pods connect to
  kPodLabel,     // egress: the destination's label
  kPort,         // the ports
  kReason,       // the rule's reason
  kEnabled,      // when the rule holds
};

struct ColumnLayout {
  Column column = Column::kType;
  std::string header;  // as written in the header row
  std::string cell;    // the cell's wording, with {placeholders}
  // Shown only when some row of the section depends on the configuration.
  bool optional = false;
};

struct TableLayout {
  std::vector<ColumnLayout> columns;
};

struct Layout {
  // A component's heading: {name}, {id}.
  std::string heading = "### {name} pod";
  // Headings of single components, by component id, replacing `heading`.
  std::map<std::string, std::string> headings;
  std::map<std::string, uint32_t> heading_lines;  // template line of each, for diagnostics
  // A line under every heading (e.g. kramdown's "{: #{slug}}"); none when
  // empty. {slug} is the heading's text as kramdown makes it an id, {id} the
  // component's id.
  std::string anchor;
  // A note paragraph: {text}.
  std::string note = "**Note:** {text}";
  // A section without any component: {direction} is "ingress" or "egress".
  std::string empty = "No component has {direction} rules.";
  TableLayout ingress;
  TableLayout egress;
  // The components section: one block per component with both directions,
  // each introduced by a line; a direction without a table says `any` or
  // `none` on that line.
  std::string components_ingress = "- Incoming connections permitted:";
  std::string components_egress = "- Outgoing connections permitted:";
  std::string any = "Any";
  std::string none = "None";

  const TableLayout& table(ir::Direction direction) const {
    return direction == ir::Direction::kIngress ? ingress : egress;
  }
};

// The default layout: the columns of docs/markdown.md.
Layout DefaultLayout();

// Reads the YAML of a layout block over the defaults. `first_line` is the
// template line of the YAML's first line, for diagnostics. Reports every
// problem (unknown keys, columns and placeholders) and returns nullopt when
// there is one.
std::optional<Layout> ParseLayout(std::string_view yaml, uint32_t template_file,
                                  uint32_t first_line, Diagnostics& diagnostics);

// Replaces the {name} placeholders of `format` by lookup(name). Jekyll/Liquid
// `{{ ... }}` and `{% ... %}`, and braces that are not a placeholder
// ("{: #id}"), are copied as written. A name lookup does not know is copied
// as written, and added to `unknown` when given.
std::string Fill(std::string_view format,
                 const std::function<std::optional<std::string>(std::string_view)>& lookup,
                 std::vector<std::string>* unknown = nullptr);

// The id kramdown gives a heading: letters and digits lower-cased, spaces
// become '-', '-' and '_' are kept, everything else is dropped, and so is
// everything before the first letter.
std::string Slug(std::string_view heading_text);

}  // namespace netpolc::backends::markdown
