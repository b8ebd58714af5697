// netpolc connlist: every connection that existing Kubernetes manifests
// allow, in the format of np-guard's netpol-analyzer (docs/manifests.md).
#include <fmt/format.h>

#include "compiler/cli/commands/commands.h"
#include "compiler/cli/commands/manifest_input.h"
#include "compiler/manifests/connlist.h"

namespace netpolc {

std::string ConnlistUsage() {
  return "Usage: netpolc connlist PATH... [--format txt|json|md|csv|dot] [-o FILE]\n"
         "\n"
         "Reads Kubernetes manifests (YAML or JSON files, or directories read\n"
         "recursively; several documents per file; List, PodList, NamespaceList...\n"
         "wrappers): Namespaces, workloads (Pod, Deployment, ReplicaSet, StatefulSet,\n"
         "DaemonSet, Job, CronJob, ReplicationController, KubeVirt VirtualMachine) and\n"
         "networking.k8s.io/v1 NetworkPolicies, and prints every allowed connection\n"
         "between workloads and to or from outside addresses, one a line, as np-guard's\n"
         "netpol-analyzer does:\n"
         "  backend/checkout[Deployment] => backend/notification[Deployment] : TCP 8080\n"
         "  default/pod-3[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
         "Pods with a controlling owner are listed as that owner. Other kinds (Services\n"
         "among them) are skipped with one warning per kind, on standard error.\n"
         "\n"
         "Options:\n"
         "  --format FORMAT   txt (the default), json, md, csv or dot\n"
         "  -o, --output FILE write there (atomically) instead of standard output\n"
         "                    (- is standard output)\n"
         "\n"
         "Exit status: 0 listed; 1 malformed manifests (a file:line:column error);\n"
         "2 usage errors or unreadable paths.\n";
}

int RunConnlist(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  int status = kExitOk;
  std::optional<ManifestCommandLine> line =
      ParseManifestCommandLine(arguments, "connlist", ConnlistUsage(), {"--format"}, out, err, status);
  if (!line) return status;
  std::string format = line->args.Get("--format").value_or("txt");
  if (!manifests::IsConnListFormat(format)) {
    return UsageError(err, "connlist",
                      fmt::format("unknown format '{}'; expected txt, json, md, csv or dot", format));
  }
  std::optional<manifests::Manifests> input =
      LoadManifests(line->paths, "are not evaluated by connlist (see verify)", err);
  if (!input) return kExitInputErrors;
  std::string rendered = manifests::FormatConnList(manifests::ComputeConnList(*input), format);
  return WriteCommandOutput(line->output, rendered, out, err);
}

}  // namespace netpolc
