// Renders the module (symbolic: conditions unevaluated) as Markdown tables.
//
// Without --set every rule is shown with the condition it depends on; with
// --set only what the configuration deploys: components and rules whose
// condition is false are left out, and so are component peers that are not
// deployed (as Instantiate drops them from the policies).
//
// The page is either the default one or a template (page_template.h) whose
// marker lines are replaced by the sections, laid out as its layout block
// says (layout.h). Everything else in the template is copied byte for byte,
// so Jekyll's {{ ... }} needs no escaping.
#include "backends/markdown/markdown.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/markdown/escape.h"
#include "backends/markdown/layout.h"
#include "backends/markdown/page_template.h"
#include "backends/markdown/table.h"
#include "backends/markdown/wording.h"
#include "backends/source_name.h"
#include "backends/yaml_writer.h"

namespace netpolc::backends::markdown {
namespace {

using ir::Direction;


// One row of a table: the value of every column, before the layout's
// wording.
struct Row {
  const ir::Rule* rule = nullptr;
  std::string type;
  std::string peers;      // Origin (ingress) or Destination (egress)
  std::string pod_label;
  std::string port;       // "53, 8080", "9000-9010"
  std::string port_words;  // "port 53", "ports 2888 and 3888"
  std::string enabled;
  bool conditional = false;
};

// A component shown on the page. Its rows are made when its tables are
// written (Renderer::Rows), so that the rows of every component never exist
// at once.
struct Block {
  const ir::Component* component = nullptr;
  std::vector<const ir::Rule*> rules[2];  // by direction: the rules shown
  bool has_rows[2] = {false, false};      // some rule gives rows
  bool conditional[2] = {false, false};   // some row depends on the configuration
  bool any[2] = {false, false};  // the direction admits every connection
  bool isolated[2] = {true, true};  // the component's policy restricts the direction
};

size_t Index(Direction direction) { return direction == Direction::kIngress ? 0 : 1; }

std::string PortText(const ir::PortRange& range) {
  std::string out = std::to_string(range.first);
  if (range.last != range.first) out += "-" + std::to_string(range.last);
  return out;
}

// "8080", "9092-9094", "53, 8080" for the ranges of one protocol.
std::string PortsText(const std::vector<ir::PortRange>& ranges) {
  std::string out;
  for (const ir::PortRange& range : ranges) {
    if (!out.empty()) out += ", ";
    out += PortText(range);
  }
  return out;
}

// "port 8080", "ports 9092-9094", "ports 2888 and 3888".
std::string PortWords(const std::vector<ir::PortRange>& ranges) {
  std::vector<std::string> items;
  for (const ir::PortRange& range : ranges) items.push_back(PortText(range));
  bool several = ranges.size() > 1 || (ranges.size() == 1 && ranges[0].first != ranges[0].last);
  return (several ? "ports " : "port ") + JoinList(items, "and");
}


// Whether the ports cover every port of every protocol.
bool EveryPort(const std::vector<ir::PortRange>& sorted) {
  size_t protocols = 0;
  for (const ir::PortRange& p : sorted) {
    if (p.first <= 1 && p.last >= 65535) ++protocols;
  }
  return protocols >= 3;
}

class Renderer {
 public:
  Renderer(const Input& input, const Layout& layout)
      : input_(input), layout_(layout), wording_(input.module, input.config, enabled_) {
    const ir::Module& module = input.module;
    enabled_.reserve(module.components.size());
    for (const ir::Component& c : module.components) {
      enabled_.push_back(input.all_configurations || c.when.Evaluate(input.config.flags));
    }
    for (size_t i = 0; i < module.components.size(); ++i) {
      if (!enabled_[i]) continue;
      // As in the policies (Instantiate): a component's policy isolates a
      // side as its `isolate` item says, or when it has rules of that
      // direction; `policy when` and `isolate ... when` make that depend on
      // the configuration, and the rows of such a side say so.
      Block block;
      block.component = &module.components[i];
      const ir::Component& c = *block.component;
      ir::Condition sides[2] = {ir::SideCondition(c, Direction::kIngress),
                                ir::SideCondition(c, Direction::kEgress)};
      block.isolated[0] = c.isolate_ingress.has_value() || c.has_ingress();
      block.isolated[1] = c.isolate_egress.has_value() || c.has_egress();
      for (size_t d = 0; d < 2; ++d) {
        if (!input.all_configurations && !sides[d].Evaluate(input.config.flags)) {
          block.isolated[d] = false;
        }
      }
      if (!block.isolated[0] && !block.isolated[1]) continue;
      for (const ir::Rule& rule : block.component->rules) {
        if (!input_.all_configurations && !rule.when.Evaluate(input_.config.flags)) continue;
        size_t d = Index(rule.direction);
        if (!block.isolated[d]) continue;  // not in force: the side admits everything
        if (AdmitsEverything(rule)) block.any[d] = true;
        const ir::Rule* shown = &rule;
        if (!sides[d].always()) {
          // Rows point at their rule: the combined rule lives as long as
          // the renderer.
          in_force_.push_back(rule);
          in_force_.back().when = ir::AndConditions(sides[d], rule.when);
          shown = &in_force_.back();
        }
        if (!GivesRows(*shown)) continue;
        block.rules[d].push_back(shown);
        block.has_rows[d] = true;
        if (ConditionText(module, shown->when) != "Always") block.conditional[d] = true;
      }
      blocks_.push_back(std::move(block));
    }
  }

