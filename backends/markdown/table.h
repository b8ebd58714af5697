// A Markdown (GFM) table laid out the way a Markdown formatter lays it out:
// every column padded to its widest cell, the separator row made of dashes of
// that width plus the two spaces around a cell.
//
//   | **Type** | **Port** |
//   |----------|----------|
//   | TCP      | 8080     |
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc::backends::markdown {

// The width of `text` as a formatter counts it: Unicode code points of the
// UTF-8 text.
size_t DisplayWidth(std::string_view text);

// Makes `text` safe inside a table cell: `|` becomes `\|` (also inside code
// spans, as GFM requires) and line breaks become spaces.
std::string EscapeCell(std::string_view text);

class Table {
 public:
  // Header cells are written as given (callers pass `**Type**`, escaped).
  explicit Table(std::vector<std::string> header);

  // Cells are escaped with EscapeCell; a row shorter than the header is
  // completed with empty cells, extra cells are an error of the caller and
  // are dropped.
  void AddRow(std::vector<std::string> cells);

  size_t columns() const { return header_.size(); }
  size_t rows() const { return rows_.size(); }

  // Appends the table, one line per row, each ending in '\n'. Linear in the
  // size of the table.
  void Render(std::string& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace netpolc::backends::markdown
