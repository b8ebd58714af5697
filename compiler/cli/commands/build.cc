// netpolc build: compile a rules file for one target.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

#include "backends/registry.h"
#include "backends/yaml_writer.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/cli/file_io.h"
#include "compiler/frontend/compile_pieces.h"
#include "compiler/frontend/frontend.h"
#include "compiler/memory.h"
#include "compiler/semantics/instantiate.h"

namespace netpolc {

std::string TargetList() {
  std::string out;
  for (const backends::Backend* backend : backends::AllBackends()) {
    out += fmt::format("  {:<10} {}\n", backend->name(), backend->description());
  }
  return out;
}

int RunTargets(const std::vector<std::string>& args, std::string& out, std::string& err) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    out += "Usage: netpolc targets\n\nLists the targets of `netpolc build --target`.\n";
    return kExitOk;
  }
  if (!args.empty()) return UsageError(err, "targets", "'targets' takes no arguments");
  out += TargetList();
  return kExitOk;
}

int RunBuild(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--target");
  args.Value("--set");
  args.Value("--values");
  args.Value("--template");
  args.Value("--output", "-o");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "build", error);
  if (args.help()) {
    out += BuildUsage();
    return kExitOk;
  }
  if (args.positional().empty()) return UsageError(err, "build", "build needs a rules file");
  if (args.positional().size() > 1) {
    return UsageError(err, "build",
                      fmt::format("more than one input file ('{}' and '{}')",
                                  args.positional()[0], args.positional()[1]));
  }
  std::optional<std::string> target = args.Get("--target");
  if (!target) return UsageError(err, "build", "build needs --target (see 'netpolc targets')");
  const std::string& path = args.positional()[0];

  const backends::Backend* backend = backends::FindBackend(*target);
  if (backend == nullptr) {
    err += fmt::format("netpolc: error: unknown target '{}'; the targets are:\n{}", *target,
                       TargetList());
    return kExitUsage;
  }
  std::optional<std::string> template_path = args.Get("--template");
  if (template_path && !backend->takes_template()) {
    return UsageError(err, "build", fmt::format("target '{}' takes no --template", *target));
  }
  std::optional<std::string> output = args.Get("--output");
  if (output) {
    std::vector<std::string> inputs = {path};
    if (template_path) inputs.push_back(*template_path);
    for (const std::string& values : args.All("--values")) inputs.push_back(values);
    if (std::optional<std::string> input = FindOutputAmongInputs(*output, inputs)) {
      return OutputIsInputError(err, *output, *input);
    }
  }
  Compilation compilation;
  const std::string source_name = DisplayName(path);
  // A large file for a policy target is compiled as a StreamedModule: the
  // rules of each batch of policies are lowered again from the text when the
  // batch is made, and dropped once it is written. A regular file is read a
  // piece at a time, never held whole.
  std::unique_ptr<StreamedModule> streamed;
  std::optional<uint32_t> unread_file;
  if (backend->needs_policies() && !template_path) {
    std::optional<uint64_t> size = RegularFileSize(path);
    if (size && *size > StreamBytes() && *size <= kMaxStreamedSourceBytes) {
      unread_file = compilation.sources.AddUnread(source_name);
      streamed = CompileStreamedFile(compilation.sources, *unread_file, ResolvePath(path));
    }
  }
  // Otherwise (or if that fails: the file then has a problem to report) the
  // file is read whole. A policy target's build holds only a batch of rules
  // at a time, so it takes larger files than the other commands.
  std::optional<std::string> text;
  if (!streamed) {
    text = ReadFile(path, error,
                    backend->needs_policies() ? kMaxStreamedSourceBytes : kMaxRulesFileBytes);
    if (!text) {
      err += fmt::format("netpolc: error: cannot read '{}': {}\n", source_name, error);
      return kExitUsage;
    }
  }
  std::optional<std::string> template_text;
  if (template_path) {
    template_text = ReadFile(*template_path, error, kMaxTemplateBytes);
    if (!template_text) {
      err += fmt::format("netpolc: error: cannot read '{}': {}\n", *template_path, error);
      return kExitUsage;
    }
  }

  const bool stream = backend->needs_policies() && (streamed || text->size() > StreamBytes());
  uint32_t rules_file = 0;
  if (unread_file) {
    rules_file = *unread_file;
    if (!streamed) compilation.sources.SetText(rules_file, std::move(*text));
  } else {
    rules_file = compilation.sources.Add(source_name, std::move(*text));
  }
  if (!streamed && stream) streamed = CompileStreamed(compilation.sources, rules_file);
  std::optional<ir::Module> whole_module;
  if (!streamed) {
    // A file meant to be streamed has its problems found declaration by
    // declaration, its tokens never held at once.
    if (stream && ReportInPieces(compilation.sources, rules_file, compilation.diagnostics)) {
      err += RenderAll(compilation.diagnostics, compilation.sources);
      return kExitInputErrors;
    }
    whole_module = CompileModule(compilation, rules_file);
    if (!whole_module) {
      err += RenderAll(compilation.diagnostics, compilation.sources);
      return kExitInputErrors;
    }
  }
  ir::Module* module = streamed ? &streamed->module() : &*whole_module;
  // Renders the diagnostics; false when a streamed file, read again to quote
  // it, had changed: its lines are not shown, and what was made of it may
  // mix two versions.
  auto render_diagnostics = [&] {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    if (!compilation.sources.file(rules_file).unreadable()) return true;
    err += fmt::format("netpolc: error: '{}' changed while it was compiled\n", source_name);
    return false;
  };
  std::vector<ConfigSetting> settings = ConfigSettings(args);
  std::optional<ir::Config> config = MakeConfig(*module, settings, compilation.sources, err);
  if (!config) return kExitUsage;

  backends::Input input{*module, *config};
  input.source_name = source_name;
  input.all_configurations = settings.empty();
  input.sources = &compilation.sources;
  input.rules_file = rules_file;
  if (template_text) {
    input.template_file = compilation.sources.Add(*template_path, *template_text);
    input.template_text = std::move(template_text);
  }

  // Every target instantiates, so that flag and parameter values (defaults,
  // --set, --values) are checked the same way whichever output is asked for;
  // documentation targets then render the module and drop the policies.
  // (A documentation target needs no value for a deploy-time port.)
  // The policies are made a batch at a time, on every core, and each batch
  // is rendered and freed before the next is made: they never exist all at
  // once.
  PolicyBatches batches(*module, *config, compilation.diagnostics,
                        backend->needs_policies() ? PolicyBatches::Mode::kDeploy
                                                  : PolicyBatches::Mode::kDocumentationChecks);
  input.policies = backend->needs_policies() ? &batches.shared() : nullptr;
  std::string rendered;
  // A regular -o file is written as its batches are rendered (a failed
  // build leaves it as it was); anything else is written whole at the end.
  std::optional<OutputFile> file;
  if (output && *output != "-") file.emplace(*output);
  auto flush = [&] {
    if (!file || rendered.empty()) return;
    std::string ignored;  // a failed write is reported by Commit
    file->Append(std::exchange(rendered, std::string()), ignored);
  };
  std::unique_ptr<backends::PolicyWriter> writer;
  // A backend that renders only whole sets gets them whole.
  std::optional<ir::PolicySet> whole;
  if (backend->needs_policies()) {
    writer = backend->StartPolicies(input, batches.size(), rendered);
    if (!writer) whole = batches.shared();
  }
  const size_t batch = PolicyBatches::BatchSize();
  size_t streamed_batches = 0;
  for (size_t first = 0; first < batches.size(); first += batch) {
    // The batch's components whole while its policies are made and written
    // (writers read the rules a policy comes from).
    std::vector<uint32_t> components;
    if (streamed) {
      components = batches.Components(first, batch);
      if (!streamed->Load(components)) {
        err += fmt::format(
            "netpolc: error: '{}' changed while it was compiled: a component no longer reads "
            "or lowers as it did\n",
            source_name);
        return kExitInputErrors;
      }
    }
    std::vector<ir::Policy> policies = batches.Make(first, batch);
    if (writer) {
      writer->Write(policies, rendered);
      flush();
    } else if (whole) {
      std::move(policies.begin(), policies.end(), std::back_inserter(whole->policies));
    }
    if (streamed && writer) {
      streamed->Drop(components);
      // What the batches free is given back every few batches: the
      // allocator's decay would keep some 50 MB of it at a time, and giving
      // it back after every batch costs as much again in page faults.
      if (++streamed_batches % 4 == 0) ReleaseFreedMemory();
    }
  }
  if (!batches.Finish()) {
    render_diagnostics();
    return kExitInputErrors;
  }
  bool ok = false;
  if (writer) {
    ok = writer->Finish(rendered, compilation.diagnostics);
  } else {
    if (whole) input.policies = &*whole;
    // A documentation page's tables go to the file as they are made (a
    // policy target rendering a whole set may take back what it appended).
    std::optional<backends::OutputFlush> flushing;
    if (!whole) flushing.emplace(rendered, [&](std::string&) { flush(); });
    ok = backend->Render(input, rendered, compilation.diagnostics);
  }
  writer.reset();
  if (!render_diagnostics()) return kExitInputErrors;
  if (!ok || compilation.diagnostics.has_errors()) return kExitInputErrors;

  // The module is not needed any more: at the end of a process, left to the
  // exit (compiler/memory.h).
  if (streamed) {
    Discard(std::move(streamed));
  } else {
    Discard(std::move(*whole_module));
  }
  if (file) {
    if (!file->Append(std::move(rendered), error) || !file->Commit(error)) {
      err += fmt::format("netpolc: error: cannot write '{}': {}\n", *output, error);
      return kExitUsage;
    }
  } else {
    out += rendered;
  }
  return kExitOk;
}

