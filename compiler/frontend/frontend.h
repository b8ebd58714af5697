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
// The same for the file `file` of compilation.sources.
std::optional<ir::Module> CompileModule(Compilation& compilation, uint32_t file);

// Applies --set NAME=VALUE settings in order (later ones win) on top of the
// module's defaults. On error appends a message (with a caret for peer lists)
// to `err` and returns nullopt.
std::optional<ir::Config> MakeConfig(const ir::Module& module,
                                     const std::vector<std::string>& settings,
                                     SourceManager& sources, std::string& err);

// One source of values for a configuration: a --set NAME=VALUE, or a
// --values FILE.yaml (see values.h).
struct ConfigSetting {
  enum class Kind : uint8_t { kSet, kValues };
  Kind kind = Kind::kSet;
  std::string text;  // NAME=VALUE, or the values file's path
};

// Applies settings in command-line order (later ones win) on top of the
// module's defaults; values files are read and added to `sources`. When
// `given_flags` is not null it receives, per flag, whether a setting gave
// its value. On error appends the messages (file:line:col with a caret) to
// `err` and returns nullopt.
std::optional<ir::Config> MakeConfig(const ir::Module& module,
                                     const std::vector<ConfigSetting>& settings,
                                     SourceManager& sources, std::string& err,
                                     std::vector<bool>* given_flags = nullptr);

}  // namespace netpolc
