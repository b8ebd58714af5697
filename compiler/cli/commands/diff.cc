// netpolc diff: the connections added and removed between two rule files, or
// two configurations of one file.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <map>
#include <tuple>

#include "compiler/analysis/connections.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"

namespace netpolc {
namespace {

using analysis::Bdd;
using analysis::Ref;

struct Row {
  bool added;
  std::string from, to;
  ir::PortRange ports;
  bool dns;
  std::string when;
};

std::string Display(const std::string& key) {
  return key.rfind("peer:", 0) == 0 ? key.substr(5) : key;
}

// Flags of both files share variables by name, so conditions compare. The
// diagram order is the old file's FlagOrder, then the new file's flags it
// adds; texts list them in the old file's declaration order, then the new's.
std::vector<Ref> Bind(const AnalysisInput& input, Bdd& bdd, std::map<std::string, uint32_t>& vars) {
  std::vector<Ref> refs(input.module.flags.size(), Bdd::kFalse);
  uint32_t rank_base = static_cast<uint32_t>(bdd.var_count());
  for (uint32_t i : analysis::FlagOrder(input.module)) {
    const std::string& name = input.module.flags[i].name;
    if (input.fixed[i]) {
      refs[i] = bdd.Constant(input.config.flags[i]);
      continue;
    }
    auto it = vars.find(name);
    if (it == vars.end()) it = vars.emplace(name, bdd.NewVar(name, rank_base + i)).first;
    refs[i] = bdd.Var(it->second);
  }
  return refs;
}

// The rows of connections added and removed, with the configurations in
// which each change holds.
std::vector<Row> Compare(const analysis::ConnectionSet& before, const analysis::ConnectionSet& after,
                         Bdd& bdd) {
  // (from, to, protocol, dns) -> pieces of each side.
  using Key = std::tuple<std::string, std::string, ir::Protocol, bool>;
  std::map<Key, std::pair<std::vector<analysis::Connection>, std::vector<analysis::Connection>>> groups;
  for (const analysis::Connection& c : before.connections) {
    groups[{Display(c.from), Display(c.to), c.ports.protocol, c.dns}].first.push_back(c);
  }
  for (const analysis::Connection& c : after.connections) {
    groups[{Display(c.from), Display(c.to), c.ports.protocol, c.dns}].second.push_back(c);
  }
  std::vector<Row> rows;
  for (const auto& [key, sides] : groups) {
    const auto& [from, to, protocol, dns] = key;
    std::vector<uint32_t> cuts;
    for (const auto* side : {&sides.first, &sides.second}) {
      for (const analysis::Connection& c : *side) {
        cuts.push_back(c.ports.first);
        cuts.push_back(static_cast<uint32_t>(c.ports.last) + 1);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    auto at = [](const std::vector<analysis::Connection>& side, uint32_t port) -> Ref {
      for (const analysis::Connection& c : side) {
        if (c.ports.first <= port && port <= c.ports.last) return c.when;
      }
      return Bdd::kFalse;
    };
    // Runs of pieces with the same change merge into one row.
    std::vector<std::tuple<uint16_t, uint16_t, Ref, Ref>> pieces;  // first, last, added, removed
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      Ref was = at(sides.first, cuts[i]), is = at(sides.second, cuts[i]);
      Ref added = bdd.AndNot(is, was), removed = bdd.AndNot(was, is);
      uint16_t first = static_cast<uint16_t>(cuts[i]), last = static_cast<uint16_t>(cuts[i + 1] - 1);
      if (!pieces.empty() && std::get<2>(pieces.back()) == added &&
          std::get<3>(pieces.back()) == removed &&
          static_cast<uint32_t>(std::get<1>(pieces.back())) + 1 == first) {
        std::get<1>(pieces.back()) = last;
      } else {
        pieces.emplace_back(first, last, added, removed);
      }
    }
    for (const auto& [first, last, added, removed] : pieces) {
      ir::PortRange range{protocol, first, last};
      if (added != Bdd::kFalse) rows.push_back({true, from, to, range, dns, bdd.Describe(added)});
      if (removed != Bdd::kFalse) rows.push_back({false, from, to, range, dns, bdd.Describe(removed)});
    }
  }
  return rows;
}

}  // namespace

std::string DiffUsage() {
  return "Usage: netpolc diff OLD NEW [--set NAME=VALUE]... [--values FILE.yaml]...\n"
         "                    [--old-set NAME=VALUE]... [--old-values FILE.yaml]...\n"
         "                    [--new-set NAME=VALUE]... [--new-values FILE.yaml]...\n"
         "                    [--defaults] [--format text|markdown]\n"
         "\n"
         "Lists the connections that NEW allows and OLD does not (added) and those OLD\n"
         "allows and NEW does not (removed), as a table of source, destination, ports and\n"
         "the configurations in which the change holds (flags not set stay open). OLD and\n"
         "NEW may be the same file with different settings, to see what a flag does:\n"
         "  netpolc diff rules.netpol rules.netpol --new-set internal_tls=true\n"
         "\n"
         "Options:\n"
         "  --set, --values            values for both files\n"
         "  --old-set, --old-values    values for OLD only\n"
         "  --new-set, --new-values    values for NEW only\n"
         "  --defaults                 flags not set keep their declared defaults\n"
         "  --format FORMAT            text (the default) or markdown\n"
         "\n"
         "Exit status (as diff(1)): 0 no connection added or removed; 1 some were;\n"
         "2 usage errors, bad values, unreadable files, errors in a rules file, or a\n"
         "condition too complex to analyse (see docs/analysis.md).\n";
}

int RunDiff(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  for (const char* option : {"--set", "--values", "--old-set", "--old-values", "--new-set",
                             "--new-values", "--format"}) {
    args.Value(option);
  }
  args.Switch("--defaults");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "diff", error);
  if (args.help()) {
    out += DiffUsage();
    return kExitOk;
  }
  if (args.positional().size() != 2) {
    return UsageError(err, "diff", "diff needs two rules files, OLD and NEW");
  }
  std::string format = args.Get("--format").value_or("text");
  if (format != "text" && format != "markdown") {
    return UsageError(err, "diff",
                      fmt::format("unknown format '{}'; expected text or markdown", format));
  }
  bool defaults = args.Has("--defaults");
  int status = kExitOk;
  std::optional<AnalysisInput> old_input = LoadAnalysisInput(
      args.positional()[0], ConfigSettings(args, {"--set", "--old-set"}, {"--values", "--old-values"}),
      defaults, err, status);
  if (!old_input) return kExitUsage;
  std::optional<AnalysisInput> new_input = LoadAnalysisInput(
      args.positional()[1], ConfigSettings(args, {"--set", "--new-set"}, {"--values", "--new-values"}),
      defaults, err, status);
  if (!new_input) return kExitUsage;

