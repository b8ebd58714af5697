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

YamlNode MatchLabels(const std::vector<ir::Label>& labels) {
  YamlNode selector = YamlNode::Map();
  if (labels.empty()) return selector;
  YamlNode& match = selector.Add("matchLabels", YamlNode::Map());
  for (const ir::Label& label : labels) match.Add(label.key, YamlNode::String(label.value));
  return selector;
}

// matchLabels and matchExpressions (requirements sorted by key).
YamlNode Selector(const std::vector<ir::Label>& labels,
                  const std::vector<ir::Requirement>& requirements) {
  YamlNode selector = MatchLabels(labels);
  if (requirements.empty()) return selector;
  YamlNode& expressions = selector.Add("matchExpressions", YamlNode::Seq());
  for (const ir::Requirement& r : requirements) {
    YamlNode& node = expressions.Push(YamlNode::Map());
    node.Add("key", YamlNode::String(r.key));
    node.Add("operator", YamlNode::String(ir::RequirementOpName(r.op)));
    if (r.op == ir::Requirement::Op::kIn || r.op == ir::Requirement::Op::kNotIn) {
      YamlNode& values = node.Add("values", YamlNode::Seq());
      for (const std::string& v : r.values) values.Push(YamlNode::String(v));
    }
  }
  return selector;
}

YamlNode PeerNode(const ir::Peer& peer, const std::string& policy_ns,
                  const std::vector<std::string>& pod_networks) {
  YamlNode node = YamlNode::Map();
  switch (peer.kind) {
    case ir::Peer::Kind::kIpBlock: {
      YamlNode& block = node.Add("ipBlock", YamlNode::Map());
      block.Add("cidr", YamlNode::String(peer.cidr));
      std::vector<std::string> holes = ExceptWithPodNetworks(peer.cidr, peer.except, pod_networks);
      if (!holes.empty()) {
        YamlNode& except = block.Add("except", YamlNode::Seq());
        for (const std::string& e : holes) except.Push(YamlNode::String(e));
      }
      return node;
    }
    case ir::Peer::Kind::kPods:
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          if (peer.ns != policy_ns) {
            node.Add("namespaceSelector",
                     MatchLabels({{"kubernetes.io/metadata.name", peer.ns}}));
          }
          break;
        case ir::NamespaceMatch::kAny:
          node.Add("namespaceSelector", YamlNode::Map());
          break;
        case ir::NamespaceMatch::kLabels:
          node.Add("namespaceSelector", Selector(peer.ns_labels, peer.ns_exprs));
          break;
      }
      node.Add("podSelector", Selector(peer.pod_labels, peer.pod_exprs));
      return node;
    case ir::Peer::Kind::kAnywhere:
      break;  // handled by the caller: the rule has no peer list
    case ir::Peer::Kind::kKubeApiserver:
    case ir::Peer::Kind::kNodes:
      break;  // replaced by the declared peers (EntityExpander)
  }
  return node;
}

YamlNode RuleNode(const ir::PolicyRule& rule, const std::string& policy_ns, const char* peers_key,
                  const std::vector<std::string>& pod_networks) {
  YamlNode node = YamlNode::Map();
  bool anywhere = false;
  for (const ir::Peer& peer : rule.peers) {
    if (peer.kind == ir::Peer::Kind::kAnywhere) anywhere = true;
  }
  // `anywhere` subsumes the rule's other peers: omit the peer list.
  if (!anywhere) {
    YamlNode& peers = node.Add(peers_key, YamlNode::Seq());
    for (const ir::Peer& peer : rule.peers) peers.Push(PeerNode(peer, policy_ns, pod_networks));
  }
  YamlNode& ports = node.Add("ports", YamlNode::Seq());
  for (const ir::PortRange& range : rule.ports) {
    YamlNode& port = ports.Push(YamlNode::Map());
    port.Add("protocol", YamlNode::String(ir::ProtocolName(range.protocol)));
    port.Add("port", YamlNode::Number(range.first));
    if (range.last != range.first) port.Add("endPort", YamlNode::Number(range.last));
  }
  // A named port is resolved on the destination pod: the policy's pod for
  // ingress, the peer for egress.
  for (const ir::NamedPort& named : rule.named_ports) {
    YamlNode& port = ports.Push(YamlNode::Map());
    port.Add("protocol", YamlNode::String(ir::ProtocolName(named.protocol)));
    port.Add("port", YamlNode::String(named.name));
  }
  return node;
}

void WriteDocument(const ir::Policy& policy, const std::vector<std::string>& pod_networks,
                   std::string& text) {
  YamlNode doc = PolicyDocument("networking.k8s.io/v1", "NetworkPolicy", policy.name, policy.ns);
  YamlNode& spec = doc.Add("spec", YamlNode::Map());
  spec.Add("podSelector", MatchLabels(policy.selector));
  YamlNode& types = spec.Add("policyTypes", YamlNode::Seq());
  if (policy.isolate_ingress) types.Push(YamlNode::String("Ingress"));
  if (policy.isolate_egress) types.Push(YamlNode::String("Egress"));
  if (!policy.ingress.empty()) {
    YamlNode& ingress = spec.Add("ingress", YamlNode::Seq());
    for (const ir::PolicyRule& rule : policy.ingress) {
      ingress.Push(RuleNode(rule, policy.ns, "from", pod_networks));
    }
  }
  if (!policy.egress.empty()) {
    YamlNode& egress = spec.Add("egress", YamlNode::Seq());
    for (const ir::PolicyRule& rule : policy.egress) {
      egress.Push(RuleNode(rule, policy.ns, "to", pod_networks));
    }
  }
  text += "---\n";
  doc.Write(text);
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
