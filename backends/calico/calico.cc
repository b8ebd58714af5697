// Renders the policy IR as Calico NetworkPolicy (projectcalico.org/v3)
// objects.
//
// Semantics relied on (Calico 3.32: docs.tigera.io/calico/latest/reference/
// resources/networkpolicy, and libcalico-go's conversion of v3 rules,
// updateprocessors/rules.go):
// - A NetworkPolicy applies to the workload endpoints of its namespace that
//   match `selector`, in the directions listed in `types`. Without `types`
//   Calico derives them from the rules present (a policy with only egress
//   rules would not isolate ingress), so `types` is always written. A pod to
//   which some policy applies in a direction is denied what no rule allows
//   (end of tier); a policy of type Ingress with no ingress rule denies all.
// - Rules are evaluated in order and the first match decides; every rule
//   written here is `action: Allow`, so the result is the union of the rules,
//   as in Kubernetes, whatever `order` the policies have (1000, the order
//   Calico gives Kubernetes NetworkPolicies).
// - A rule matches when every criterion given matches. One rule has one
//   `protocol`; ports are numbers or "first:last" strings. No `source` /
//   `destination` criterion means every peer, in or outside the cluster.
// - A rule selector without `namespaceSelector` applies to the policy's own
//   namespace; `namespaceSelector: all()` to every namespace; a namespace is
//   selected by name with the label `projectcalico.org/name`.
// - Selectors also match network sets; like Calico's own conversion of
//   Kubernetes policies, pod selectors require
//   `projectcalico.org/orchestrator == 'k8s'` so that they select pods only.
// - `nets` match packets by address, pods included; `notNets` excludes
//   addresses. The IR's address blocks mean addresses outside the cluster's
//   pod network, so `notNets` holds the block's `except` and the pod networks
//   that overlap the block (a block inside a pod network never reaches the
//   IR). Without declared pod networks the block is written alone, with a
//   warning at the rule (compiler/semantics/pod_networks.h). IPv4 and IPv6 CIDRs are
//   not mixed in one rule.
// - Selector requirements: `k in {...}`, `k not in {...}` (which, like
//   Kubernetes' NotIn, matches endpoints without the label), `has(k)`,
//   `!has(k)`.
// - A named port in `ports` matches the destination endpoint's port of that
//   name and protocol (a workload endpoint's ports are its pod's container
//   ports); an address that is not a workload endpoint has no named port.
// One IR rule becomes one Calico rule per peer and protocol.
#include "backends/calico/calico.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "backends/entities.h"
#include "backends/source_name.h"
#include "backends/yaml_writer.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc::backends::calico {
namespace {

constexpr int64_t kOrder = 1000;

std::string Quote(const std::string& value) { return "'" + value + "'"; }

std::string LabelsSelector(const std::vector<ir::Label>& labels, bool pods) {
  std::string out;
  if (pods) out = "projectcalico.org/orchestrator == 'k8s'";
  for (const ir::Label& label : labels) {
    if (!out.empty()) out += " && ";
    out += label.key + " == " + Quote(label.value);
  }
  return out.empty() ? "all()" : out;
}

// The labels and requirements: `k in {'a', 'b'}`, `k not in {...}` (true
// without the label, like NotIn), `has(k)`, `!has(k)`.
std::string Selector(const std::vector<ir::Label>& labels,
                     const std::vector<ir::Requirement>& requirements, bool pods) {
  std::string out = LabelsSelector(labels, pods);
  if (requirements.empty()) return out;
  if (out == "all()") out.clear();
  for (const ir::Requirement& r : requirements) {
    if (!out.empty()) out += " && ";
    switch (r.op) {
      case ir::Requirement::Op::kIn:
      case ir::Requirement::Op::kNotIn: {
        out += r.key + (r.op == ir::Requirement::Op::kIn ? " in {" : " not in {");
        for (size_t i = 0; i < r.values.size(); ++i) {
          out += (i > 0 ? ", " : "") + Quote(r.values[i]);
        }
        out += "}";
        break;
      }
      case ir::Requirement::Op::kExists:
        out += "has(" + r.key + ")";
        break;
      case ir::Requirement::Op::kDoesNotExist:
        out += "!has(" + r.key + ")";
        break;
    }
  }
  return out;
}

// Whether Peer writes any criterion for `peer` (an empty `source` is left
// out).
bool HasCriteria(const ir::Peer& peer) {
  return peer.kind == ir::Peer::Kind::kIpBlock || peer.kind == ir::Peer::Kind::kPods;
}

// The criteria selecting `peer`: entries of an entity rule's map (source or
// destination).
void Peer(YamlEmitter& out, const ir::Peer& peer, const std::string& policy_ns,
          const std::vector<std::string>& pod_networks) {
  switch (peer.kind) {
    case ir::Peer::Kind::kAnywhere:
    case ir::Peer::Kind::kKubeApiserver:  // replaced by the declared peers (EntityExpander)
    case ir::Peer::Kind::kNodes:
      return;
    case ir::Peer::Kind::kIpBlock: {
      out.Seq("nets");
      out.ItemString(peer.cidr);
      out.End();
      std::vector<std::string> holes = ExceptWithPodNetworks(peer.cidr, peer.except, pod_networks);
      if (!holes.empty()) {
        out.Seq("notNets");
        for (const std::string& e : holes) out.ItemString(e);
        out.End();
      }
      return;
    }
    case ir::Peer::Kind::kPods:
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          if (peer.ns != policy_ns) {
            out.String("namespaceSelector", "projectcalico.org/name == " + Quote(peer.ns));
          }
          break;
        case ir::NamespaceMatch::kAny:
          out.String("namespaceSelector", "all()");
          break;
        case ir::NamespaceMatch::kLabels:
          out.String("namespaceSelector", Selector(peer.ns_labels, peer.ns_exprs, false));
          break;
      }
      out.String("selector", Selector(peer.pod_labels, peer.pod_exprs, true));
      return;
  }
}

