// The lints of `netpolc check`: what in a rules file breaks clusters or is
// dead weight, each found symbolically (over conditions, never by
// enumerating configurations) and reported at the rule with the
// configurations in which it holds. See docs/analysis.md.
#pragma once

#include <string>
#include <vector>

#include "compiler/analysis/model.h"
#include "compiler/diagnostics.h"

namespace netpolc::analysis {

struct Finding {
  struct Note {
    SourceLoc loc;
    std::string message;
  };
  DiagnosticKind kind;
  SourceLoc loc;
  std::string message;
  // The configurations in which it holds, in the compact form ("internal_tls",
  // "not a and b", "always"); empty for findings about the text itself.
  std::string condition;
  std::vector<Note> notes;
};

// `model` has the flags as configured (those fixed by --set or --values are
// constants); `open` has every flag open. Both are of the same module and
// configuration. Returns the findings sorted by location.
std::vector<Finding> Check(Model& model, Model& open);

// Check in two parts, for a caller that frees in between what the second
// does not need. The lints of unused declarations (flags, parameters,
// components) read only the module and the configuration, its rules' peers
// included; the others read the models, and of the module not the rules'
// peers (a Model reads those when it is built). Each returns its findings
// sorted; MergeFindings(CheckModel(...), CheckDeclarations(...)) is Check.
std::vector<Finding> CheckDeclarations(const ir::Module& module, const ir::Config& config);
std::vector<Finding> CheckModel(Model& model, Model& open);
std::vector<Finding> MergeFindings(std::vector<Finding> a, std::vector<Finding> b);

}  // namespace netpolc::analysis
