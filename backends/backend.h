// The interface every output target implements. A backend is a pure function
// of its input: the same input gives byte-for-byte the same output.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
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

// Renders policies a batch at a time, so that they need not exist all at
// once (Backend::StartPolicies).
class PolicyWriter {
 public:
  virtual ~PolicyWriter() = default;
  // Appends the rendering of the next policies to `out`: consecutive
  // policies of PolicySet::policies, in that order. Reports nothing: what it
  // finds waits for Finish.
  virtual void Write(std::span<const ir::Policy> policies, std::string& out) = 0;
  // After the last batch: appends what follows the policies, reports the
  // problems found in the order Render reports them, and returns false when
  // the output cannot be used (`out` is then to be dropped).
  virtual bool Finish(std::string& out, Diagnostics& diagnostics) = 0;
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
  // For a backend whose needs_policies(): what Render does, in batches.
  // input.policies holds everything of the set but its policies (which are
  // passed to Write, `count` of them in all); `input` outlives the writer.
  // Appends what precedes the policies to `out`. nullptr when the backend
  // renders only whole sets.
  virtual std::unique_ptr<PolicyWriter> StartPolicies(const Input& input, size_t count,
                                                      std::string& out) const {
    (void)input, (void)count, (void)out;
    return nullptr;
  }
};

// Render for a backend with a PolicyWriter: the whole of input.policies in
// one batch; `out` is left as it was when the output cannot be used.
bool RenderWithWriter(const Backend& backend, const Input& input, std::string& out,
                      Diagnostics& diagnostics);

}  // namespace netpolc::backends
