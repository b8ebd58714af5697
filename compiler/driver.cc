#include "compiler/driver.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "backends/registry.h"
#include "compiler/diagnostics.h"
#include "compiler/instantiate.h"
#include "compiler/lower.h"
#include "compiler/parse.h"
#include "compiler/source.h"

namespace netpolc {
namespace {

constexpr std::string_view kVersion = "netpolc 0.1.0";

std::string TargetList() {
  std::string out;
  for (const backends::Backend* backend : backends::AllBackends()) {
    out += fmt::format("  {:<10} {}\n", backend->name(), backend->description());
  }
  return out;
}

std::string Usage() {
  return fmt::format(
      "Usage:\n"
      "  netpolc build FILE --target TARGET [--set NAME=VALUE]... [--template FILE] [-o OUT]\n"
      "  netpolc targets\n"
      "  netpolc --help | --version\n"
      "\n"
      "Compiles a network rules file (see docs/language.md) for one target.\n"
      "\n"
      "Commands:\n"
      "  build      compile FILE and write the target's output to OUT (default: stdout)\n"
      "  targets    list the targets\n"
      "\n"
      "Options of build:\n"
      "  --target TARGET    the output to produce (required)\n"
      "  --set NAME=VALUE   set a flag (true|false) or a parameter for this build; flags\n"
      "                     and parameters not set keep the defaults of the rules file;\n"
      "                     a later --set of the same name wins. A peers parameter takes\n"
      "                     a peer list in the rules syntax, e.g. --set peers='kafka, anywhere'\n"
      "  --template FILE    the page around the tables (targets that document)\n"
      "  -o, --output OUT   write to OUT instead of stdout; OUT is replaced only when\n"
      "                     the build succeeds\n"
      "\n"
      "Targets:\n"
      "{}"
      "\n"
      "Exit status: 0 success, 1 errors in the input, 2 usage errors or unreadable or\n"
      "unwritable files. Diagnostics go to stderr as file:line:col: error: message [kind].\n",
      TargetList());
}

// Paths given on the command line are relative to the directory the user ran
// the command in; under `bazel run` that is BUILD_WORKING_DIRECTORY.
std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path == "-") return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (cwd == nullptr || *cwd == '\0') return path;
  return std::string(cwd) + "/" + path;
}

std::optional<std::string> ReadFile(const std::string& path, std::string& error) {
  std::ifstream in(ResolvePath(path), std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return buffer.str();
}

// Writes `text` to `path` atomically: a temporary file in the same directory,
// then a rename, so a failed or interrupted build leaves no partial output.
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string& error) {
  std::string target = ResolvePath(path);
  std::string temp = target + ".netpolc-tmp-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      close(fd);
      unlink(name.data());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
    error = std::strerror(errno);
    unlink(name.data());
    return false;
  }
  if (std::rename(name.data(), target.c_str()) != 0) {
    error = std::strerror(errno);
    unlink(name.data());
    return false;
  }
  return true;
}

struct BuildOptions {
  std::string file;
  std::string target;
  std::vector<std::string> settings;
  std::optional<std::string> template_path;
  std::optional<std::string> output;
};

// Applies one --set NAME=VALUE to `config`. Returns false after reporting.
bool ApplySetting(const std::string& setting, const ir::Module& module, ir::Config& config,
                  SourceManager& sources, std::string& err) {
  size_t eq = setting.find('=');
  if (eq == std::string::npos || eq == 0) {
    err += fmt::format("netpolc: error: --set {}: expected NAME=VALUE\n", setting);
    return false;
  }
  std::string name = setting.substr(0, eq);
  std::string value = setting.substr(eq + 1);
  if (std::optional<uint32_t> flag = module.FindFlag(name)) {
    if (value != "true" && value != "false") {
      err += fmt::format("netpolc: error: --set {}: flag '{}' takes true or false\n", setting, name);
      return false;
    }
    config.flags[*flag] = value == "true";
    return true;
  }
  std::optional<uint32_t> index = module.FindParam(name);
  if (!index) {
    err += fmt::format("netpolc: error: --set {}: the rules file declares no flag or parameter '{}'\n",
                       setting, name);
    return false;
  }
  const ir::Param& param = module.params[*index];
  ir::ParamValue& out = config.params[*index];
  switch (param.type) {
    case ir::ParamType::kString:
      out.text = value;
      return true;
    case ir::ParamType::kInt: {
      char* end = nullptr;
      errno = 0;
      long long n = value.empty() ? 0 : std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0) {
        err += fmt::format("netpolc: error: --set {}: parameter '{}' takes an integer\n", setting, name);
        return false;
      }
      out.integer = n;
      out.text = std::to_string(n);
      return true;
    }
    case ir::ParamType::kPeers: {
      uint32_t file = sources.Add("--set " + name, value);
      Diagnostics diagnostics;
      std::optional<std::vector<ast::Peer>> peers = ParsePeerList(sources, file, diagnostics);
      std::optional<std::vector<ir::PeerRef>> lowered;
      if (peers) lowered = LowerPeerList(*peers, module, diagnostics);
      if (!lowered) {
        err += RenderAll(diagnostics, sources);
        return false;
      }
      out.peers = std::move(*lowered);
      return true;
    }
  }
  return false;
}

