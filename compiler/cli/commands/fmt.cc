// netpolc fmt: lay rules files out in the canonical layout (compiler/frontend/format.h).
#include <fmt/format.h>


#include "compiler/cli/args.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/diagnostics.h"
#include "compiler/cli/file_io.h"
#include "compiler/frontend/format.h"
#include "compiler/source.h"

namespace netpolc {

int RunFmt(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Switch("--check");
  args.Switch("--write", "-w");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "fmt", error);
  if (args.help()) {
    out += FmtUsage();
    return kExitOk;
  }
  const bool check = args.Has("--check");
  const bool write = args.Has("--write");
  const std::vector<std::string>& paths = args.positional();
  if (paths.empty()) return UsageError(err, "fmt", "fmt needs a rules file");
  if (check && write) return UsageError(err, "fmt", "--check and --write exclude each other");
  if (!check && !write && paths.size() > 1) {
    return UsageError(err, "fmt",
                      "fmt prints one file; use --check or --write for several");
  }

  int status = kExitOk;
  std::vector<std::string> unformatted;
  for (const std::string& path : paths) {
    if (path == "-" && write) {
      return UsageError(err, "fmt", "--write needs files, not '-' (stdin)");
    }
    std::optional<std::string> text = ReadFile(path, error, kMaxRulesFileBytes);
    if (!text) {
      err += fmt::format("netpolc: error: cannot read '{}': {}\n", DisplayName(path), error);
      status = std::max<int>(status, kExitUsage);
      continue;
    }
    SourceManager sources;
    Diagnostics diagnostics;
    uint32_t id = sources.Add(DisplayName(path), *text);
    std::optional<std::string> formatted = FormatFile(sources, id, diagnostics);
    err += RenderAll(diagnostics, sources);
    if (!formatted) {
      // The file is left as it is.
      status = std::max<int>(status, kExitInputErrors);
      continue;
    }
    if (check) {
      if (*formatted != *text) unformatted.push_back(path);
    } else if (write) {
      if (*formatted != *text && !WriteFileAtomically(path, *formatted, error)) {
        err += fmt::format("netpolc: error: cannot write '{}': {}\n", path, error);
        status = std::max<int>(status, kExitUsage);
      }
    } else {
      out += *formatted;
    }
  }
  if (!unformatted.empty()) {
    std::string list;
    for (const std::string& path : unformatted) {
      out += path + "\n";
      list += " " + path;
    }
    err += fmt::format("netpolc: {} not formatted; run: netpolc fmt --write{}\n",
                       unformatted.size() == 1 ? "1 file is" :
                       fmt::format("{} files are", unformatted.size()),
                       list);
    status = std::max<int>(status, kExitInputErrors);
  }
  return status;
}

std::string FmtUsage() {
  return "Usage: netpolc fmt FILE... [--check | --write]\n"
         "\n"
         "Lays rules files out in the canonical layout: two-space indentation, one\n"
         "declaration, component item or property per line, canonical spacing. Only\n"
         "the layout changes: nothing is reordered, comments stay where they were,\n"
         "and blank lines between items are kept (several become one). Formatting\n"
         "a formatted file changes nothing. A file that does not parse is reported\n"
         "(with the location of the error) and left untouched.\n"
         "\n"
         "Options:\n"
         "  (none)         print the formatted FILE to stdout ('-' reads stdin)\n"
         "  --check        change nothing; list the files whose layout would change\n"
         "  -w, --write    rewrite the files whose layout changes, as build -o writes:\n"
         "                 atomically, keeping mode, owner and hard links, through\n"
         "                 symlinks; read-only files are refused\n"
         "\n"
         "Exit status: 0 success (with --check: every file formatted); 1 a file does\n"
         "not parse, or (--check) a file is not formatted; 2 usage errors, or files\n"
         "that cannot be read or written; 3 out of memory.\n";
}

}  // namespace netpolc