std::string BuildUsage() {
  return fmt::format(
      "Usage: netpolc build FILE|- --target TARGET [--set NAME=VALUE]... [--values FILE.yaml]...\n"
      "                     [--template FILE] [-o OUT]\n"
      "\n"
      "Compiles the rules file FILE ('-' reads stdin; see docs/language.md) for one\n"
      "target. FILE may be up to 64 MiB, or 256 MiB for a policy target (k8s,\n"
      "cilium, calico, ir): past 16 MiB such a build holds only a batch of\n"
      "policies' rules at a time, lowering each batch's components again from the\n"
      "text, and does not hold a regular file's text but reads it again; a file\n"
      "changed meanwhile fails the build (docs/design.md, \"Streamed builds\").\n"
      "\n"
      "Options:\n"
      "  --target TARGET    the output to produce (required); see below\n"
      "  --set NAME=VALUE   set a flag (true|false) or a parameter of the rules file for\n"
      "                     this build; those not set keep their declared defaults, and a\n"
      "                     later --set of the same name wins. A peers parameter takes a\n"
      "                     peer list in the rules syntax: --set 'peers=kafka, anywhere'.\n"
      "                     An int parameter declared without a default (a port chosen\n"
      "                     at deploy time) must be set when a rule uses it\n"
      "  --values FILE.yaml flag and parameter values from a YAML mapping of names to\n"
      "                     values; a peers parameter takes a list of NetworkPolicyPeers\n"
      "                     (podSelector, namespaceSelector, ipBlock). --set and --values\n"
      "                     apply in command-line order, later ones winning\n"
      "  --template FILE    the page around the generated tables (documentation targets)\n"
      "  -o, --output OUT   write to OUT instead of stdout, only when the build succeeds;\n"
      "                     a regular OUT is replaced atomically (never half-written),\n"
      "                     keeping its mode, owner and links; symlinks are followed;\n"
      "                     devices, FIFOs and /dev/stdout are written directly. OUT\n"
      "                     may not be an input, nor a read-only file\n"
      "\n"
      "Targets:\n"
      "{}"
      "\n"
      "Exit status: 0 success; 1 errors in the rules file; 2 usage errors, bad --set or\n"
      "--values values, or files that cannot be read or written; 3 out of memory.\n",
      TargetList());
}

}  // namespace netpolc