  // Appends the section, without a final line break. The components'
  // tables are written in parallel (compiler/parallel.h), a batch at a time.
  void Render(Section section,
              const std::map<std::pair<Section, std::string>, std::vector<std::string>>& prose,
              std::string& out) const {
    if (section == Section::kComponents) return Components(prose, out);
    Direction direction = section == Section::kIngress ? Direction::kIngress : Direction::kEgress;
    size_t d = Index(direction);
    std::vector<ColumnLayout> columns = Columns(direction);
    std::vector<const Block*> shown;
    for (const Block& block : blocks_) {
      if (block.has_rows[d]) shown.push_back(&block);
    }
    if (shown.empty()) {
      out += OneLine(Fill(layout_.empty, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "direction") return std::string(SectionName(section));
        return std::nullopt;
      }));
      return;
    }
    AppendDocuments(shown.size(), out, [&](size_t k, std::string& text) {
      const Block& block = *shown[k];
      if (k > 0) text += "\n\n";
      text += Heading(*block.component);
      text += "\n\n";
      text += TableText(Rows(block, d), columns);
      text += Notes(*block.component, direction);
      text += Prose(prose, section, *block.component);
    });
  }

  // Whether some shown rule has this direction.
  bool HasRows(Direction direction) const {
    for (const Block& block : blocks_) {
      if (block.has_rows[Index(direction)]) return true;
    }
    return false;
  }