  // Each file's models and connections are analysed with its own sources, so
  // that a condition too complex to analyse is shown in its file.
  Bdd bdd;
  std::map<std::string, uint32_t> vars;
  std::optional<analysis::Model> old_model, new_model;
  analysis::ConnectionSet before, after;
  std::vector<Row> rows;
  const SourceManager& old_sources = old_input->compilation->sources;
  const SourceManager& new_sources = new_input->compilation->sources;
  auto old_focus = [&] { return old_model ? old_model->focus() : SourceLoc{}; };
  auto new_focus = [&] { return new_model ? new_model->focus() : SourceLoc{}; };
  std::vector<Ref> old_refs = Bind(*old_input, bdd, vars);
  std::vector<Ref> new_refs = Bind(*new_input, bdd, vars);
  bool analysed =
      Analyse(
          old_sources,
          [&] {
            old_model.emplace(old_input->module, old_input->config, bdd, std::move(old_refs));
            before = analysis::Connections(*old_model, true);
          },
          old_focus, err) &&
      Analyse(
          new_sources,
          [&] {
            new_model.emplace(new_input->module, new_input->config, bdd, std::move(new_refs));
            after = analysis::Connections(*new_model, true);
            rows = Compare(before, after, bdd);
          },
          new_focus, err);
  if (!analysed) return kExitUsage;

  // Rows for the same (change, from, to, configurations) list their ports together.
  struct Line {
    std::string change, from, to, ports, when;
  };
  std::vector<Line> lines;
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::make_tuple(a.from, a.to, !a.added, a.when) <
           std::make_tuple(b.from, b.to, !b.added, b.when);
  });
  for (const Row& row : rows) {
    std::string change = row.added ? "added" : "removed";
    std::string ports = analysis::PortsText({row.ports}) + (row.dns ? " (dns)" : "");
    if (!lines.empty() && lines.back().change == change && lines.back().from == row.from &&
        lines.back().to == row.to && lines.back().when == row.when) {
      lines.back().ports += ", " + ports;
    } else {
      lines.push_back({change, row.from, row.to, ports, row.when});
    }
  }
  size_t added = std::count_if(lines.begin(), lines.end(), [](const Line& l) { return l.change == "added"; });
  size_t removed = lines.size() - added;
  if (lines.empty()) {
    out += "no connection added or removed\n";
    return kExitOk;
  }
  if (format == "markdown") {
    out += "| Change | From | To | Ports | Configurations |\n";
    out += "|---|---|---|---|---|\n";
    for (const Line& l : lines) {
      out += fmt::format("| {} | {} | {} | {} | {} |\n", l.change, l.from, l.to, l.ports, l.when);
    }
    // A line right under a table is read as one more row of it.
    out += "\n";
  } else {
    Line header{"CHANGE", "FROM", "TO", "PORTS", "CONFIGURATIONS"};
    size_t w[4] = {header.change.size(), header.from.size(), header.to.size(), header.ports.size()};
    for (const Line& l : lines) {
      w[0] = std::max(w[0], l.change.size());
      w[1] = std::max(w[1], l.from.size());
      w[2] = std::max(w[2], l.to.size());
      w[3] = std::max(w[3], l.ports.size());
    }
    auto print = [&](const Line& l) {
      out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", l.change, w[0], l.from, w[1], l.to,
                         w[2], l.ports, w[3], l.when);
    };
    print(header);
    for (const Line& l : lines) print(l);
  }
  out += fmt::format("{} added, {} removed\n", added, removed);
  return 1;
}

}  // namespace netpolc
