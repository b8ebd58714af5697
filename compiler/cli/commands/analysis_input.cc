#include "compiler/cli/commands/analysis_input.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/analysis/model.h"
#include "compiler/cli/commands/command.h"
#include "compiler/cli/file_io.h"
#include "compiler/memory.h"
#include "compiler/semantics/instantiate.h"

namespace netpolc {

std::vector<ConfigSetting> ConfigSettings(const Args& args,
                                          const std::vector<std::string>& set_options,
                                          const std::vector<std::string>& values_options) {
  std::vector<ConfigSetting> settings;
  for (const auto& [option, value] : args.InOrder()) {
    if (std::find(set_options.begin(), set_options.end(), option) != set_options.end()) {
      settings.push_back({ConfigSetting::Kind::kSet, value});
    } else if (std::find(values_options.begin(), values_options.end(), option) !=
               values_options.end()) {
      settings.push_back({ConfigSetting::Kind::kValues, value});
    }
  }
  return settings;
}

bool AnalysisInput::any_fixed() const {
  return std::find(fixed.begin(), fixed.end(), true) != fixed.end();
}

std::optional<AnalysisInput> LoadAnalysisInput(const std::string& path,
                                               const std::vector<ConfigSetting>& settings,
                                               bool defaults, std::string& err, int& status) {
  std::string error;
  std::optional<std::string> text = ReadFile(path, error, kMaxRulesFileBytes);
  if (!text) {
    err += fmt::format("netpolc: error: cannot read '{}': {}\n", DisplayName(path), error);
    status = kExitUsage;
    return std::nullopt;
  }
  AnalysisInput input;
  input.compilation = std::make_unique<Compilation>();
  Compilation& compilation = *input.compilation;
  std::optional<ir::Module> module =
      CompileModule(compilation, DisplayName(path), std::move(*text));
  if (!module) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    status = kExitInputErrors;
    return std::nullopt;
  }
  input.module = std::move(*module);
  std::optional<ir::Config> config =
      MakeConfig(input.module, settings, compilation.sources, err, &input.fixed);
  if (!config) {
    status = kExitUsage;
    return std::nullopt;
  }
  input.config = std::move(*config);
  if (defaults) input.fixed.assign(input.module.flags.size(), true);
  // Parameter values (from the defaults, --set or --values) are checked where
  // they are used, as build would: the policies are made a batch at a time
  // and dropped.
  bool valid = false;
  {
    PolicyBatches batches(input.module, input.config, compilation.diagnostics,
                          PolicyBatches::Mode::kDeployChecks);
    const size_t batch = PolicyBatches::BatchSize();
    for (size_t first = 0; first < batches.size(); first += batch) batches.Make(first, batch);
    valid = batches.Finish();
  }
  if (!valid) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    status = kExitInputErrors;
    return std::nullopt;
  }
  ReleaseFreedMemory();  // the last batch of policies
  err += RenderAll(compilation.diagnostics, compilation.sources);  // warnings, if any
  return input;
}

bool Analyse(const SourceManager& sources, const std::function<void()>& analyse,
             const std::function<SourceLoc()>& focus, std::string& err) {
  SourceLoc loc;
  std::string reason;
  try {
    analyse();
    return true;
  } catch (const analysis::ConditionTooComplex& e) {
    loc = e.loc;
    reason = e.reason;
  } catch (const analysis::Bdd::TooComplex& e) {
    loc = focus();
    reason = e.what();
  }
  const DiagnosticInfo& info = InfoOf(DiagnosticKind::kConditionTooComplex);
  err += Render(Diagnostic{DiagnosticKind::kConditionTooComplex, info.severity, loc,
                           fmt::format(fmt::runtime(info.format), reason)},
                sources);
  return false;
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(ch)));
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace netpolc
