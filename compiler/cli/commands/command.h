// A netpolc subcommand. Each lives in its own file under compiler/cli/commands/
// and is listed once in commands/registry.cc.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc {

enum ExitCode : int {
  kExitOk = 0,
  kExitInputErrors = 1,  // the input has errors (or, for checks, findings)
  kExitUsage = 2,        // the command line is wrong, or a file cannot be read/written
  kExitOutOfMemory = 3,  // memory ran out (an allocation failed); nothing was written
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line, for `netpolc --help`
  // `args` excludes the command name. Output to `out`, messages to `err`.
  int (*run)(const std::vector<std::string>& args, std::string& out, std::string& err);
};

std::span<const Command> AllCommands();

// "netpolc: error: MESSAGE" and a hint to --help; returns kExitUsage.
int UsageError(std::string& err, std::string_view command, const std::string& message);

// "netpolc: error: the output 'OUT' is also an input ('IN')"; returns kExitUsage.
int OutputIsInputError(std::string& err, const std::string& output, const std::string& input);

}  // namespace netpolc