int Build(const BuildOptions& options, std::string& out, std::string& err) {
  const backends::Backend* backend = backends::FindBackend(options.target);
  if (backend == nullptr) {
    err += fmt::format("netpolc: error: unknown target '{}'; the targets are:\n{}", options.target,
                       TargetList());
    return kExitUsage;
  }
  if (options.template_path && !backend->takes_template()) {
    err += fmt::format("netpolc: error: target '{}' takes no --template\n", options.target);
    return kExitUsage;
  }
  std::string error;
  std::optional<std::string> text = ReadFile(options.file, error);
  if (!text) {
    err += fmt::format("netpolc: error: cannot read '{}': {}\n", options.file, error);
    return kExitUsage;
  }
  std::optional<std::string> template_text;
  if (options.template_path) {
    template_text = ReadFile(*options.template_path, error);
    if (!template_text) {
      err += fmt::format("netpolc: error: cannot read '{}': {}\n", *options.template_path, error);
      return kExitUsage;
    }
  }

  SourceManager sources;
  uint32_t file = sources.Add(options.file, std::move(*text));
  Diagnostics diagnostics;
  std::optional<ast::File> ast = ParseFile(sources, file, diagnostics);
  std::optional<ir::Module> module;
  if (ast) module = Lower(*ast, diagnostics);
  if (!module) {
    err += RenderAll(diagnostics, sources);
    return kExitInputErrors;
  }

  ir::Config config = ir::Config::Defaults(*module);
  for (const std::string& setting : options.settings) {
    if (!ApplySetting(setting, *module, config, sources, err)) return kExitUsage;
  }

  std::optional<ir::PolicySet> policies;
  if (backend->needs_policies()) {
    policies = Instantiate(*module, config, diagnostics);
    if (!policies) {
      err += RenderAll(diagnostics, sources);
      return kExitInputErrors;
    }
  }

  backends::Input input{*module, config};
  input.policies = policies ? &*policies : nullptr;
  input.source_name = options.file;
  input.all_configurations = options.settings.empty();
  input.template_text = std::move(template_text);
  std::string rendered;
  bool ok = backend->Render(input, rendered, diagnostics);
  err += RenderAll(diagnostics, sources);  // warnings, if any
  if (!ok || diagnostics.has_errors()) return kExitInputErrors;

  if (options.output && *options.output != "-") {
    if (!WriteFileAtomically(*options.output, rendered, error)) {
      err += fmt::format("netpolc: error: cannot write '{}': {}\n", *options.output, error);
      return kExitUsage;
    }
  } else {
    out += rendered;
  }
  return kExitOk;
}

int UsageError(std::string& err, const std::string& message) {
  err += "netpolc: error: " + message + "\n";
  err += "Run 'netpolc --help' for usage.\n";
  return kExitUsage;
}

}  // namespace

int RunDriver(const std::vector<std::string>& args, std::string& out, std::string& err) {
  if (args.empty()) {
    err += Usage();
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out += Usage();
    return kExitOk;
  }
  if (command == "--version") {
    out += std::string(kVersion) + "\n";
    return kExitOk;
  }
  if (command == "targets") {
    if (args.size() > 1) return UsageError(err, "'targets' takes no arguments");
    out += TargetList();
    return kExitOk;
  }
  if (command != "build") {
    return UsageError(err, fmt::format("unknown command '{}'", command));
  }

  BuildOptions options;
  bool have_file = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto take_value = [&](const std::string& option) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      (void)option;
      return args[++i];
    };
    // Accept both "--opt value" and "--opt=value".
    std::string option = arg;
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        option = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
    }
    auto value = [&]() { return inline_value ? inline_value : take_value(option); };
    if (option == "--help" || option == "-h") {
      out += Usage();
      return kExitOk;
    } else if (option == "--target") {
      auto v = value();
      if (!v) return UsageError(err, "--target needs a value");
      options.target = *v;
    } else if (option == "--set") {
      auto v = value();
      if (!v) return UsageError(err, "--set needs NAME=VALUE");
      options.settings.push_back(*v);
    } else if (option == "--template") {
      auto v = value();
      if (!v) return UsageError(err, "--template needs a file");
      options.template_path = *v;
    } else if (option == "-o" || option == "--output") {
      auto v = value();
      if (!v) return UsageError(err, option + " needs a file");
      options.output = *v;
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      return UsageError(err, fmt::format("unknown option '{}'", arg));
    } else if (have_file) {
      return UsageError(err, fmt::format("more than one input file ('{}' and '{}')", options.file, arg));
    } else {
      options.file = arg;
      have_file = true;
    }
  }
  if (!have_file) return UsageError(err, "build needs a rules file");
  if (options.target.empty()) return UsageError(err, "build needs --target (see 'netpolc targets')");
  return Build(options, out, err);
}

}  // namespace netpolc
