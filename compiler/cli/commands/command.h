// A netpolc subcommand. Each lives in its own file under compiler/cli/commands/
// and is listed once in commands/registry.cc.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc {

enum ExitCode : int {
  kExitOk = 0,
  kExitInputErrors = 1,  // the input has errors (or, for checks, findings)
  kExitUsage = 2,        // the command line is wrong, or a file cannot be read/written
  kExitOutOfMemory = 3,  // memory ran out (an allocation failed); nothing more is written
                         // (a command that streams its output may have written part of it)
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line, for `netpolc --help`
  // `args` excludes the command name. Output to `out`, messages to `err`.
  int (*run)(const std::vector<std::string>& args, std::string& out, std::string& err);
};

std::span<const Command> AllCommands();

// Where a command may hand over its output while it runs, instead of holding
// all of it until it returns. Each takes text in order and returns false once
// a write has failed (the text is then lost, and so is what follows). A
// caller that sets none (RunDriver without streams) gets everything in `out`
// and `err`.
// The text is handed over by value: a caller done with it moves it in.
struct OutputStreams {
  std::function<bool(std::string)> out;  // stdout
  std::function<bool(std::string)> err;  // stderr
};

// Hands the text in `out` to the stdout stream, if one is set, and clears
// it; otherwise leaves it. Returns false once writing has failed.
bool FlushOut(std::string& out);
// Hands the complete lines in `err` (up to its last newline) to the stderr
// stream, if one is set, and erases them; otherwise leaves them. Returns false
// once writing has failed. Only for a command that writes nothing to stdout:
// the text of both streams must come out in the order of a caller without
// streams (stdout, then stderr).
bool FlushErr(std::string& err);

// "netpolc: error: MESSAGE" and a hint to --help; returns kExitUsage.
int UsageError(std::string& err, std::string_view command, const std::string& message);

// "netpolc: error: the output 'OUT' is also an input ('IN')"; returns kExitUsage.
int OutputIsInputError(std::string& err, const std::string& output, const std::string& input);

}  // namespace netpolc
