#include "backends/markdown/table.h"

#include <algorithm>

namespace netpolc::backends::markdown {

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    // Count every byte that is not a UTF-8 continuation byte.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

namespace {

// Whether EscapeCell changes the text (most cells it does not).
bool CellNeedsEscaping(std::string_view text) {
  for (char c : text) {
    if (c == '|' || c == '\n' || c == '\r') return true;
  }
  return false;
}

}  // namespace

std::string EscapeCell(std::string_view text) {
  if (!CellNeedsEscaping(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  bool escaped = false;  // the previous character is an unescaped backslash
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n' || c == '\r') {
      out.push_back(' ');
      escaped = false;
      continue;
    }
    if (c == '|' && !escaped) out.push_back('\\');
    out.push_back(c);
    escaped = c == '\\' && !escaped;
  }
  return out;
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (std::string& cell : cells) {
    if (CellNeedsEscaping(cell)) cell = EscapeCell(cell);
  }
  rows_.push_back(std::move(cells));
}

namespace {

void AppendRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
               std::string& out) {
  out += '|';
  for (size_t i = 0; i < widths.size(); ++i) {
    out += ' ';
    out += cells[i];
    out.append(widths[i] - DisplayWidth(cells[i]), ' ');
    out += " |";
  }
  out += '\n';
}

}  // namespace

void Table::Render(std::string& out) const {
  std::vector<size_t> widths(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) {
    // At least three dashes, the least a separator cell may have.
    widths[i] = std::max<size_t>(DisplayWidth(header_[i]), 1);
  }
  for (const std::vector<std::string>& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  AppendRow(header_, widths, out);
  out += '|';
  for (size_t width : widths) {
    out.append(width + 2, '-');
    out += '|';
  }
  out += '\n';
  for (const std::vector<std::string>& row : rows_) AppendRow(row, widths, out);
}

}  // namespace netpolc::backends::markdown
