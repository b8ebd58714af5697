#include "backends/markdown/layout.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <utility>

namespace netpolc::backends::markdown {
namespace {

constexpr size_t kMaxColumns = 16;

struct ColumnInfo {
  std::string_view name;
  Column column;
  std::string_view header;
  std::string_view cell;
  // 0: both directions; else only ingress (1) or only egress (2).
  int direction;
};

constexpr ColumnInfo kColumns[] = {
    {"type", Column::kType, "**Type**", "{type}", 0},
    {"origin", Column::kOrigin, "**Origin**", "{peers}", 1},
    {"destination", Column::kDestination, "**Destination**", "{peers}", 2},
    {"pod_label", Column::kPodLabel, "**Pod Label**", "{pod_label}", 2},
    {"port", Column::kPort, "**Port**", "{port}", 0},
    {"reason", Column::kReason, "**Reason**", "{reason}", 0},
    {"enabled", Column::kEnabled, "**Enabled in policy**", "{enabled}", 0},
};

// The placeholders of each kind of format.
const std::set<std::string_view> kCellNames = {"type",   "peers",  "pod_label", "port",
                                               "port_words", "reason", "enabled"};
const std::set<std::string_view> kHeadingNames = {"name", "id"};
const std::set<std::string_view> kAnchorNames = {"slug", "id"};
const std::set<std::string_view> kNoteNames = {"text"};
const std::set<std::string_view> kEmptyNames = {"direction"};

const ColumnInfo* FindColumn(std::string_view name) {
  for (const ColumnInfo& info : kColumns) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

ColumnLayout Default(std::string_view name) {
  const ColumnInfo* info = FindColumn(name);
  return {info->column, std::string(info->header), std::string(info->cell), false};
}

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

class Reader {
 public:
  Reader(uint32_t file, uint32_t first_line, Diagnostics& diagnostics)
      : file_(file), first_line_(first_line), diagnostics_(diagnostics) {}

  bool ok() const { return ok_; }

  void Error(const YAML::Mark& mark, const std::string& message) {
    uint32_t line = first_line_ + (mark.line >= 0 ? static_cast<uint32_t>(mark.line) : 0);
    uint32_t column = mark.column >= 0 ? static_cast<uint32_t>(mark.column) + 1 : 1;
    diagnostics_.Emit(DiagnosticKind::kInvalidTemplate, SourceLoc{file_, line, column, 1},
                      "layout: " + message);
    ok_ = false;
  }

  // A string value; reports anything else.
  std::optional<std::string> String(const YAML::Node& node, std::string_view key) {
    if (!node.IsScalar()) {
      Error(node.Mark(), fmt::format("'{}' takes a string", key));
      return std::nullopt;
    }
    return node.Scalar();
  }

  // A format: a string whose placeholders are among `names`.
  void Format(const YAML::Node& node, std::string_view key, const std::set<std::string_view>& names,
              std::string& out) {
    std::optional<std::string> text = String(node, key);
    if (!text) return;
    std::vector<std::string> unknown;
    Fill(*text, [&](std::string_view name) -> std::optional<std::string> {
      if (names.count(name) == 0) return std::nullopt;
      return std::string();
    }, &unknown);
    for (const std::string& name : unknown) {
      std::string known;
      for (std::string_view n : names) known += (known.empty() ? "{" : ", {") + std::string(n) + "}";
      Error(node.Mark(), fmt::format("'{}' has no placeholder {{{}}}; it has {}", key, name, known));
    }
    if (unknown.empty()) out = *text;
  }

  void Table(const YAML::Node& node, ir::Direction direction, TableLayout& out) {
    std::string_view what = direction == ir::Direction::kIngress ? "ingress" : "egress";
    if (!node.IsMap()) {
      Error(node.Mark(), fmt::format("'{}' takes a mapping with 'columns'", what));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key != "columns") {
        Error(it->first.Mark(), fmt::format("unknown key '{}' under '{}'; the key is 'columns'", key, what));
        continue;
      }
      const YAML::Node list = it->second;  // a copy: the iterator's pair is a temporary
      if (!list.IsSequence() || list.size() == 0) {
        Error(list.Mark(), "'columns' takes a non-empty list of columns");
        continue;
      }
      if (list.size() > kMaxColumns) {
        Error(list.Mark(), fmt::format("a table has at most {} columns", kMaxColumns));
        continue;
      }
      out.columns.clear();
      for (const YAML::Node& item : list) {
        std::optional<ColumnLayout> column = ColumnSpec(item, direction);
        if (column) out.columns.push_back(std::move(*column));
      }
    }
  }

 private:
  std::optional<ColumnLayout> ColumnSpec(const YAML::Node& item, ir::Direction direction) {
    // (Not assigned after construction: assigning a YAML::Node overwrites the
    // node it refers to.)
    const YAML::Node name_node = item.IsMap() ? item["column"] : item;
    if (!name_node || !name_node.IsScalar()) {
      Error(item.Mark(), "a column is a name (type, origin, destination, pod_label, port, reason, "
                         "enabled) or a mapping with 'column' and optionally 'header', 'cell', "
                         "'optional'");
      return std::nullopt;
    }
    std::string name = name_node.Scalar();
    const ColumnInfo* info = FindColumn(name);
    if (info == nullptr) {
      Error(name_node.Mark(), fmt::format("unknown column '{}'; the columns are type, origin, "
                                          "destination, pod_label, port, reason and enabled",
                                          name));
      return std::nullopt;
    }
    int want = direction == ir::Direction::kIngress ? 1 : 2;
    if (info->direction != 0 && info->direction != want) {
      Error(name_node.Mark(),
            fmt::format("column '{}' belongs to {} tables", name, info->direction == 1 ? "ingress" : "egress"));
      return std::nullopt;
    }
    ColumnLayout column = Default(name);
    if (!item.IsMap()) return column;
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key == "column") continue;
      if (key == "header") {
        if (std::optional<std::string> text = String(it->second, key)) column.header = *text;
      } else if (key == "cell") {
        Format(it->second, key, kCellNames, column.cell);
      } else if (key == "optional") {
        std::optional<std::string> text = String(it->second, key);
        if (text && (*text == "true" || *text == "false")) {
          column.optional = *text == "true";
        } else if (text) {
          Error(it->second.Mark(), "'optional' takes true or false");
        }
      } else {
        Error(it->first.Mark(), fmt::format("unknown key '{}' in a column; the keys are column, "
                                            "header, cell and optional", key));
      }
    }
    return column;
  }

