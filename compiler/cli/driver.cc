#include "compiler/cli/driver.h"
#include "compiler/diagnostics.h"

#include <fmt/format.h>

namespace netpolc {
namespace {

constexpr std::string_view kVersion = "netpolc 0.1.0";

std::string Usage() {
  std::string out =
      "Usage: netpolc COMMAND [ARGS]...\n"
      "\n"
      "Compiles network rules files (see docs/language.md) into Kubernetes\n"
      "NetworkPolicy manifests, other network plugins' policies and documentation.\n"
      "\n"
      "Commands:\n";
  for (const Command& command : AllCommands()) {
    out += fmt::format("  {:<10} {}\n", command.name, command.summary);
  }
  out +=
      "\n"
      "Run 'netpolc COMMAND --help' for the options of a command.\n"
      "Example: netpolc build rules/eventstreams.netpol --target k8s -o policies.yaml\n"
      "\n"
      "Exit status: 0 success; 1 errors in the input; 2 usage errors or files that\n"
      "cannot be read or written (stdout included); 3 out of memory. Diagnostics go\n"
      "to stderr as\n"
      "file:line:col: error: message [kind], with the source line and a caret.\n";
  return out;
}

}  // namespace

int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err) {
  if (args.empty()) {
    err += Usage();
    return kExitUsage;
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    out += Usage();
    return kExitOk;
  }
  if (name == "--version") {
    out += std::string(kVersion) + "\n";
    return kExitOk;
  }
  for (const Command& command : AllCommands()) {
    if (command.name == name) {
      // Messages are escaped where they are made; this is the backstop for
      // any that echo a value raw (a terminal escape sequence in a name).
      std::string messages;
      int status = command.run(std::vector<std::string>(args.begin() + 1, args.end()), out, messages);
      err += EscapeControlsKeepLines(messages);
      return status;
    }
  }
  return UsageError(err, "", fmt::format("unknown command '{}'", Echo(name)));
}

}  // namespace netpolc
