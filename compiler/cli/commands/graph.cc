// netpolc graph: the allowed connections as a Graphviz or Mermaid graph.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <map>

#include "backends/source_name.h"
#include "compiler/analysis/connections.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/cli/file_io.h"

namespace netpolc {
namespace {

using analysis::Bdd;
using analysis::Ref;

// "9091", "8000-8100", "UDP 53": TCP goes without saying on edges.
std::string ShortPort(const ir::PortRange& p) {
  std::string out = p.protocol == ir::Protocol::kTcp
                        ? ""
                        : std::string(ir::ProtocolName(p.protocol)) + " ";
  out += std::to_string(p.first);
  if (p.last != p.first) out += "-" + std::to_string(p.last);
  return out;
}

struct Edge {
  std::string from, to;
  std::vector<std::string> lines;  // "9091, 9092", "7443 (internal_tls)"
};

struct Graph {
  std::vector<const analysis::GraphNode*> nodes;
  std::vector<std::string> node_conditions;  // parallel to nodes; "" when always
  std::vector<Edge> edges;
  std::map<std::string, std::string> ids;  // node key -> id in the output
};

Graph BuildGraph(analysis::Model& model, const analysis::ConnectionSet& set) {
  Bdd& bdd = model.bdd();
  Graph graph;
  std::map<std::string, const analysis::GraphNode*> by_key;
  for (size_t i = 0; i < set.nodes.size(); ++i) {
    const analysis::GraphNode& node = set.nodes[i];
    by_key[node.key] = &node;
    graph.ids[node.key] = node.is_component ? "c_" + node.key : fmt::format("p{}", i);
    if (node.exists == Bdd::kFalse) continue;
    graph.nodes.push_back(&node);
    graph.node_conditions.push_back(node.exists == Bdd::kTrue ? "" : bdd.Compact(node.exists));
  }
  for (size_t i = 0; i < set.connections.size();) {
    const analysis::Connection& first = set.connections[i];
    Edge edge{first.from, first.to, {}};
    Ref both = bdd.And(by_key[first.from]->exists, by_key[first.to]->exists);
    Ref dont_care = bdd.Not(both);
    // Ports grouped by condition, in port order of each group's first port.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (; i < set.connections.size() && set.connections[i].from == first.from &&
           set.connections[i].to == first.to;
         ++i) {
      const analysis::Connection& c = set.connections[i];
      std::string when = bdd.Compact(c.when, dont_care);
      if (when == "always") when.clear();
      if (c.dns) when = when.empty() ? "dns" : "dns, " + when;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == when; });
      if (it == groups.end()) {
        groups.push_back({when, {}});
        it = groups.end() - 1;
      }
      it->second.push_back(ShortPort(c.ports));
    }
    for (const auto& [when, ports] : groups) {
      std::string line;
      for (size_t p = 0; p < ports.size(); ++p) line += (p > 0 ? ", " : "") + ports[p];
      if (!when.empty()) line += " (" + when + ")";
      edge.lines.push_back(std::move(line));
    }
    graph.edges.push_back(std::move(edge));
  }
  return graph;
}

std::string NodeId(const Graph& graph, const std::string& key) { return graph.ids.at(key); }

std::string MermaidText(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '"') {
      out += "#quot;";
    } else if (ch == '<') {
      out += "#lt;";
    } else if (ch == '>') {
      out += "#gt;";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string DotText(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

std::string RenderMermaid(const Graph& graph, const std::string& source) {
  std::string out = "flowchart LR\n";
  out += fmt::format("  %% Allowed connections of {} (netpolc graph).\n",
                     backends::SourceNameForComment(source));
  out += "  %% Edge labels: ports (TCP unless named), with the flags they need in parentheses.\n";
  std::vector<std::string> conditional;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const analysis::GraphNode& node = *graph.nodes[i];
    std::string id = NodeId(graph, node.key);
    if (node.is_component) {
      std::string label = MermaidText(node.label);
      if (!graph.node_conditions[i].empty()) {
        label += "<br/>(" + MermaidText(graph.node_conditions[i]) + ")";
        conditional.push_back(id);
      }
      out += fmt::format("  {}[\"{}\"]\n", id, label);
    } else {
      out += fmt::format("  {}([\"{}\"])\n", id, MermaidText(node.label));
    }
  }
  for (const Edge& edge : graph.edges) {
    std::string label;
    for (size_t i = 0; i < edge.lines.size(); ++i) {
      label += (i > 0 ? "<br/>" : "") + MermaidText(edge.lines[i]);
    }
    out += fmt::format("  {} -->|\"{}\"| {}\n", NodeId(graph, edge.from), label, NodeId(graph, edge.to));
  }
  if (!conditional.empty()) {
    out += "  classDef conditional stroke-dasharray: 5 5\n";
    std::string ids;
    for (const std::string& id : conditional) ids += (ids.empty() ? "" : ",") + id;
    out += fmt::format("  class {} conditional\n", ids);
  }
  return out;
}

std::string RenderDot(const Graph& graph, const std::string& source) {
  std::string out = fmt::format("// Allowed connections of {} (netpolc graph).\n",
                                backends::SourceNameForComment(source));
  out += "// Edge labels: ports (TCP unless named), with the flags they need in parentheses.\n";
  out += "digraph netpol {\n  rankdir=LR;\n  node [shape=box];\n";
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const analysis::GraphNode& node = *graph.nodes[i];
    std::string id = NodeId(graph, node.key);
    if (node.is_component) {
      std::string label = DotText(node.label);
      std::string style;
      if (!graph.node_conditions[i].empty()) {
        label += "\\n(" + DotText(graph.node_conditions[i]) + ")";
        style = ", style=dashed";
      }
      out += fmt::format("  \"{}\" [label=\"{}\"{}];\n", id, label, style);
    } else {
      out += fmt::format("  \"{}\" [label=\"{}\", shape=ellipse];\n", id, DotText(node.label));
    }
  }
  for (const Edge& edge : graph.edges) {
    std::string label;
    for (size_t i = 0; i < edge.lines.size(); ++i) {
      label += (i > 0 ? "\\n" : "") + DotText(edge.lines[i]);
    }
    out += fmt::format("  \"{}\" -> \"{}\" [label=\"{}\"];\n", NodeId(graph, edge.from), NodeId(graph, edge.to),
                       label);
  }
  out += "}\n";
  return out;
}

}  // namespace