// A rule's `ports` of one protocol: the numbers and ranges ("first:last"),
// then the names.
void Ports(YamlEmitter& out, const ir::PolicyRule& rule, ir::Protocol protocol) {
  out.Seq("ports");
  for (const ir::PortRange& r : rule.ports) {
    if (r.protocol != protocol) continue;
    if (r.first == r.last) {
      out.ItemNumber(r.first);
    } else {
      out.ItemString(fmt::format("{}:{}", r.first, r.last));
    }
  }
  for (const ir::NamedPort& p : rule.named_ports) {
    if (p.protocol == protocol) out.ItemString(p.name);
  }
  out.End();
}

// The side's list `key` (ingress or egress), left out when it has no rule:
// a Calico rule per IR rule, peer (one for `anywhere`, which subsumes the
// others) and protocol of the rule's ports, numbered or named (protocols in
// the order of ir::Protocol). The list is opened with its first rule.
void AddRules(YamlEmitter& out, std::string_view key, const std::vector<ir::PolicyRule>& rules,
              bool ingress, const std::string& policy_ns,
              const std::vector<std::string>& pod_networks) {
  bool open = false;  // the list `key`
  std::vector<ir::Protocol> protocols;
  std::vector<const ir::Peer*> peers;
  for (const ir::PolicyRule& rule : rules) {
    protocols.clear();
    for (const ir::PortRange& r : rule.ports) protocols.push_back(r.protocol);
    for (const ir::NamedPort& p : rule.named_ports) protocols.push_back(p.protocol);
    std::sort(protocols.begin(), protocols.end());
    protocols.erase(std::unique(protocols.begin(), protocols.end()), protocols.end());
    peers.clear();
    bool anywhere = false;
    for (const ir::Peer& peer : rule.peers) {
      if (peer.kind == ir::Peer::Kind::kAnywhere) anywhere = true;
      peers.push_back(&peer);
    }
    static const ir::Peer kAnywhere;  // kind kAnywhere
    if (anywhere) peers = {&kAnywhere};
    for (const ir::Peer* peer : peers) {
      for (ir::Protocol protocol : protocols) {
        if (!open) {
          out.Seq(key);
          open = true;
        }
        out.ItemMap();
        out.String("action", "Allow");
        out.String("protocol", ir::ProtocolName(protocol));
        if (ingress) {
          if (HasCriteria(*peer)) {
            out.Map("source");
            Peer(out, *peer, policy_ns, pod_networks);
            out.End();
          }
          out.Map("destination");
          Ports(out, rule, protocol);
          out.End();
        } else {
          out.Map("destination");
          Peer(out, *peer, policy_ns, pod_networks);
          Ports(out, rule, protocol);
          out.End();
        }
        out.End();
      }
    }
  }
  if (open) out.End();
}

void WriteDocument(const ir::Policy& policy, const std::vector<std::string>& pod_networks,
                   std::string& text) {
  if (!policy.isolate_ingress && !policy.isolate_egress) return;  // selects nothing
  text += "---\n";
  YamlEmitter out(text);
  PolicyDocument(out, "projectcalico.org/v3", "NetworkPolicy", policy.name, policy.ns);
  out.Map("spec");
  out.Number("order", kOrder);
  out.String("selector", LabelsSelector(policy.selector, true));
  out.Seq("types");
  if (policy.isolate_ingress) out.ItemString("Ingress");
  if (policy.isolate_egress) out.ItemString("Egress");
  out.End();
  AddRules(out, "ingress", policy.ingress, true, policy.ns, pod_networks);
  AddRules(out, "egress", policy.egress, false, policy.ns, pod_networks);
  out.Finish();
}

class CalicoBackend : public Backend {
 public:
  std::string_view name() const override { return "calico"; }
  std::string_view description() const override {
    return "Calico NetworkPolicy (projectcalico.org/v3) YAML";
  }

  bool Render(const Input& input, std::string& out, Diagnostics& diagnostics) const override {
    return RenderWithWriter(*this, input, out, diagnostics);
  }

  std::unique_ptr<PolicyWriter> StartPolicies(const Input& input, size_t count,
                                              std::string& out) const override {
    out += "# Generated by netpolc from ";
    out += SourceNameForComment(input.source_name);
    out += ". Do not edit.\n";
    return std::make_unique<ExpandedDocumentWriter>(
        input, count, "calico", "Calico's nets match pod addresses, so ", &WriteDocument);
  }
};

}  // namespace

const Backend& Instance() {
  static const CalicoBackend backend;
  return backend;
}

}  // namespace netpolc::backends::calico
