// Renders the policy IR as Kubernetes NetworkPolicy objects.
//
// Semantics relied on (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
// - a rule with no `from`/`to` admits every source/destination, in or outside
//   the cluster: that is how `anywhere` is written;
// - a peer with only `podSelector` selects pods in the policy's own
//   namespace; with `namespaceSelector` too, pods matching both; an empty
//   `namespaceSelector` matches every namespace;
// - every namespace carries the immutable label kubernetes.io/metadata.name,
//   which selects one namespace by name;
// - `ports` entries are protocol + port, with `endPort` for a range; `port`
//   may be the name of a container port of the destination pod;
// - a selector's `matchExpressions` (In, NotIn, Exists, DoesNotExist) are
//   ANDed with its `matchLabels`.
// - ipBlock selects "particular IP CIDR ranges ... These should be
//   cluster-external IPs"; whether it also matches pod addresses is left to
//   the plugin, and most plugins match them. The IR's address blocks mean
//   addresses outside the cluster's pod network, so the pod networks that
//   overlap a block are written in its `except` (each strictly inside the
//   cidr, as the API server requires; a block inside a pod network never
//   reaches the IR). Without declared pod networks the block is written
//   alone, with a warning at the rule (compiler/semantics/pod_networks.h).
// Each IR rule is peers x ports, so one IR rule becomes one policy rule.
#include "backends/k8s/k8s.h"

#include "backends/entities.h"
#include "backends/source_name.h"
#include "backends/yaml_writer.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc::backends::k8s {
namespace {

// A label selector's matchLabels ({} when there are none).
void MatchLabels(YamlEmitter& out, const std::vector<ir::Label>& labels) {
  if (labels.empty()) return;
  out.Map("matchLabels");
  for (const ir::Label& label : labels) out.String(label.key, label.value);
  out.End();
}

// matchLabels and matchExpressions (requirements sorted by key).
void Selector(YamlEmitter& out, const std::vector<ir::Label>& labels,
              const std::vector<ir::Requirement>& requirements) {
  MatchLabels(out, labels);
  if (requirements.empty()) return;
  out.Seq("matchExpressions");
  for (const ir::Requirement& r : requirements) {
    const bool listed = r.op == ir::Requirement::Op::kIn || r.op == ir::Requirement::Op::kNotIn;
    SelectorRequirement(out, r.key, ir::RequirementOpName(r.op), listed ? &r.values : nullptr);
  }
  out.End();
}

// The entries of a peer's map.
void Peer(YamlEmitter& out, const ir::Peer& peer, const std::string& policy_ns,
          const std::vector<std::string>& pod_networks) {
  switch (peer.kind) {
    case ir::Peer::Kind::kIpBlock: {
      out.Map("ipBlock");
      out.String("cidr", peer.cidr);
      std::vector<std::string> holes = ExceptWithPodNetworks(peer.cidr, peer.except, pod_networks);
      if (!holes.empty()) {
        out.Seq("except");
        for (const std::string& e : holes) out.ItemString(e);
        out.End();
      }
      out.End();
      return;
    }
    case ir::Peer::Kind::kPods:
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          if (peer.ns != policy_ns) {
            out.Map("namespaceSelector");
            out.Map("matchLabels");
            out.String("kubernetes.io/metadata.name", peer.ns);
            out.End();
            out.End();
          }
          break;
        case ir::NamespaceMatch::kAny:
          out.Map("namespaceSelector");
          out.End();
          break;
        case ir::NamespaceMatch::kLabels:
          out.Map("namespaceSelector");
          Selector(out, peer.ns_labels, peer.ns_exprs);
          out.End();
          break;
      }
      out.Map("podSelector");
      Selector(out, peer.pod_labels, peer.pod_exprs);
      out.End();
      return;
    case ir::Peer::Kind::kAnywhere:
      break;  // handled by the caller: the rule has no peer list
    case ir::Peer::Kind::kKubeApiserver:
    case ir::Peer::Kind::kNodes:
      break;  // replaced by the declared peers (EntityExpander)
  }
}

// The entries of a rule's map.
void Rule(YamlEmitter& out, const ir::PolicyRule& rule, const std::string& policy_ns,
          const char* peers_key, const std::vector<std::string>& pod_networks) {
  bool anywhere = false;
  for (const ir::Peer& peer : rule.peers) {
    if (peer.kind == ir::Peer::Kind::kAnywhere) anywhere = true;
  }
  // `anywhere` subsumes the rule's other peers: omit the peer list.
  if (!anywhere) {
    out.Seq(peers_key);
    for (const ir::Peer& peer : rule.peers) {
      out.ItemMap();
      Peer(out, peer, policy_ns, pod_networks);
      out.End();
    }
    out.End();
  }
  out.Seq("ports");
  for (const ir::PortRange& range : rule.ports) {
    out.ItemMap();
    out.String("protocol", ir::ProtocolName(range.protocol));
    out.Number("port", range.first);
    if (range.last != range.first) out.Number("endPort", range.last);
    out.End();
  }
  // A named port is resolved on the destination pod: the policy's pod for
  // ingress, the peer for egress.
  for (const ir::NamedPort& named : rule.named_ports) {
    out.ItemMap();
    out.String("protocol", ir::ProtocolName(named.protocol));
    out.String("port", named.name);
    out.End();
  }
  out.End();
}

void WriteDocument(const ir::Policy& policy, const std::vector<std::string>& pod_networks,
                   std::string& text) {
  text += "---\n";
  YamlEmitter out(text);
  PolicyDocument(out, "networking.k8s.io/v1", "NetworkPolicy", policy.name, policy.ns);
  out.Map("spec");
  out.Map("podSelector");
  MatchLabels(out, policy.selector);
  out.End();
  out.Seq("policyTypes");
  if (policy.isolate_ingress) out.ItemString("Ingress");
  if (policy.isolate_egress) out.ItemString("Egress");
  out.End();
  if (!policy.ingress.empty()) {
    out.Seq("ingress");
    for (const ir::PolicyRule& rule : policy.ingress) {
      out.ItemMap();
      Rule(out, rule, policy.ns, "from", pod_networks);
      out.End();
    }
    out.End();
  }
  if (!policy.egress.empty()) {
    out.Seq("egress");
    for (const ir::PolicyRule& rule : policy.egress) {
      out.ItemMap();
      Rule(out, rule, policy.ns, "to", pod_networks);
      out.End();
    }
    out.End();
  }
  out.Finish();
}

class K8sBackend : public Backend {
 public:
  std::string_view name() const override { return "k8s"; }
  std::string_view description() const override {
    return "Kubernetes NetworkPolicy (networking.k8s.io/v1) YAML";
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
        input, count, "k8s",
        "on network plugins whose ipBlock matches pod addresses (most do), ", &WriteDocument);
  }
};

}  // namespace

const Backend& Instance() {
  static const K8sBackend backend;
  return backend;
}

}  // namespace netpolc::backends::k8s
