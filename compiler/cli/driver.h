// The netpolc command line: dispatches to the commands of
// compiler/cli/commands/ (build, targets, ...).
#pragma once

#include <string>
#include <vector>

#include "compiler/cli/commands/command.h"

namespace netpolc {

// Runs netpolc with `args` (without the program name). Output that is not
// written to a file goes to `out`; diagnostics and messages go to `err`.
// Returns the exit status (ExitCode).
int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err);
// The same, letting the command hand over its output to `streams` while it
// runs (FlushOut, FlushErr in commands/command.h); what is left in `out`
// and `err` when it returns comes after what the streams took.
int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err,
              const OutputStreams& streams);

}  // namespace netpolc
