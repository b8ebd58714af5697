// netpolc verify: whether existing manifests admit exactly what a rules file
// admits in one configuration (docs/manifests.md).
#include <fmt/format.h>

#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/cli/commands/manifest_input.h"
#include "compiler/cli/file_io.h"
#include "compiler/frontend/frontend.h"
#include "compiler/semantics/instantiate.h"
#include "compiler/manifests/compare.h"
#include "compiler/manifests/reader.h"

namespace netpolc {

std::string VerifyUsage() {
  return "Usage: netpolc verify RULES PATH... [--set NAME=VALUE]... [--values FILE.yaml]...\n"
         "\n"
         "Compares what the manifests at PATH (files or directories: e.g. the output of\n"
         "`kubectl get netpol -A -o yaml`, or a chart's rendered templates) admit with\n"
         "what the rules file RULES admits in the configuration given by --set and\n"
         "--values (flags not set keep their defaults). The manifests may hold\n"
         "networking.k8s.io/v1 NetworkPolicies, CiliumNetworkPolicies and Calico\n"
         "NetworkPolicies; a connection must be admitted by every kind present.\n"
         "\n"
         "Both are evaluated over the rules' components, the pods their rules name,\n"
         "the manifests' workloads and external addresses (one inside every address\n"
         "block). Each connection admitted by one side only is printed, located:\n"
         "  rules only: NS/kafka => NS/zookeeper : TCP 2181 (rules/x.netpol:40:5)\n"
         "  manifests only: NS/a => NS/b : TCP 9093 (NetworkPolicy NS/es-kafka)\n"
         "\n"
         "Options:\n"
         "  --set NAME=VALUE, --values FILE.yaml   the configuration, as for build\n"
         "\n"
         "Exit status: 0 both admit the same connections; 1 they differ; 2 usage\n"
         "errors, unreadable files, errors in the rules file or malformed manifests.\n";
}

int RunVerify(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--set");
  args.Value("--values");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "verify", error);
  if (args.help()) {
    out += VerifyUsage();
    return kExitOk;
  }
  if (args.positional().size() < 2) {
    return UsageError(err, "verify", "verify needs a rules file and at least one manifest path");
  }
  const std::string& path = args.positional()[0];
  std::optional<std::string> text = ReadFile(path, error);
  if (!text) {
    err += fmt::format("netpolc: error: cannot read '{}': {}\n", DisplayName(path), error);
    return kExitUsage;
  }
  Compilation compilation;
  std::optional<ir::Module> module =
      CompileModule(compilation, DisplayName(path), std::move(*text));
  if (!module) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    return kExitUsage;
  }
  std::optional<ir::Config> config =
      MakeConfig(*module, ConfigSettings(args), compilation.sources, err);
  if (!config) return kExitUsage;
  std::optional<ir::PolicySet> policies = Instantiate(*module, *config, compilation.diagnostics);
  if (!policies) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    return kExitUsage;
  }
  std::vector<std::string> paths(args.positional().begin() + 1, args.positional().end());
  // Cilium and Calico policies are evaluated too: no warning about them.
  std::optional<manifests::Manifests> input = LoadManifests(paths, "", err);
  if (!input) return kExitUsage;
  manifests::Comparison comparison;
  try {
    comparison = manifests::CompareWithRules(*policies, compilation.sources, *input);
  } catch (const verify::Error& e) {
    err += fmt::format("netpolc: error: cannot evaluate the manifests: {}\n", e.what());
    return kExitUsage;
  }
  out += manifests::FormatComparison(comparison);
  size_t n = comparison.discrepancies.size();
  std::string over = fmt::format("{} pods and {} external addresses", comparison.pods,
                                 comparison.externals);
  if (n == 0) {
    out += fmt::format("verify: the manifests admit what the rules admit (over {})\n", over);
    return kExitOk;
  }
  out += fmt::format("verify: {} difference{} (over {})\n", n, n == 1 ? "" : "s", over);
  return kExitInputErrors;
}

}  // namespace netpolc
