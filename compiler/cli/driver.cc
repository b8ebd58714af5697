#include "compiler/cli/driver.h"
#include "compiler/diagnostics.h"

#include <fmt/format.h>

#include <utility>

namespace netpolc {
namespace {

// The streams of the command running (RunDriver with streams), if any.
const OutputStreams* g_streams = nullptr;

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

namespace netpolc {

int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err,
              const OutputStreams& streams) {
  OutputStreams command_streams;
  command_streams.out = streams.out;
  if (streams.err) {
    // What the command hands over gets the backstop its messages get below
    // (whole lines: escaping line by line gives the same text).
    command_streams.err = [&](std::string text) {
      bool ok = true;
      if (!err.empty()) {
        ok = streams.err(std::exchange(err, std::string()));
      }
      if (ShownAsIsKeepLines(text)) return streams.err(std::move(text)) && ok;
      return streams.err(EscapeControlsKeepLines(text)) && ok;
    };
  }
  struct Scope {
    explicit Scope(const OutputStreams* streams) { g_streams = streams; }
    ~Scope() { g_streams = nullptr; }
  } scope(&command_streams);
  return RunDriver(args, out, err);
}

bool FlushOut(std::string& out) {
  if (g_streams == nullptr || !g_streams->out) return true;
  return out.empty() || g_streams->out(std::exchange(out, std::string()));
}

bool FlushErr(std::string& err) {
  if (g_streams == nullptr || !g_streams->err) return true;
  size_t end = err.rfind('\n');
  if (end == std::string::npos) return true;
  if (end + 1 == err.size()) return g_streams->err(std::exchange(err, std::string()));
  bool ok = g_streams->err(err.substr(0, end + 1));
  err.erase(0, end + 1);
  return ok;
}

}  // namespace netpolc