 private:
  void Components(const std::map<std::pair<Section, std::string>, std::vector<std::string>>& prose,
                  std::string& out) const {
    std::vector<ColumnLayout> columns[2] = {Columns(Direction::kIngress), Columns(Direction::kEgress)};
    if (blocks_.empty()) {
      out += OneLine(Fill(layout_.empty, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "direction") return std::string("ingress or egress");
        return std::nullopt;
      }));
      return;
    }
    AppendDocuments(blocks_.size(), out, [&](size_t k, std::string& text) {
      const Block& block = blocks_[k];
      if (k > 0) text += "\n\n";
      text += Heading(*block.component);
      for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
        size_t d = Index(direction);
        text += "\n\n";
        text += OneLine(direction == Direction::kIngress ? layout_.components_ingress
                                                         : layout_.components_egress);
        if (block.any[d] || (!block.has_rows[d] && !block.isolated[d])) {
          text += " " + OneLine(layout_.any);
        } else if (!block.has_rows[d]) {
          text += " " + OneLine(layout_.none);
        } else {
          text += "\n\n";
          text += TableText(Rows(block, d), columns[d]);
        }
        text += Notes(*block.component, direction);
      }
      text += Prose(prose, Section::kComponents, *block.component);
    });
  }

  // The columns of a direction's tables on this page: an optional column only
  // when some row of that direction depends on the configuration.
  std::vector<ColumnLayout> Columns(Direction direction) const {
    bool conditional = false;
    for (const Block& block : blocks_) conditional = conditional || block.conditional[Index(direction)];
    std::vector<ColumnLayout> out;
    for (const ColumnLayout& column : layout_.table(direction).columns) {
      if (!column.optional || conditional) out.push_back(column);
    }
    return out;
  }

  // The rows of a block's tables of one direction.
  std::vector<Row> Rows(const Block& block, size_t d) const {
    std::vector<Row> rows;
    for (const ir::Rule* rule : block.rules[d]) AddRows(*rule, rows);
    return rows;
  }

  std::string Heading(const ir::Component& component) const {
    auto it = layout_.headings.find(component.id);
    const std::string& format = it != layout_.headings.end() ? it->second : layout_.heading;
    std::string heading = OneLine(Fill(format, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "name") return OneLine(component.name);
      if (name == "id") return component.id;
      return std::nullopt;
    }));
    if (layout_.anchor.empty()) return heading;
    std::string_view text = heading;
    while (!text.empty() && text.front() == '#') text.remove_prefix(1);
    std::string slug = Slug(text);
    return heading + "\n" + OneLine(Fill(layout_.anchor, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "slug") return slug;
      if (name == "id") return component.id;
      return std::nullopt;
    }));
  }

  std::string Notes(const ir::Component& component, Direction direction) const {
    std::string out;
    for (const ir::Note& note : component.notes) {
      if (note.direction != direction) continue;
      out += "\n\n";
      out += OneLine(Fill(layout_.note, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "text") return OneLine(note.text);
        return std::nullopt;
      }));
    }
    return out;
  }

  static std::string Prose(const std::map<std::pair<Section, std::string>, std::vector<std::string>>& prose,
                           Section section, const ir::Component& component) {
    auto it = prose.find({section, component.id});
    if (it == prose.end()) return {};
    std::string out;
    for (const std::string& line : it->second) out += "\n" + line;
    return out;
  }

  // The table of some rows, without a final line break.
  std::string TableText(const std::vector<Row>& rows, const std::vector<ColumnLayout>& columns) const {
    std::vector<std::string> header;
    header.reserve(columns.size());
    for (const ColumnLayout& column : columns) header.push_back(EscapeCell(column.header));
    Table table(std::move(header));
    for (const Row& row : rows) {
      std::vector<std::string> cells;
      cells.reserve(columns.size());
      for (const ColumnLayout& column : columns) cells.push_back(Cell(row, column));
      table.AddRow(std::move(cells));
    }
    std::string out;
    table.Render(out);
    out.pop_back();  // the table's last line break
    return out;
  }

  static std::string Cell(const Row& row, const ColumnLayout& column) {
    auto lookup = [&](std::string_view name) -> std::optional<std::string> {
      if (name == "type") return row.type;
      if (name == "peers") return row.peers;
      if (name == "pod_label") return row.pod_label;
      if (name == "port") return row.port;
      if (name == "port_words") return row.port_words;
      if (name == "reason") return row.rule->reason;
      if (name == "enabled") return row.enabled;
      return std::nullopt;
    };
    // A rule's own cell replaces the layout's wording of its peer and label
    // columns; it may use the same placeholders.
    bool peer_column = column.column == Column::kOrigin || column.column == Column::kDestination;
    if (peer_column && !row.rule->peer_cell.empty()) return Fill(row.rule->peer_cell, lookup);
    if (column.column == Column::kPodLabel && !row.rule->label_cell.empty()) {
      return Fill(row.rule->label_cell, lookup);
    }
    return Fill(column.cell, lookup);
  }

  // A rule that admits anywhere on every port of every protocol, whatever
  // the configuration.
  bool AdmitsEverything(const ir::Rule& rule) const {
    if (input_.all_configurations && !rule.when.always()) return false;
    if (!EveryPort(ir::NormalisePorts(rule.ports))) return false;
    for (const ir::PeerRef& peer : rule.peers) {
      if (peer.kind == ir::PeerRef::Kind::kAnywhere) return true;
      if (peer.kind == ir::PeerRef::Kind::kParam && peer.index < input_.config.params.size()) {
        for (const ir::PeerRef& inner : input_.config.params[peer.index].peers) {
          if (inner.kind == ir::PeerRef::Kind::kAnywhere) return true;
        }
      }
    }
    return false;
  }

  // One end of a port from a parameter: its value in the configuration, or
  // `$name` when it has none.
  std::optional<uint16_t> PortEnd(const ir::ValueRef& v, std::string& text) const {
    if (v.kind == ir::ValueRef::Kind::kLiteral) {
      text = v.literal;
      int64_t n = v.literal.size() > 6 ? 0 : std::stoll(v.literal.empty() ? "0" : v.literal);
      if (n >= 1 && n <= 65535) return static_cast<uint16_t>(n);
      return std::nullopt;
    }
    const std::vector<ir::Param>& params = input_.module.params;
    const std::vector<ir::ParamValue>& values = input_.config.params;
    text = "$" + (v.param < params.size() ? params[v.param].name : std::string());
    if (v.param >= values.size() || values[v.param].missing) return std::nullopt;
    int64_t n = values[v.param].integer;
    text = std::to_string(n);
    if (n >= 1 && n <= 65535) return static_cast<uint16_t>(n);
    return std::nullopt;
  }

  // The ports of each protocol of a rule, as the Port cell and as words:
  // numbers and ranges (from literals and parameters with values), then
  // `$param` for parameters without a value, then container port names.
  std::map<ir::Protocol, std::pair<std::string, std::string>> PortCells(const ir::Rule& rule) const {
    std::vector<ir::PortRange> numbered = rule.ports;
    std::map<ir::Protocol, std::vector<std::string>> extra;
    for (const ir::PortRef& ref : rule.port_refs) {
      std::string first, last;
      std::optional<uint16_t> a = PortEnd(ref.first, first), b = PortEnd(ref.last, last);
      if (a && b && *a <= *b) {
        numbered.push_back({ref.protocol, *a, *b});
      } else {
        extra[ref.protocol].push_back(first == last ? first : first + "-" + last);
      }
    }
    for (const ir::NamedPort& p : rule.named_ports) extra[p.protocol].push_back(p.name);
    std::map<ir::Protocol, std::vector<ir::PortRange>> by_protocol;
    // Canonical order, should a rule's ports arrive in the order written.
    for (const ir::PortRange& r : ir::NormalisePorts(numbered)) by_protocol[r.protocol].push_back(r);
    for (const auto& [protocol, items] : extra) by_protocol[protocol];
    std::map<ir::Protocol, std::pair<std::string, std::string>> cells;
    for (const auto& [protocol, ranges] : by_protocol) {
      const std::vector<std::string>& more = extra[protocol];
      if (more.empty()) {
        cells[protocol] = {PortsText(ranges), PortWords(ranges)};
        continue;
      }
      std::vector<std::string> items;
      for (const ir::PortRange& r : ranges) items.push_back(PortText(r));
      items.insert(items.end(), more.begin(), more.end());
      std::string text;
      for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
      bool several = items.size() > 1 || (ranges.size() == 1 && ranges[0].first != ranges[0].last);
      cells[protocol] = {text, (several ? "ports " : "port ") + JoinList(items, "and")};
    }
    return cells;
  }

  // Whether AddRows gives the rule rows (else it admits nothing).
  bool GivesRows(const ir::Rule& rule) const {
    if (rule.ports.empty() && rule.port_refs.empty() && rule.named_ports.empty()) return false;
    return !wording_.AdmitsNoPeer(rule);
  }

  // One row per protocol of the rule (ports are sorted by protocol first).
  void AddRows(const ir::Rule& rule, std::vector<Row>& rows) const {
    PeerWording::Words words = wording_.Word(rule);
    if (words.empty || (rule.ports.empty() && rule.port_refs.empty() && rule.named_ports.empty())) {
      return;  // admits nothing, as in the policies
    }
    std::string enabled = ConditionText(input_.module, rule.when);
    bool conditional = enabled != "Always";
    for (const auto& [protocol, cell] : PortCells(rule)) {
      Row row;
      row.rule = &rule;
      row.type = std::string(ir::ProtocolName(protocol));
      row.peers = rule.direction == Direction::kIngress ? words.origin : words.destination;
      row.pod_label = words.pod_label;
      // A rule's `port_doc` words its ports ("User Supplied"), in the Port
      // cell and wherever the layout says the ports.
      row.port = rule.port_doc.empty() ? cell.first : rule.port_doc;
      row.port_words = rule.port_doc.empty() ? cell.second : rule.port_doc;
      row.enabled = enabled;
      row.conditional = conditional;
      rows.push_back(std::move(row));
    }
  }

  const Input& input_;
  const Layout& layout_;
  std::vector<bool> enabled_;
  PeerWording wording_;
  std::deque<ir::Rule> in_force_;  // rules with their side's condition
  std::vector<Block> blocks_;
};

