#include <fmt/format.h>

#include "compiler/cli/commands/command.h"
#include "compiler/cli/commands/commands.h"

namespace netpolc {
namespace {

// Every command, one line each, in the order --help lists them.
const Command kCommands[] = {
    {"build", "compile a rules file for one target", RunBuild},
    {"targets", "list the targets of build", RunTargets},
    {"check", "find inconsistencies in a rules file, in every configuration", RunCheck},
    {"explain", "say whether and when a connection is allowed, and why", RunExplain},
    {"diff", "list the connections added and removed between two rules files", RunDiff},
    {"graph", "draw the allowed connections (Mermaid or Graphviz)", RunGraph},
    {"fmt", "lay rules files out in the canonical layout", RunFmt},
    {"connlist", "list the connections that existing Kubernetes manifests allow", RunConnlist},
    {"import", "turn existing NetworkPolicies into a rules file", RunImport},
    {"verify", "compare what existing manifests admit with what a rules file admits", RunVerify},
};

}  // namespace

std::span<const Command> AllCommands() { return kCommands; }

int UsageError(std::string& err, std::string_view command, const std::string& message) {
  err += fmt::format("netpolc: error: {}\n", message);
  if (command.empty()) {
    err += "Run 'netpolc --help' for usage.\n";
  } else {
    err += fmt::format("Run 'netpolc {} --help' for usage.\n", command);
  }
  return kExitUsage;
}

int OutputIsInputError(std::string& err, const std::string& output, const std::string& input) {
  err += fmt::format(
      "netpolc: error: the output '{}' is also an input ('{}'); writing it would destroy "
      "the input\n",
      output, input == "-" ? "<stdin>" : input);
  return kExitUsage;
}

}  // namespace netpolc
