#include "compiler/verify/ir_eval.h"

#include "third_party/catch2_main.h"

namespace netpolc::verify {
namespace {

Universe MakeUniverse() {
  Universe u;
  u.AddNamespace({"a", {}});
  u.AddNamespace({"b", {{"team", "blue"}}});
  u.AddEndpoint({"a/web", Endpoint::Kind::kPod, "a", {{"app", "web"}}, "10.0.0.1"});
  u.AddEndpoint({"a/db", Endpoint::Kind::kPod, "a", {{"app", "db"}}, "10.0.0.2"});
  u.AddEndpoint({"b/web", Endpoint::Kind::kPod, "b", {{"app", "web"}}, "10.0.1.1"});
  u.AddEndpoint({"ext", Endpoint::Kind::kExternal, "", {}, "10.9.9.9"});
  return u;
}

size_t Id(const Universe& u, std::string_view id) { return *u.Find(id); }

ir::Peer Pods(std::vector<ir::Label> labels, ir::NamespaceMatch match, std::string ns = {},
              std::vector<ir::Label> ns_labels = {}) {
  ir::Peer p;
  p.kind = ir::Peer::Kind::kPods;
  p.pod_labels = std::move(labels);
  p.ns_match = match;
  p.ns = std::move(ns);
  p.ns_labels = std::move(ns_labels);
  return p;
}

ir::PolicySet OnePolicy(std::vector<ir::Peer> peers, bool egress = false) {
  ir::Policy policy;
  policy.name = "db";
  policy.ns = "a";
  policy.selector = {{"app", "db"}};
  policy.isolate_ingress = true;
  policy.isolate_egress = egress;
  ir::PolicyRule rule;
  rule.peers = std::move(peers);
  rule.ports = {{ir::Protocol::kTcp, 80, 90}};
  (egress ? policy.egress : policy.ingress).push_back(rule);
  return {{policy}};
}

TEST_CASE("ir: peers") {
  Universe u = MakeUniverse();
  PortSet tcp;
  tcp.Add(Protocol::kTCP, 80, 90);
  ir::PolicySet named = OnePolicy({Pods({{"app", "web"}}, ir::NamespaceMatch::kNamed, "a")});
  IrEvaluator e1(u, named);
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == tcp);
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(e1.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/web"), Id(u, "b/web")) == PortSet::All());

  ir::PolicySet labelled = OnePolicy({Pods({}, ir::NamespaceMatch::kLabels, "", {{"team", "blue"}})});
  IrEvaluator e2(u, labelled);
  CHECK(e2.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == tcp);
  CHECK(e2.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());

  ir::Peer block;
  block.kind = ir::Peer::Kind::kIpBlock;
  block.cidr = "10.0.0.0/8";
  block.except = {"10.0.1.0/24"};
  ir::PolicySet blocks = OnePolicy({block}, true);
  IrEvaluator e3(u, blocks);
  CHECK(e3.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == tcp);
  // An address block means addresses outside the cluster: never a pod.
  CHECK(e3.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CHECK(e3.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(e3.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());  // isolated, no rule
  // Nor an address of the pod networks.
  blocks.pod_networks = {"10.9.0.0/16"};
  IrEvaluator e4(u, blocks);
  CHECK(e4.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")).empty());

  // The reading of a block written alone for a plugin that matches pod
  // addresses: pods in it too.
  blocks.pod_networks.clear();
  IrEvaluator e5(u, blocks, IrEvaluator::BlockReading::kAddresses);
  CHECK(e5.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == tcp);
  CHECK(e5.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")) == tcp);
  CHECK(e5.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "b/web")).empty());
}

TEST_CASE("model: port sets are canonical") {
  PortSet a, b;
  a.Add(Protocol::kTCP, 10, 20);
  a.Add(Protocol::kTCP, 21, 30);
  a.Add(Protocol::kTCP, 5, 12);
  b.Add(Protocol::kTCP, 5, 30);
  CHECK(a == b);
  CHECK(a.ToString() == "TCP 5-30");
  PortSet hole;
  hole.Add(Protocol::kTCP, 7, 8);
  CHECK(a.Minus(hole).ToString() == "TCP 5-6, 9-30");
  CHECK(PortSet::All().ToString() == "TCP all; UDP all; SCTP all");
}

TEST_CASE("model: k8s evaluator over a universe") {
  Universe u = MakeUniverse();
  K8sEvaluator eval(u,
                    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
                    "spec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n    - ports:\n"
                    "        - {protocol: TCP, port: 80, endPort: 90}\n");
  PortSet tcp;
  tcp.Add(Protocol::kTCP, 80, 90);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == tcp);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == PortSet::All());
  ir::PolicySet set = OnePolicy({ir::Peer{}});  // anywhere
  IrEvaluator ir_eval(u, set);
  CHECK(Compare(u, ir_eval, eval).empty());
}

}  // namespace
}  // namespace netpolc::verify

namespace netpolc::verify {
namespace {

TEST_CASE("ir: the API server and node peers match endpoints of those roles") {
  Universe u = MakeUniverse();
  Endpoint node{"node", Endpoint::Kind::kExternal, "", {}, "10.1.0.5"};
  node.role = Endpoint::Role::kNode;
  u.AddEndpoint(node);
  Endpoint apiserver{"apiserver", Endpoint::Kind::kExternal, "", {}, "192.0.2.10"};
  apiserver.role = Endpoint::Role::kApiServer;
  u.AddEndpoint(apiserver);
  PortSet tcp;
  tcp.Add(Protocol::kTCP, 80, 90);
  ir::Peer api_peer, nodes_peer;
  api_peer.kind = ir::Peer::Kind::kKubeApiserver;
  nodes_peer.kind = ir::Peer::Kind::kNodes;
  ir::PolicySet api = OnePolicy({api_peer});
  IrEvaluator e1(u, api);
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "apiserver")) == tcp);
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "node")).empty());
  CHECK(e1.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")).empty());
  ir::PolicySet nodes = OnePolicy({nodes_peer}, /*egress=*/true);
  IrEvaluator e2(u, nodes);
  CHECK(e2.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "node")) == tcp);
  CHECK(e2.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "apiserver")).empty());
  // A role is for endpoints outside the pod network only.
  Endpoint pod{"a/hostnet", Endpoint::Kind::kPod, "a", {}, "10.0.0.9"};
  pod.role = Endpoint::Role::kNode;
  CHECK_THROWS_AS(u.AddEndpoint(pod), Error);
}

TEST_CASE("ir: a policy isolating egress only leaves ingress open") {
  Universe u = MakeUniverse();
  ir::PolicySet set = OnePolicy({Pods({{"app", "web"}}, ir::NamespaceMatch::kNamed, "a")}, true);
  set.policies[0].isolate_ingress = false;
  IrEvaluator e(u, set);
  CHECK(e.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == PortSet::All());
  CHECK(e.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")).empty());
}

}  // namespace
}  // namespace netpolc::verify