  uint32_t file_;
  uint32_t first_line_;
  Diagnostics& diagnostics_;
  bool ok_ = true;
};

}  // namespace

Layout DefaultLayout() {
  Layout layout;
  for (std::string_view name : {"type", "origin", "port", "reason", "enabled"}) {
    layout.ingress.columns.push_back(Default(name));
  }
  for (std::string_view name : {"type", "destination", "pod_label", "port", "reason", "enabled"}) {
    layout.egress.columns.push_back(Default(name));
  }
  // Egress tables say when a row applies only when some egress row of the
  // page depends on the configuration.
  layout.egress.columns.back().optional = true;
  return layout;
}

std::optional<Layout> ParseLayout(std::string_view yaml, uint32_t template_file, uint32_t first_line,
                                  Diagnostics& diagnostics) {
  Layout layout = DefaultLayout();
  Reader reader(template_file, first_line, diagnostics);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    reader.Error(e.mark, "malformed YAML: " + e.msg);
    return std::nullopt;
  }
  if (root.IsNull()) return layout;
  if (!root.IsMap()) {
    reader.Error(root.Mark(), "the layout block is a YAML mapping (heading, anchor, headings, note, "
                              "empty, ingress, egress, components)");
    return std::nullopt;
  }
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (!it->first.IsScalar()) {
        reader.Error(it->first.Mark(), "a layout key is a name");
        continue;
      }
      std::string key = it->first.Scalar();
      const YAML::Node value = it->second;  // a copy: the iterator's pair is a temporary
      if (key == "heading") {
        reader.Format(value, key, kHeadingNames, layout.heading);
      } else if (key == "anchor") {
        reader.Format(value, key, kAnchorNames, layout.anchor);
      } else if (key == "note") {
        reader.Format(value, key, kNoteNames, layout.note);
      } else if (key == "empty") {
        reader.Format(value, key, kEmptyNames, layout.empty);
      } else if (key == "headings") {
        if (!value.IsMap()) {
          reader.Error(value.Mark(), "'headings' takes a mapping of component ids to headings");
          continue;
        }
        for (auto h = value.begin(); h != value.end(); ++h) {
          std::string heading;
          reader.Format(h->second, "headings", kHeadingNames, heading);
          if (!h->first.IsScalar()) continue;
          layout.headings[h->first.Scalar()] = heading;
          int line = h->first.Mark().line;
          layout.heading_lines[h->first.Scalar()] = first_line + (line >= 0 ? static_cast<uint32_t>(line) : 0);
        }
      } else if (key == "ingress") {
        reader.Table(value, ir::Direction::kIngress, layout.ingress);
      } else if (key == "egress") {
        reader.Table(value, ir::Direction::kEgress, layout.egress);
      } else if (key == "components") {
        if (!value.IsMap()) {
          reader.Error(value.Mark(), "'components' takes a mapping (ingress, egress, any, none)");
          continue;
        }
        for (auto c = value.begin(); c != value.end(); ++c) {
          std::string sub = c->first.Scalar();
          std::string* slot = sub == "ingress" ? &layout.components_ingress
                              : sub == "egress" ? &layout.components_egress
                              : sub == "any"    ? &layout.any
                              : sub == "none"   ? &layout.none
                                                : nullptr;
          if (slot == nullptr) {
            reader.Error(c->first.Mark(), fmt::format("unknown key '{}' under 'components'; the keys "
                                                      "are ingress, egress, any and none", sub));
            continue;
          }
          if (std::optional<std::string> text = reader.String(c->second, sub)) *slot = *text;
        }
      } else {
        reader.Error(it->first.Mark(),
                     fmt::format("unknown key '{}'; the keys are heading, anchor, headings, note, "
                                 "empty, ingress, egress and components", key));
      }
    }
  } catch (const YAML::Exception& e) {
    reader.Error(e.mark, "malformed layout: " + e.msg);
  }
  if (!reader.ok()) return std::nullopt;
  return layout;
}

