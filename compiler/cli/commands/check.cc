// netpolc check: lint a rules file over all of its configurations.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "compiler/analysis/check.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/memory.h"
#include "compiler/parallel.h"

namespace netpolc {
namespace {

bool KnownKind(const std::string& name) {
#define DIAGNOSTIC(kind, severity, kebab, format) \
  if (name == kebab) return true;
#include "compiler/diagnostic_kinds.def"
#undef DIAGNOSTIC
  return false;
}

// Findings rendered per batch on the thread pool, a round of batches at a
// time: memory holds a round's text, not the whole report, whatever its size.
constexpr size_t kFindingsPerBatch = 1024;
constexpr size_t kBatchesPerThread = 4;

// Appends the text of findings [0, n) (render(i, text) appends finding i's)
// to `text` in order, handing `text` to `flush` after each round. Batches do
// not depend on the number of threads, nor does the text. Stops early once
// `flush` fails: what would follow is lost anyway (the caller's exit status
// does not depend on it).
template <typename Render>
void RenderInBatches(size_t n, std::string& text, bool (*flush)(std::string&), Render render) {
  const size_t batches = (n + kFindingsPerBatch - 1) / kFindingsPerBatch;
  const size_t per_round = ThreadCount() * kBatchesPerThread;
  std::vector<std::string> rendered(per_round);
  for (size_t round = 0; round < batches; round += per_round) {
    const size_t count = std::min(per_round, batches - round);
    ParallelFor(count, [&](size_t k) {
      std::string& piece = rendered[k];
      const size_t first = (round + k) * kFindingsPerBatch;
      const size_t last = std::min(first + kFindingsPerBatch, n);
      for (size_t i = first; i < last; ++i) render(i, piece);
    });
    // Each piece handed over as it is (a move, when nothing is waiting).
    for (size_t k = 0; k < count; ++k) {
      if (text.empty()) {
        text.swap(rendered[k]);
      } else {
        text += rendered[k];
      }
      std::string().swap(rendered[k]);
      if (!flush(text)) return;
    }
  }
}

// The models have read the peers of the rules when they were built, and
// analysis::CheckModel does not read them.
void FreeRulePeers(ir::Module& module) {
  ParallelForRanges(module.components.size(), 256, [&](size_t i) {
    for (ir::Rule& rule : module.components[i].rules) std::vector<ir::PeerRef>().swap(rule.peers);
  });
}

}  // namespace

std::string CheckUsage() {
  return "Usage: netpolc check FILE [--set NAME=VALUE]... [--values FILE.yaml]... [--defaults]\n"
         "                     [--werror] [--format text|json] [--disable KIND]...\n"
         "\n"
         "Checks the rules file FILE in every configuration at once: flags not given by\n"
         "--set or --values stay open, and each finding says in which configurations it\n"
         "holds (\"when internal_tls is false\"). See docs/analysis.md.\n"
         "\n"
         "Errors (traffic that the rules declare but the policies block):\n"
         "  egress-not-admitted      an egress rule names a component whose ingress does\n"
         "                           not admit that connection\n"
         "  ingress-not-allowed      an ingress rule names a component whose egress does\n"
         "                           not allow that connection\n"
         "Warnings:\n"
         "  port-alternative-not-followed, port-alternative-overlap, port-alternative-gap,\n"
         "  port-alternative-missing  a port that switches with a flag (7443 when a flag\n"
         "                           is on, 7080 when off) whose other end does not follow,\n"
         "                           whose alternatives overlap or leave a gap, or that lacks\n"
         "                           the alternative other components have\n"
         "  egress-without-dns       restricted egress after 'dns off' with no port 53 rule\n"
         "  shadowed-rule, equivalent-rules  a rule another rule already covers\n"
         "  condition-never-holds, condition-always-holds, rule-never-applies\n"
         "  unused-flag, unused-param, unused-component\n"
         "\n"
         "Options:\n"
         "  --set NAME=VALUE     fix a flag or set a parameter (as for build)\n"
         "  --values FILE.yaml   flag and parameter values from a YAML file; --set and\n"
         "                       --values apply in order, later ones winning\n"
         "  --defaults           flags not set keep their declared defaults instead of\n"
         "                       staying open\n"
         "  --werror             report warnings as errors\n"
         "  --format FORMAT      text (diagnostics on stderr, the default) or json (stdout)\n"
         "  --disable KIND       do not report findings of KIND (repeatable)\n"
         "\n"
         "Exit status: 0 no errors (warnings allowed unless --werror); 1 findings at error\n"
         "level, errors in the rules file, or a condition too complex to analyse (past the\n"
         "analysis budget, see docs/analysis.md); 2 usage errors, bad values or unreadable\n"
         "files.\n";
}

int RunCheck(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--set");
  args.Value("--values");
  args.Switch("--defaults");
  args.Switch("--werror");
  args.Value("--format");
  args.Value("--disable");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "check", error);
  if (args.help()) {
    out += CheckUsage();
    return kExitOk;
  }
  if (args.positional().size() != 1) {
    return UsageError(err, "check", args.positional().empty() ? "check needs a rules file"
                                                              : "check takes one rules file");
  }
  std::string format = args.Get("--format").value_or("text");
  if (format != "text" && format != "json") {
    return UsageError(err, "check", fmt::format("unknown format '{}'; expected text or json", format));
  }
  std::vector<std::string> disabled = args.All("--disable");
  for (const std::string& kind : disabled) {
    if (!KnownKind(kind)) return UsageError(err, "check", fmt::format("unknown kind '{}'", kind));
  }
  const std::string& path = args.positional()[0];
  int status = kExitOk;
  std::optional<AnalysisInput> input =
      LoadAnalysisInput(path, ConfigSettings(args), args.Has("--defaults"), err, status);
  if (!input) return status;

