#include "backends/ir/ir_text.h"

#include <fmt/format.h>

#include "backends/source_name.h"
#include "backends/yaml_writer.h"

namespace netpolc::backends::ir_text {
namespace {

std::string Labels(const std::vector<ir::Label>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].key + "=" + labels[i].value;
  }
  return out + "}";
}

// Labels then requirements: "{app=x, tier In (a, b), debug DoesNotExist}".
std::string Selector(const std::vector<ir::Label>& labels,
                     const std::vector<ir::Requirement>& requirements) {
  std::string out = Labels(labels);
  if (requirements.empty()) return out;
  out.pop_back();
  for (size_t i = 0; i < requirements.size(); ++i) {
    const ir::Requirement& r = requirements[i];
    if (!labels.empty() || i > 0) out += ", ";
    out += r.key + " " + std::string(ir::RequirementOpName(r.op));
    if (!r.values.empty()) {
      out += " (";
      for (size_t v = 0; v < r.values.size(); ++v) out += (v > 0 ? ", " : "") + r.values[v];
      out += ")";
    }
  }
  return out + "}";
}

std::string PeerText(const ir::Peer& peer) {
  switch (peer.kind) {
    case ir::Peer::Kind::kAnywhere:
      return "anywhere";
    case ir::Peer::Kind::kIpBlock: {
      std::string out = "cidr " + peer.cidr;
      for (const std::string& e : peer.except) out += " except " + e;
      return out;
    }
    case ir::Peer::Kind::kPods: {
      std::string out = "pods " + Selector(peer.pod_labels, peer.pod_exprs);
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          return out + " in namespace " + peer.ns;
        case ir::NamespaceMatch::kAny:
          return out + " in any namespace";
        case ir::NamespaceMatch::kLabels:
          return out + " in namespaces " + Selector(peer.ns_labels, peer.ns_exprs);
      }
      return out;
    }
    case ir::Peer::Kind::kKubeApiserver:
      return "kube-apiserver";
    case ir::Peer::Kind::kNodes:
      return "nodes";
  }
  return {};
}

std::string PortsText(const std::vector<ir::PortRange>& ports) {
  std::string out;
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("{} {}", ir::ProtocolName(ports[i].protocol), ports[i].first);
    if (ports[i].last != ports[i].first) out += fmt::format("-{}", ports[i].last);
  }
  return out;
}

// "4" for a line of the rules file, "lib/db.netpol:4" for a line of a file it
// imports (file names escaped like the header's).
std::string LineText(const Input& input, const SourceLoc& loc) {
  if (input.sources == nullptr || loc.file == input.rules_file || loc.file >= input.sources->size()) {
    return fmt::format("{}", loc.line);
  }
  // Imported files lie in the rules file's directory or below it: name them
  // from there, as the import statements do.
  std::string_view path = input.sources->file(loc.file).path;
  if (input.rules_file < input.sources->size()) {
    std::string_view rules = input.sources->file(input.rules_file).path;
    size_t slash = rules.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? "" : rules.substr(0, slash + 1);
    if (path.starts_with(dir)) path.remove_prefix(dir.size());
  }
  return fmt::format("{}:{}", SourceNameForComment(path), loc.line);
}

void WriteRules(std::string& out, const Input& input, const char* direction,
                const char* preposition, const std::vector<ir::PolicyRule>& rules) {
  for (const ir::PolicyRule& rule : rules) {
    std::string ports = PortsText(rule.ports);
    for (const ir::NamedPort& named : rule.named_ports) {
      ports += fmt::format("{}{} {} (named)", ports.empty() ? "" : ", ",
                           ir::ProtocolName(named.protocol), named.name);
    }
    out += fmt::format("  {} {}{}\n", direction, ports, rule.dns ? " (dns)" : "");
    for (const ir::Peer& peer : rule.peers) {
      out += fmt::format("    {} {}\n", preposition, PeerText(peer));
    }
    if (!rule.sources.empty()) {
      out += "    lines";
      for (const SourceLoc& loc : rule.sources) out += " " + LineText(input, loc);
      out += "\n";
    }
  }
}

void WritePolicy(const Input& input, const ir::Policy& policy, std::string& out) {
  std::string where = LineText(input, policy.loc);
  if (where.find(':') == std::string::npos) where = "line " + where;
  out += fmt::format("policy {}/{} (component {}, {})\n", policy.ns, policy.name,
                     policy.component, where);
  out += fmt::format("  selects pods {}\n", Labels(policy.selector));
  out += fmt::format("  isolates{}{}\n", policy.isolate_ingress ? " ingress" : "",
                     policy.isolate_egress ? " egress" : "");
  WriteRules(out, input, "ingress", "from", policy.ingress);
  WriteRules(out, input, "egress", "to", policy.egress);
}

class IrTextWriter : public PolicyWriter {
 public:
  IrTextWriter(const Input& input, size_t count) : input_(input), count_(count) {}

  void Write(std::span<const ir::Policy> policies, std::string& out) override {
    size_t later = written_ == 0 && count_ > policies.size() ? count_ - policies.size() : 0;
    AppendDocuments(
        policies.size(), out,
        [&](size_t index, std::string& text) { WritePolicy(input_, policies[index], text); },
        later);
    written_ += policies.size();
  }

  bool Finish(std::string& out, Diagnostics&) override {
    // What targets without these identities write for them.
    for (const auto& [name, peers] :
         {std::pair{"kube-apiserver", &input_.policies->kube_apiserver_peers},
          std::pair{"nodes", &input_.policies->nodes_peers}}) {
      if (!peers->has_value()) continue;
      out += fmt::format("{} elsewhere\n", name);
      for (const ir::Peer& peer : **peers) out += fmt::format("  is {}\n", PeerText(peer));
    }
    return true;
  }

 private:
  const Input& input_;
  size_t count_;
  size_t written_ = 0;
};

class IrTextBackend : public Backend {
 public:
  std::string_view name() const override { return "ir"; }
  std::string_view description() const override {
    return "the canonical policy IR as text (for tests and debugging)";
  }

  bool Render(const Input& input, std::string& out, Diagnostics& diagnostics) const override {
    return RenderWithWriter(*this, input, out, diagnostics);
  }

  std::unique_ptr<PolicyWriter> StartPolicies(const Input& input, size_t count,
                                              std::string& out) const override {
    out += fmt::format("# netpolc policy IR of {}\n", SourceNameForComment(input.source_name));
    if (!input.policies->pod_networks.empty()) {
      out += "pod networks";
      for (const std::string& network : input.policies->pod_networks) out += " " + network;
      out += "\n";
    }
    return std::make_unique<IrTextWriter>(input, count);
  }
};

}  // namespace

const Backend& Instance() {
  static const IrTextBackend backend;
  return backend;
}

}  // namespace netpolc::backends::ir_text