std::string Fill(std::string_view format,
                 const std::function<std::optional<std::string>(std::string_view)>& lookup,
                 std::vector<std::string>* unknown) {
  std::string out;
  out.reserve(format.size());
  for (size_t i = 0; i < format.size();) {
    char c = format[i];
    // Liquid's {{ ... }} and {% ... %} pass through whole.
    if (c == '{' && i + 1 < format.size() && (format[i + 1] == '{' || format[i + 1] == '%')) {
      std::string_view close = format[i + 1] == '{' ? "}}" : "%}";
      size_t end = format.find(close, i + 2);
      end = end == std::string_view::npos ? format.size() : end + 2;
      out.append(format.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '{') {
      size_t end = i + 1;
      while (end < format.size() && IsNameChar(format[end])) ++end;
      if (end > i + 1 && end < format.size() && format[end] == '}') {
        std::string_view name = format.substr(i + 1, end - i - 1);
        if (std::optional<std::string> value = lookup(name)) {
          out += *value;
        } else {
          if (unknown != nullptr) unknown->emplace_back(name);
          out.append(format.substr(i, end + 1 - i));
        }
        i = end + 1;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::string Slug(std::string_view heading_text) {
  std::string kept;
  for (char c : heading_text) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (!letter && kept.empty()) continue;  // up to the first letter
    if (letter || digit || c == '-') {
      kept.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    } else if (c == ' ') {
      kept.push_back('-');
    }
  }
  return kept.empty() ? "section" : kept;
}

}  // namespace netpolc::backends::markdown
