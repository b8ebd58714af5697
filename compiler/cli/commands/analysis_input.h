// Shared by the analysis commands (check, explain, diff, graph): reading a
// rules file with its configuration, and which flags stay open.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/analysis/bdd.h"
#include "compiler/cli/args.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/module.h"

namespace netpolc {

// The --set / --values settings (or other options of the same kinds, e.g.
// --old-set) in command-line order, so that later ones win.
std::vector<ConfigSetting> ConfigSettings(const Args& args,
                                          const std::vector<std::string>& set_options = {"--set"},
                                          const std::vector<std::string>& values_options = {"--values"});

// A rules file compiled, configured and checked for one analysis.
struct AnalysisInput {
  std::unique_ptr<Compilation> compilation;
  ir::Module module;
  ir::Config config;
  // Per flag: fixed by a setting (or by --defaults); the others stay open.
  std::vector<bool> fixed;
  bool any_fixed() const;
};

// Reads and compiles `path`, applies `settings`, and instantiates the
// configuration once to validate parameter values. On failure appends the
// messages to `err`, sets `status` and returns nullopt.
std::optional<AnalysisInput> LoadAnalysisInput(const std::string& path,
                                               const std::vector<ConfigSetting>& settings,
                                               bool defaults, std::string& err, int& status);

// Runs `analyse`, which builds models and queries them. When a condition
// passes the BDD budgets (analysis/bdd.h), appends a located
// condition-too-complex error to `err` and returns false: at the condition
// when a model was being built, else where `focus` says the analysis was.
bool Analyse(const SourceManager& sources, const std::function<void()>& analyse,
             const std::function<SourceLoc()>& focus, std::string& err);

// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);

}  // namespace netpolc