std::string GraphUsage() {
  return "Usage: netpolc graph FILE [--format mermaid|dot] [--set NAME=VALUE]...\n"
         "                     [--values FILE.yaml]... [--defaults] [--dns] [-o OUT]\n"
         "\n"
         "Draws the allowed connections: components are nodes (dashed when they exist\n"
         "only under a condition), other peers (anywhere, external, instance, CIDRs,\n"
         "pods by labels) are rounded nodes, and edges carry the ports, with the flags\n"
         "each port needs when flags are left open. Between two components an edge\n"
         "means both the source's egress and the destination's ingress allow it.\n"
         "\n"
         "Options:\n"
         "  --format FORMAT      mermaid (the default; renders in Markdown) or dot\n"
         "  --set, --values      flag and parameter values (as for build); later ones win\n"
         "  --defaults           flags not set keep their declared defaults\n"
         "  --dns                include the name-resolution (DNS) edges\n"
         "  -o, --output OUT     write to OUT instead of stdout (as build -o does)\n"
         "\n"
         "Exit status: 0 success; 1 errors in the rules file, or a condition too complex\n"
         "to analyse (see docs/analysis.md); 2 usage errors, bad values, or files that\n"
         "cannot be read or written.\n";
}

int RunGraph(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--format");
  args.Value("--set");
  args.Value("--values");
  args.Switch("--defaults");
  args.Switch("--dns");
  args.Value("--output", "-o");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "graph", error);
  if (args.help()) {
    out += GraphUsage();
    return kExitOk;
  }
  if (args.positional().size() != 1) {
    return UsageError(err, "graph", args.positional().empty() ? "graph needs a rules file"
                                                              : "graph takes one rules file");
  }
  std::string format = args.Get("--format").value_or("mermaid");
  if (format != "mermaid" && format != "dot") {
    return UsageError(err, "graph",
                      fmt::format("unknown format '{}'; expected mermaid or dot", format));
  }
  const std::string& path = args.positional()[0];
  if (std::optional<std::string> output = args.Get("--output")) {
    std::vector<std::string> inputs = {path};
    for (const std::string& values : args.All("--values")) inputs.push_back(values);
    if (std::optional<std::string> input = FindOutputAmongInputs(*output, inputs)) {
      return OutputIsInputError(err, *output, *input);
    }
  }
  int status = kExitOk;
  std::optional<AnalysisInput> input =
      LoadAnalysisInput(path, ConfigSettings(args), args.Has("--defaults"), err, status);
  if (!input) return status;

  Bdd bdd;
  std::optional<analysis::Model> model;
  std::string rendered;
  bool analysed = Analyse(
      input->compilation->sources,
      [&] {
        model.emplace(input->module, input->config, bdd,
                      analysis::Model::BindFlags(input->module, input->config, input->fixed, bdd));
        analysis::ConnectionSet set = analysis::Connections(*model, args.Has("--dns"));
        Graph graph = BuildGraph(*model, set);
        rendered = format == "dot" ? RenderDot(graph, path) : RenderMermaid(graph, path);
      },
      [&] { return model ? model->focus() : SourceLoc{}; }, err);
  if (!analysed) return kExitInputErrors;

  std::optional<std::string> output = args.Get("--output");
  if (output && *output != "-") {
    if (!WriteFileAtomically(*output, rendered, error)) {
      err += fmt::format("netpolc: error: cannot write '{}': {}\n", *output, error);
      return kExitUsage;
    }
  } else {
    out += rendered;
  }
  return kExitOk;
}

}  // namespace netpolc