  analysis::Bdd bdd, open_bdd;
  std::optional<analysis::Model> model, open;
  // The findings as sorted lists, merged once the models are freed.
  std::vector<analysis::FindingList> runs;
  bool analysed = Analyse(
      input->compilation->sources,
      [&] {
        // analysis::Check in its two parts, the rules' peers freed in between
        // (a large share of the module).
        analysis::FindingList declarations =
            analysis::CheckDeclarations(input->module, input->config);
        model.emplace(input->module, input->config, bdd,
                      analysis::Model::BindFlags(input->module, input->config, input->fixed, bdd));
        if (input->any_fixed()) {
          open.emplace(input->module, input->config, open_bdd,
                       analysis::Model::BindFlags(input->module, input->config, {}, open_bdd));
        }
        FreeRulePeers(input->module);
        ReleaseFreedMemory();
        runs = analysis::CheckModelRuns(*model, open ? *open : *model);
        runs.push_back(std::move(declarations));
      },
      [&] {
        SourceLoc loc = open ? open->focus() : SourceLoc{};
        return loc.valid() ? loc : model ? model->focus() : SourceLoc{};
      },
      err);
  if (!analysed) return kExitInputErrors;
  // Rendering needs only the findings and the sources: the model, its
  // diagrams and the module are freed first, before the findings are merged,
  // so that neither the merged list nor the rendered text comes on top of
  // them. The larger parts are freed on the thread pool. What is freed stays
  // with the allocator for the rendering (it is not given back to the system:
  // the analysis is the most memory the command holds).
  if (open) open->Free();
  if (model) model->Free();
  open.reset();
  model.reset();
  open_bdd = analysis::Bdd();
  bdd = analysis::Bdd();
  DestroyInParallel(input->module.components);
  input->module = ir::Module();
  analysis::FindingList findings = analysis::FindingList::MergeSorted(std::move(runs));
  findings.Filter([&](DiagnosticKind kind) {
    std::string name(InfoOf(kind).name);
    return std::find(disabled.begin(), disabled.end(), name) == disabled.end();
  });

  bool werror = args.Has("--werror");
  size_t errors = 0, warnings = 0;
  auto severity = [&](DiagnosticKind kind) {
    Severity s = InfoOf(kind).severity;
    return werror && s == Severity::kWarning ? Severity::kError : s;
  };
  for (size_t i = 0; i < findings.size(); ++i) {
    (severity(findings.kind(i)) == Severity::kError ? errors : warnings) += 1;
  }
  const SourceManager& sources = input->compilation->sources;
  if (format == "json") {
    auto loc_json = [&](const SourceLoc& loc) {
      if (!loc.valid() || loc.file >= sources.size()) return std::string("\"file\": null");
      return fmt::format("\"file\": \"{}\", \"line\": {}, \"column\": {}",
                         JsonEscape(sources.file(loc.file).path), loc.line, loc.column);
    };
    out += "{\n";
    out += fmt::format("  \"file\": \"{}\",\n", JsonEscape(path));
    out += fmt::format("  \"errors\": {},\n  \"warnings\": {},\n", errors, warnings);
    out += "  \"findings\": [";
    RenderInBatches(findings.size(), out, FlushOut, [&](size_t i, std::string& text) {
      const analysis::Finding f = findings.Get(i);
      text += i == 0 ? "\n" : ",\n";
      text += fmt::format("    {{\"kind\": \"{}\", \"severity\": \"{}\", {}, \"message\": \"{}\"",
                          InfoOf(f.kind).name, SeverityName(severity(f.kind)), loc_json(f.loc),
                          JsonEscape(f.message));
      if (!f.condition.empty()) {
        text += fmt::format(", \"when\": \"{}\"", JsonEscape(f.condition));
      }
      text += ", \"notes\": [";
      for (size_t j = 0; j < f.notes.size(); ++j) {
        if (j > 0) text += ", ";
        text += fmt::format("{{{}, \"message\": \"{}\"}}", loc_json(f.notes[j].loc),
                            JsonEscape(f.notes[j].message));
      }
      text += "]}";
    });
    out += findings.empty() ? "]\n}\n" : "\n  ]\n}\n";
  } else {
    RenderInBatches(findings.size(), err, FlushErr, [&](size_t i, std::string& text) {
      const DiagnosticKind kind = findings.kind(i);
      RenderTo(text, kind, severity(kind), findings.loc(i), findings.message(i), sources);
      findings.ForEachNote(i, [&](const SourceLoc& loc, std::string_view message) {
        RenderTo(text, DiagnosticKind::kRelatedRule, Severity::kNote, loc, message, sources);
      });
    });
    if (!findings.empty()) {
      err += fmt::format("{}: {} {}, {} {}\n", path, errors, errors == 1 ? "error" : "errors",
                         warnings, warnings == 1 ? "warning" : "warnings");
    }
  }
  return errors > 0 ? kExitInputErrors : kExitOk;
}

}  // namespace netpolc
