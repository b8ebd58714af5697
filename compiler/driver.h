// The netpolc command line: argument handling, reading files, running the
// phases (parse -> lower -> instantiate -> backend) and writing output.
#pragma once

#include <string>
#include <vector>

namespace netpolc {

enum ExitCode : int {
  kExitOk = 0,
  kExitInputErrors = 1,  // the rules file (or a --set value) has errors
  kExitUsage = 2,        // the command line is wrong, or a file cannot be read/written
};

// Runs netpolc with `args` (without the program name). Output that is not
// written to a file goes to `out`; diagnostics and messages go to `err`.
int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err);

}  // namespace netpolc
