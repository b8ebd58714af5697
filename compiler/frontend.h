// The front end shared by every command: read a rules file, parse and lower
// it into a module, and build a configuration from --set values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"
#include "compiler/source.h"

namespace netpolc {

// One compilation: the files read and the diagnostics found.
struct Compilation {
  SourceManager sources;
  Diagnostics diagnostics;
};

// Parses and lowers `text` (the contents of `path`). Returns nullopt when
// there were errors (in compilation.diagnostics).
std::optional<ir::Module> CompileModule(Compilation& compilation, const std::string& path,
                                        std::string text);

// Applies --set NAME=VALUE settings in order (later ones win) on top of the
// module's defaults. On error appends a message (with a caret for peer lists)
// to `err` and returns nullopt.
std::optional<ir::Config> MakeConfig(const ir::Module& module,
                                     const std::vector<std::string>& settings,
                                     SourceManager& sources, std::string& err);

}  // namespace netpolc
