// Renders the module (symbolic: conditions unevaluated) as Markdown tables.
//
// Without --set every rule is shown with the condition it depends on; with
// --set only what the configuration deploys: components and rules whose
// condition is false are left out, and so are component peers that are not
// deployed (as Instantiate drops them from the policies).
//
// The page is either the default one or a template whose marker lines
//   <!-- netpolc:ingress -->   and   <!-- netpolc:egress -->
// are replaced by the sections. Everything else in the template is copied
// byte for byte, so Jekyll's {{ ... }} needs no escaping.
#include "backends/markdown/markdown.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/markdown/table.h"
#include "backends/markdown/wording.h"

namespace netpolc::backends::markdown {
namespace {

using ir::Direction;

constexpr std::string_view kMarkerOpen = "<!--";
constexpr std::string_view kMarkerPrefix = "netpolc:";
constexpr std::string_view kMarkerClose = "-->";

struct Row {
  std::vector<std::string> cells;  // without "Enabled in policy"
  std::string enabled;
  bool conditional = false;
};

struct Block {
  const ir::Component* component = nullptr;
  std::vector<Row> rows;
};

// "8080", "9092-9094", "53, 8080" for the ranges of one protocol.
std::string PortsText(const std::vector<ir::PortRange>& ranges) {
  std::string out;
  for (const ir::PortRange& range : ranges) {
    if (!out.empty()) out += ", ";
    out += std::to_string(range.first);
    if (range.last != range.first) out += "-" + std::to_string(range.last);
  }
  return out;
}

// Sorted (by protocol, then port) with overlapping ranges merged, as the
// policies have them. The module promises canonical ports; this keeps the page
// right should a rule's ports arrive in the order written.
std::vector<ir::PortRange> SortedPorts(std::vector<ir::PortRange> ports) {
  std::sort(ports.begin(), ports.end());
  std::vector<ir::PortRange> out;
  for (const ir::PortRange& p : ports) {
    if (!out.empty() && out.back().protocol == p.protocol && out.back().last >= p.first) {
      out.back().last = std::max(out.back().last, p.last);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

class Renderer {
 public:
  explicit Renderer(const Input& input) : input_(input), wording_(input.module, input.config, enabled_) {
    const ir::Module& module = input.module;
    enabled_.reserve(module.components.size());
    for (const ir::Component& c : module.components) {
      enabled_.push_back(input.all_configurations || c.when.Evaluate(input.config.flags));
    }
  }

  // The section of one direction, without a final line break.
  std::string Section(Direction direction) const {
    std::vector<Block> blocks;
    bool conditional = false;
    const ir::Module& module = input_.module;
    for (size_t i = 0; i < module.components.size(); ++i) {
      if (!enabled_[i]) continue;
      Block block{&module.components[i], {}};
      for (const ir::Rule& rule : block.component->rules) {
        if (rule.direction != direction) continue;
        if (!input_.all_configurations && !rule.when.Evaluate(input_.config.flags)) continue;
        AddRows(rule, block.rows);
      }
      if (block.rows.empty()) continue;
      for (const Row& row : block.rows) conditional = conditional || row.conditional;
      blocks.push_back(std::move(block));
    }
    if (blocks.empty()) {
      return direction == Direction::kIngress ? "No component has ingress rules."
                                              : "No component has egress rules.";
    }
    // Ingress tables always say when a row applies; egress tables only when
    // some egress row depends on the configuration (so every egress table of
    // the page has the same columns).
    bool enabled_column = direction == Direction::kIngress || conditional;
    std::vector<std::string> header =
        direction == Direction::kIngress
            ? std::vector<std::string>{"**Type**", "**Origin**", "**Port**", "**Reason**"}
            : std::vector<std::string>{"**Type**", "**Destination**", "**Pod Label**", "**Port**",
                                       "**Reason**"};
    if (enabled_column) header.push_back("**Enabled in policy**");

    std::string out;
    for (const Block& block : blocks) {
      if (!out.empty()) out += "\n\n";
      out += "### " + block.component->name + " pod\n\n";
      Table table(header);
      for (const Row& row : block.rows) {
        std::vector<std::string> cells = row.cells;
        if (enabled_column) cells.push_back(row.enabled);
        table.AddRow(std::move(cells));
      }
      table.Render(out);
      out.pop_back();  // the table's last line break
      for (const ir::Note& note : block.component->notes) {
        if (note.direction == direction) out += "\n\n**Note:** " + note.text;
      }
    }
    return out;
  }

 private:
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

  // The Port cell of each protocol of a rule: numbers and ranges (from
  // literals and parameters with values), then `$param` for parameters
  // without a value, then container port names.
  std::map<ir::Protocol, std::string> PortCells(const ir::Rule& rule) const {
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
    for (const ir::PortRange& r : SortedPorts(numbered)) by_protocol[r.protocol].push_back(r);
    std::map<ir::Protocol, std::string> cells;
    for (const auto& [protocol, ranges] : by_protocol) cells[protocol] = PortsText(ranges);
    for (const auto& [protocol, items] : extra) {
      std::string& cell = cells[protocol];
      for (const std::string& item : items) cell += (cell.empty() ? "" : ", ") + item;
    }
    return cells;
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
      // A rule's `port_doc` replaces the Port cell ("User Supplied").
      const std::string& ports_text = rule.port_doc.empty() ? cell : rule.port_doc;
      Row row;
      std::string type(ir::ProtocolName(protocol));
      if (rule.direction == Direction::kIngress) {
        row.cells = {type, words.origin, ports_text, rule.reason};
      } else {
        row.cells = {type, words.destination, words.pod_label, ports_text, rule.reason};
      }
      row.enabled = enabled;
      row.conditional = conditional;
      rows.push_back(std::move(row));
    }
  }

  const Input& input_;
  std::vector<bool> enabled_;
  PeerWording wording_;
};

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// The name of a marker line ("ingress" for "<!-- netpolc:ingress -->"), or
// nullopt when the line is no marker. Sets `malformed` when the line mentions
// a marker but is not one.
std::optional<std::string> MarkerName(std::string_view line, bool& malformed) {
  malformed = false;
  size_t open = line.find(kMarkerOpen);
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view rest = Trim(line.substr(open + kMarkerOpen.size()));
  if (rest.rfind(kMarkerPrefix, 0) != 0) return std::nullopt;  // an ordinary comment
  std::string_view trimmed = Trim(line);
  if (trimmed.rfind(kMarkerOpen, 0) != 0 || trimmed.size() < kMarkerOpen.size() + kMarkerClose.size() ||
      trimmed.substr(trimmed.size() - kMarkerClose.size()) != kMarkerClose) {
    malformed = true;
    return std::nullopt;
  }
  std::string_view inner =
      Trim(trimmed.substr(kMarkerOpen.size(), trimmed.size() - kMarkerOpen.size() - kMarkerClose.size()));
  std::string_view name = Trim(inner.substr(kMarkerPrefix.size()));
  if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
    malformed = true;
    return std::nullopt;
  }
  return std::string(name);
}

std::string MarkerFor(std::string_view name) {
  return "<!-- netpolc:" + std::string(name) + " -->";
}

// Replaces the marker lines of `text`. Reports every problem and returns
// false when there is one.
bool FillTemplate(std::string_view text, uint32_t template_file, const Renderer& renderer,
                  std::string& out, Diagnostics& diagnostics) {
  static constexpr std::string_view kNames[] = {"ingress", "egress"};
  std::string result;
  result.reserve(text.size() * 2);
  size_t found[2] = {0, 0};
  size_t first_line[2] = {0, 0};
  bool ok = true;
  size_t line_number = 0;
  // Errors point at the template line (1:1 for a missing marker).
  auto error = [&](const std::string& message) {
    SourceLoc loc{template_file, static_cast<uint32_t>(std::max<size_t>(line_number, 1)), 1, 1};
    diagnostics.Emit(DiagnosticKind::kInvalidTemplate, loc, message);
    ok = false;
  };
  for (size_t start = 0; start < text.size();) {
    size_t newline = text.find('\n', start);
    size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    std::string_view line = text.substr(start, end - start);
    std::string_view body = line.substr(0, line.size() - (newline == std::string_view::npos ? 0 : 1));
    start = end;
    ++line_number;
    bool malformed = false;
    std::optional<std::string> name = MarkerName(body, malformed);
    if (malformed) {
      error(fmt::format("a marker must stand alone on its line, written {} or {}",
                        MarkerFor("ingress"), MarkerFor("egress")));
      continue;
    }
    if (!name) {
      result.append(line);
      continue;
    }
    size_t which = 0;
    while (which < 2 && kNames[which] != *name) ++which;
    if (which == 2) {
      error(fmt::format("unknown marker '{}'; the markers are {} and {}", *name,
                        MarkerFor("ingress"), MarkerFor("egress")));
      continue;
    }
    if (found[which]++ > 0) {
      error(fmt::format("{} appears a second time (first on line {})", MarkerFor(*name),
                        first_line[which]));
      continue;
    }
    first_line[which] = line_number;
    result += renderer.Section(which == 0 ? Direction::kIngress : Direction::kEgress);
    // Keep the marker line's own ending.
    result.append(line.substr(body.size()));
  }
  line_number = 0;
  for (size_t which = 0; which < 2; ++which) {
    if (found[which] == 0) {
      error(fmt::format("the template has no {} line, where the {} tables go", MarkerFor(kNames[which]),
                        kNames[which]));
    }
  }
  if (!ok) return false;
  out += result;
  return true;
}

std::string BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void DefaultPage(const Input& input, const Renderer& renderer, std::string& out) {
  out += "<!-- Generated by netpolc from " + BaseName(input.source_name) +
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
  out += renderer.Section(Direction::kIngress);
  out += "\n\n## Outbound network connections (egress)\n\n";
  out += renderer.Section(Direction::kEgress);
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
    Renderer renderer(input);
    if (input.template_text) {
      return FillTemplate(*input.template_text, input.template_file, renderer, out, diagnostics);
    }
    DefaultPage(input, renderer, out);
    return true;
  }
};

}  // namespace

const Backend& Instance() {
  static const MarkdownBackend backend;
  return backend;
}

}  // namespace netpolc::backends::markdown
