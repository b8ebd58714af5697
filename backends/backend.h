// The interface every output target implements. A backend is a pure function
// of its input: the same input gives byte-for-byte the same output.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/diagnostics.h"
#include "compiler/source.h"
#include "compiler/ir/module.h"
#include "compiler/ir/policy.h"

namespace netpolc::backends {

struct Input {
  const ir::Module& module;
  const ir::Config& config;
  // The policies of `config`; set for every backend whose needs_policies().
  const ir::PolicySet* policies = nullptr;
  // The rules file as named on the command line (for "generated from").
  std::string_view source_name;
  // True when the user gave no --set: documentation shows every configuration.
  bool all_configurations = true;
  // Contents of --template, for backends that take one, and its file in the
  // compilation's SourceManager (for diagnostics that point into it).
  std::optional<std::string> template_text;
  uint32_t template_file = SourceLoc::kNoFile;
  // The compilation's files and the rules file's id among them, so that a
  // backend can name the file of a location from an imported file.
  const SourceManager* sources = nullptr;
  uint32_t rules_file = SourceLoc::kNoFile;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The --target name.
  virtual std::string_view name() const = 0;
  // One line for `netpolc targets` and --help.
  virtual std::string_view description() const = 0;
  virtual bool needs_policies() const { return true; }
  virtual bool takes_template() const { return false; }
  // Appends the output to `out`; reports problems to `diagnostics` and
  // returns false when it cannot render the input exactly.
  virtual bool Render(const Input& input, std::string& out,
                      Diagnostics& diagnostics) const = 0;
};

}  // namespace netpolc::backends
