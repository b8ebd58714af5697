// netpolc explain: is one connection allowed, when, and which rules decide it.
#include <fmt/format.h>

#include <optional>

#include <cerrno>
#include <cstdlib>

#include "compiler/analysis/explain.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands/analysis_input.h"
#include "compiler/cli/commands/commands.h"
#include "compiler/semantics/k8s_names.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc {
namespace {

bool IsAddress(const std::string& text) {
  std::string error;
  return !text.empty() && text.find('/') == std::string::npos &&
         ParseCidr(text + (text.find(':') != std::string::npos ? "/128" : "/32"), error).has_value();
}

}  // namespace

std::string ExplainUsage() {
  return "Usage: netpolc explain FILE --from A --to B --port PORT [--protocol tcp|udp|sctp]\n"
         "                       [--set NAME=VALUE]... [--values FILE.yaml]... [--defaults]\n"
         "\n"
         "Says whether the connection from A to B on PORT is allowed: in every\n"
         "configuration, in none, or under which flag values (flags not given by --set or\n"
         "--values stay open). Lists the rules of A's egress and B's ingress that decide\n"
         "it, as file:line with the rule's source line.\n"
         "\n"
         "Options:\n"
         "  --from A, --to B     component names, or an IP address outside the cluster (not\n"
         "                       in the pod networks)\n"
         "  --port PORT          1 to 65535\n"
         "  --protocol P         tcp (the default), udp or sctp\n"
         "  --set, --values      flag and parameter values (as for build); later ones win\n"
         "  --defaults           flags not set keep their declared defaults\n"
         "\n"
         "Exit status: 0 answered; 1 errors in the rules file, or a condition too complex\n"
         "to analyse (see docs/analysis.md); 2 usage errors, bad values, unknown components\n"
         "or unreadable files.\n";
}

int RunExplain(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--from");
  args.Value("--to");
  args.Value("--port");
  args.Value("--protocol");
  args.Value("--set");
  args.Value("--values");
  args.Switch("--defaults");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "explain", error);
  if (args.help()) {
    out += ExplainUsage();
    return kExitOk;
  }
  if (args.positional().size() != 1) {
    return UsageError(err, "explain", args.positional().empty() ? "explain needs a rules file"
                                                                : "explain takes one rules file");
  }
  std::optional<std::string> from = args.Get("--from"), to = args.Get("--to"),
                             port_text = args.Get("--port");
  if (!from || !to || !port_text) {
    return UsageError(err, "explain", "explain needs --from, --to and --port");
  }
  char* end = nullptr;
  errno = 0;
  long port = std::strtol(port_text->c_str(), &end, 10);
  if (port_text->empty() || *end != '\0' || errno != 0 || port < 1 || port > 65535) {
    return UsageError(err, "explain",
                      fmt::format("--port takes a port from 1 to 65535, not '{}'", *port_text));
  }
  std::string protocol_text = args.Get("--protocol").value_or("tcp");
  for (char& ch : protocol_text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  ir::Protocol protocol;
  if (protocol_text == "tcp") {
    protocol = ir::Protocol::kTcp;
  } else if (protocol_text == "udp") {
    protocol = ir::Protocol::kUdp;
  } else if (protocol_text == "sctp") {
    protocol = ir::Protocol::kSctp;
  } else {
    return UsageError(err, "explain",
                      fmt::format("unknown protocol '{}'; expected tcp, udp or sctp", protocol_text));
  }

  const std::string& path = args.positional()[0];
  int status = kExitOk;
  std::optional<AnalysisInput> input =
      LoadAnalysisInput(path, ConfigSettings(args), args.Has("--defaults"), err, status);
  if (!input) return status;

  auto endpoint = [&](const std::string& name) -> std::optional<analysis::Endpoint> {
    if (std::optional<uint32_t> c = input->module.FindComponent(name)) {
      return analysis::Endpoint::Component(*c);
    }
    if (IsAddress(name)) return analysis::Endpoint::Address(name);
    std::string names;
    for (const ir::Component& c : input->module.components) {
      names += (names.empty() ? "" : ", ") + c.id;
    }
    err += fmt::format(
        "netpolc: error: '{}' is neither a component of {} nor an IP address; the components "
        "are: {}\n",
        name, path, names);
    return std::nullopt;
  };
  std::optional<analysis::Endpoint> source = endpoint(*from), destination = endpoint(*to);
  if (!source || !destination) return kExitUsage;
  // Address blocks mean addresses outside the cluster: an address of the pod
  // networks is a pod's.
  std::vector<std::string> pod_networks = PodNetworks(input->module, input->config);
  for (const analysis::Endpoint* end : {&*source, &*destination}) {
    if (end->is_component()) continue;
    if (std::optional<std::string> network = PodNetworkOf(end->address, pod_networks)) {
      return UsageError(err, "explain",
                        fmt::format("{} is in the pod network {} (parameter pod_networks): it is a "
                                    "pod's address, not one outside the cluster; name the "
                                    "component instead",
                                    end->address, *network));
    }
  }
  if (!source->is_component() && !destination->is_component()) {
    return UsageError(err, "explain", "at least one of --from and --to must be a component");
  }

  analysis::Bdd bdd;
  std::optional<analysis::Model> model;
  std::string rendered;
  bool analysed = Analyse(
      input->compilation->sources,
      [&] {
        model.emplace(input->module, input->config, bdd,
                      analysis::Model::BindFlags(input->module, input->config, input->fixed, bdd));
        analysis::Explanation explanation = analysis::Explain(
            *model, *source, *destination, protocol, static_cast<uint16_t>(port));
        rendered = analysis::RenderExplanation(*model, explanation, input->compilation->sources);
      },
      [&] { return model ? model->focus() : SourceLoc{}; }, err);
  if (!analysed) return kExitInputErrors;
  out += rendered;
  return kExitOk;
}

}  // namespace netpolc