bool FillTemplate(std::string_view text, const Input& input, std::string& out,
                  Diagnostics& diagnostics) {
  std::optional<PageTemplate> page = ParseTemplate(text, input.template_file, diagnostics);
  if (!page) return false;
  bool ok = true;
  auto error_at = [&](uint32_t line, const std::string& message) {
    diagnostics.Emit(DiagnosticKind::kInvalidTemplate, SourceLoc{input.template_file, line, 1, 1},
                     message);
    ok = false;
  };
  // Every rule of the rules file has a place on the page.
  bool components = page->has[static_cast<size_t>(Section::kComponents)];
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    Section section = direction == Direction::kIngress ? Section::kIngress : Section::kEgress;
    if (components || page->has[static_cast<size_t>(section)]) continue;
    bool has_rules = false;
    for (const ir::Component& c : input.module.components) {
      has_rules = has_rules || (direction == Direction::kIngress ? c.has_ingress() : c.has_egress());
    }
    if (has_rules) {
      error_at(1, fmt::format("the template has no <!-- netpolc:{0} --> line, where the {0} tables go "
                              "(or <!-- netpolc:components -->)",
                              SectionName(section)));
    }
  }
  for (const auto& [key, line] : page->prose_line) {
    if (!input.module.FindComponent(key.second)) {
      error_at(line, fmt::format("a prose block after '{}', which is no component", key.second));
    }
  }
  for (const auto& [id, heading] : page->layout.headings) {
    if (!input.module.FindComponent(id)) {
      error_at(page->layout.heading_lines[id],
               fmt::format("layout: 'headings' names '{}', which is no component", id));
    }
  }
  if (!ok) return false;
  Renderer renderer(input, page->layout);
  for (const PageTemplate::Piece& piece : page->pieces) {
    if (piece.section) renderer.Render(*piece.section, page->prose, out);
    out += piece.text;
  }
  return true;
}

