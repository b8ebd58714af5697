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

#include <map>

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

// Adds the criteria selecting `peer` to an entity rule (source/destination).
void AddPeer(YamlNode& entity, const ir::Peer& peer, const std::string& policy_ns,
             const std::vector<std::string>& pod_networks) {
  switch (peer.kind) {
    case ir::Peer::Kind::kAnywhere:
    case ir::Peer::Kind::kKubeApiserver:  // replaced by the declared peers (EntityExpander)
    case ir::Peer::Kind::kNodes:
      return;
    case ir::Peer::Kind::kIpBlock: {
      entity.Add("nets", YamlNode::Seq()).Push(YamlNode::String(peer.cidr));
      std::vector<std::string> holes = ExceptWithPodNetworks(peer.cidr, peer.except, pod_networks);
      if (!holes.empty()) {
        YamlNode& not_nets = entity.Add("notNets", YamlNode::Seq());
        for (const std::string& e : holes) not_nets.Push(YamlNode::String(e));
      }
      return;
    }
    case ir::Peer::Kind::kPods:
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          if (peer.ns != policy_ns) {
            entity.Add("namespaceSelector",
                       YamlNode::String("projectcalico.org/name == " + Quote(peer.ns)));
          }
          break;
        case ir::NamespaceMatch::kAny:
          entity.Add("namespaceSelector", YamlNode::String("all()"));
          break;
        case ir::NamespaceMatch::kLabels:
          entity.Add("namespaceSelector",
                     YamlNode::String(Selector(peer.ns_labels, peer.ns_exprs, false)));
          break;
      }
      entity.Add("selector", YamlNode::String(Selector(peer.pod_labels, peer.pod_exprs, true)));
      return;
  }
}

YamlNode PortValue(const ir::PortRange& range) {
  if (range.first == range.last) return YamlNode::Number(range.first);
  return YamlNode::String(fmt::format("{}:{}", range.first, range.last));
}

void AddRules(YamlNode& side, const std::vector<ir::PolicyRule>& rules, bool ingress,
              const std::string& policy_ns, const std::vector<std::string>& pod_networks) {
  for (const ir::PolicyRule& rule : rules) {
    std::map<ir::Protocol, std::vector<ir::PortRange>> by_protocol;
    for (const ir::PortRange& r : rule.ports) by_protocol[r.protocol].push_back(r);
    std::map<ir::Protocol, std::vector<std::string>> names_by_protocol;
    for (const ir::NamedPort& p : rule.named_ports) {
      names_by_protocol[p.protocol].push_back(p.name);
      by_protocol[p.protocol];  // a rule per protocol, numbers or names
    }
    std::vector<const ir::Peer*> peers;
    bool anywhere = false;
    for (const ir::Peer& peer : rule.peers) {
      if (peer.kind == ir::Peer::Kind::kAnywhere) anywhere = true;
      peers.push_back(&peer);
    }
    static const ir::Peer kAnywhere;  // kind kAnywhere
    if (anywhere) peers = {&kAnywhere};  // subsumes the other peers
    for (const ir::Peer* peer : peers) {
      for (const auto& [protocol, ranges] : by_protocol) {
        YamlNode& node = side.Push(YamlNode::Map());
        node.Add("action", YamlNode::String("Allow"));
        node.Add("protocol", YamlNode::String(ir::ProtocolName(protocol)));
        YamlNode peer_entity = YamlNode::Map();
        AddPeer(peer_entity, *peer, policy_ns, pod_networks);
        YamlNode ports = YamlNode::Seq();
        for (const ir::PortRange& r : ranges) ports.Push(PortValue(r));
        for (const std::string& name : names_by_protocol[protocol]) ports.Push(YamlNode::String(name));
        if (ingress) {
          if (!peer_entity.empty()) node.Add("source", std::move(peer_entity));
          node.Add("destination", YamlNode::Map()).Add("ports", std::move(ports));
        } else {
          peer_entity.Add("ports", std::move(ports));
          node.Add("destination", std::move(peer_entity));
        }
      }
    }
  }
}

void WriteDocument(const ir::Policy& policy, const std::vector<std::string>& pod_networks,
                   std::string& text) {
  if (!policy.isolate_ingress && !policy.isolate_egress) return;  // selects nothing
  YamlNode doc = PolicyDocument("projectcalico.org/v3", "NetworkPolicy", policy.name, policy.ns);
  YamlNode& spec = doc.Add("spec", YamlNode::Map());
  spec.Add("order", YamlNode::Number(kOrder));
  spec.Add("selector", YamlNode::String(LabelsSelector(policy.selector, true)));
  YamlNode& types = spec.Add("types", YamlNode::Seq());
  if (policy.isolate_ingress) types.Push(YamlNode::String("Ingress"));
  if (policy.isolate_egress) types.Push(YamlNode::String("Egress"));
  YamlNode ingress = YamlNode::Seq();
  AddRules(ingress, policy.ingress, true, policy.ns, pod_networks);
  if (!ingress.empty()) spec.Add("ingress", std::move(ingress));
  YamlNode egress = YamlNode::Seq();
  AddRules(egress, policy.egress, false, policy.ns, pod_networks);
  if (!egress.empty()) spec.Add("egress", std::move(egress));
  text += "---\n";
  doc.Write(text);
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