std::string BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void DefaultPage(const Input& input, std::string& out) {
  Layout layout = DefaultLayout();
  Renderer renderer(input, layout);
  const std::map<std::pair<Section, std::string>, std::vector<std::string>> no_prose;
  out += "<!-- Generated by netpolc from " + SourceNameForComment(BaseName(input.source_name)) +
         ". Do not edit: change the rules and build again. -->\n\n";
  out += "# Network policies\n\n";
  if (!input.all_configurations) {
    std::vector<std::string> settings;
    for (size_t i = 0; i < input.module.flags.size() && i < input.config.flags.size(); ++i) {
      settings.push_back("`" + input.module.flags[i].name + "=" +
                         (input.config.flags[i] ? "true" : "false") + "`");
    }
    out += "This page documents one configuration";
    out += settings.empty() ? std::string(".") : " (" + JoinList(settings, "and") + ").";
    out += "\n\n";
  }
  out += "## Inbound network connections (ingress)\n\n";
  renderer.Render(Section::kIngress, no_prose, out);
  out += "\n\n## Outbound network connections (egress)\n\n";
  renderer.Render(Section::kEgress, no_prose, out);
  out += "\n";
}

class MarkdownBackend : public Backend {
 public:
  std::string_view name() const override { return "markdown"; }
  std::string_view description() const override {
    return "the network policies documentation page (Markdown tables; takes --template)";
  }
  bool needs_policies() const override { return false; }
  bool takes_template() const override { return true; }

  bool Render(const Input& input, std::string& out, Diagnostics& diagnostics) const override {
    if (input.template_text) return FillTemplate(*input.template_text, input, out, diagnostics);
    DefaultPage(input, out);
    return true;
  }
};

}  // namespace

const Backend& Instance() {
  static const MarkdownBackend backend;
  return backend;
}

}  // namespace netpolc::backends::markdown
