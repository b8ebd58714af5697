#include "compiler/verify/cilium_eval.h"

#include "third_party/catch2_main.h"

namespace netpolc::verify {
namespace {

// app: pods "a/web" (app=web), "a/db" (app=db), "b/web" (app=web, in a
// namespace labelled team=blue), and two external addresses, one of them in
// the same /8 as the pods.
Universe MakeUniverse() {
  Universe u;
  u.AddNamespace({"a", {}});
  u.AddNamespace({"b", {{"team", "blue"}}});
  u.AddEndpoint({"a/web", Endpoint::Kind::kPod, "a", {{"app", "web"}}, "10.0.0.1"});
  u.AddEndpoint({"a/db", Endpoint::Kind::kPod, "a", {{"app", "db"}, {"pod-template-hash", "x"}}, "10.0.0.2"});
  u.AddEndpoint({"b/web", Endpoint::Kind::kPod, "b", {{"app", "web"}}, "10.0.1.1"});
  u.AddEndpoint({"ext", Endpoint::Kind::kExternal, "", {}, "10.9.9.9"});
  u.AddEndpoint({"ext6", Endpoint::Kind::kExternal, "", {}, "2001:db8::1"});
  return u;
}

size_t Id(const Universe& u, std::string_view id) { return *u.Find(id); }

std::string Policy(std::string_view spec) {
  return "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\n  namespace: a\n"
         "spec:\n  endpointSelector:\n    matchLabels:\n      app: db\n" +
         std::string(spec);
}

TEST_CASE("cilium: an empty fromEndpoints selector matches the policy's namespace only") {
  Universe u = MakeUniverse();
  CiliumEvaluator eval(u, Policy("  ingress:\n    - fromEndpoints:\n        - {}\n"));
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")).empty());
  // Egress is not restricted by an ingress-only policy.
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == PortSet::All());
  // Pods the endpointSelector does not select are unrestricted.
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/web"), Id(u, "ext")) == PortSet::All());
}

TEST_CASE("cilium: a selector naming the namespace label leaves the namespace") {
  Universe u = MakeUniverse();
  CiliumEvaluator any(u, Policy("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n"
                                "            app: web\n          matchExpressions:\n"
                                "            - key: k8s:io.kubernetes.pod.namespace\n"
                                "              operator: Exists\n"));
  CHECK(any.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(any.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
  CiliumEvaluator named(u, Policy("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n"
                                  "            io.kubernetes.pod.namespace: b\n"));
  CHECK(named.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(named.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  // Namespace labels alone do not leave the policy's namespace.
  CiliumEvaluator labels(u, Policy("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n"
                                   "            k8s:io.cilium.k8s.namespace.labels.team: blue\n"));
  CHECK(labels.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CiliumEvaluator both(u, Policy("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n"
                                 "            k8s:io.cilium.k8s.namespace.labels.team: blue\n"
                                 "          matchExpressions:\n"
                                 "            - {key: k8s:io.kubernetes.pod.namespace, operator: Exists}\n"));
  CHECK(both.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(both.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
}

TEST_CASE("cilium: CIDR rules match external addresses, never pods") {
  Universe u = MakeUniverse();
  CiliumEvaluator eval(u, Policy("  egress:\n    - toCIDRSet:\n        - cidr: 10.0.0.0/8\n"
                                 "          except: [10.0.1.0/24]\n      toPorts:\n"
                                 "        - ports:\n            - port: \"80\"\n              protocol: TCP\n"));
  PortSet tcp80;
  tcp80.Add(Protocol::kTCP, 80, 80);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == tcp80);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext6")).empty());
}

TEST_CASE("cilium: entities") {
  Universe u = MakeUniverse();
  for (auto [entity, web, ext] : {std::tuple{"all", true, true}, std::tuple{"world", false, true},
                                  std::tuple{"cluster", true, false}, std::tuple{"host", false, false}}) {
    CiliumEvaluator eval(u, Policy(std::string("  ingress:\n    - fromEntities: [") + entity + "]\n"));
    CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty() == !web);
    CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext6")).empty() == !ext);
  }
}

TEST_CASE("cilium: default deny, empty rules, L3-only and L4-only rules") {
  Universe u = MakeUniverse();
  CiliumEvaluator deny(u, Policy("  ingress:\n    - {}\n"));
  CHECK(deny.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CiliumEvaluator l4(u, Policy("  ingress:\n    - toPorts:\n        - ports:\n"
                               "            - port: \"53\"\n            - port: \"8000\"\n"
                               "              endPort: 8010\n              protocol: UDP\n"));
  PortSet want;
  for (Protocol p : kProtocols) want.Add(p, 53, 53);
  want.Add(Protocol::kUDP, 8000, 8010);
  CHECK(l4.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == want);
  CiliumEvaluator off(u, Policy("  enableDefaultDeny:\n    ingress: false\n  ingress:\n    - {}\n"));
  CHECK(off.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
}

TEST_CASE("cilium: labels ignored by the identity filter cannot be selected") {
  Universe u = MakeUniverse();
  std::string doc =
      "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: a}\n"
      "spec:\n  endpointSelector:\n    matchLabels:\n      pod-template-hash: x\n  ingress:\n    - {}\n";
  CiliumEvaluator eval(u, doc);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
}

TEST_CASE("cilium: a named port in an ingress rule is the selected pod's port") {
  Universe u;
  u.AddNamespace({"a", {}});
  Endpoint db{"a/db", Endpoint::Kind::kPod, "a", {{"app", "db"}}, "10.0.0.2"};
  db.ports = {{"https", Protocol::kTCP, 8443}, {"dns", Protocol::kUDP, 53}};
  u.AddEndpoint(db);
  Endpoint web{"a/web", Endpoint::Kind::kPod, "a", {{"app", "web"}}, "10.0.0.1"};
  web.ports = {{"https", Protocol::kTCP, 9443}};
  u.AddEndpoint(web);
  CiliumEvaluator eval(u, Policy("  ingress:\n    - toPorts:\n        - ports:\n"
                                 "            - {port: https, protocol: TCP}\n"
                                 "            - {port: dns, protocol: TCP}\n"));
  PortSet expected;
  expected.Add(Protocol::kTCP, 8443, 8443);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == expected);
}

TEST_CASE("cilium: malformed or unsupported input is rejected with its location") {
  Universe u = MakeUniverse();
  auto fails = [&](const std::string& spec, const std::string& needle) {
    try {
      CiliumEvaluator eval(u, Policy(spec), "x.yaml");
      FAIL("no error for: " << spec);
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(needle));
      CHECK_THAT(e.what(), Catch::Contains("x.yaml: document 1 (CiliumNetworkPolicy a/p)"));
    }
  };
  fails("  egress:\n    - toEndpoints: [{}]\n      toCIDR: [1.2.3.4/32]\n", "combining toEndpoints and toCIDR");
  fails("  egress:\n    - toPorts:\n        - ports:\n            - port: 80\n", "expected a quoted string");
  fails("  egress:\n    - toPorts:\n        - ports:\n            - port: \"http\"\n", "named ports");
  fails("  ingress:\n    - fromEntites: [all]\n", "unknown field");
  fails("  egressDeny:\n    - {}\n", "not supported");
  fails("  ingress:\n    - toPorts:\n        - ports: [{port: \"53\"}]\n          rules:\n"
        "            dns: [{matchPattern: \"*\"}]\n", "not supported on ingress");
}

}  // namespace
}  // namespace netpolc::verify

namespace netpolc::verify {
namespace {

// Nodes and the API server: endpoints outside the pod network with a role.
Universe MakeRoleUniverse() {
  Universe u = MakeUniverse();
  Endpoint node{"node", Endpoint::Kind::kExternal, "", {}, "10.1.0.5"};
  node.role = Endpoint::Role::kNode;
  u.AddEndpoint(node);
  Endpoint apiserver{"apiserver", Endpoint::Kind::kExternal, "", {}, "192.0.2.10"};
  apiserver.role = Endpoint::Role::kApiServer;
  u.AddEndpoint(apiserver);
  return u;
}

TEST_CASE("cilium: remote-node and kube-apiserver entities; CIDR rules never match nodes") {
  Universe u = MakeRoleUniverse();
  size_t db = Id(u, "a/db"), node = Id(u, "node"), apiserver = Id(u, "apiserver");
  CiliumEvaluator nodes(u, Policy("  ingress:\n    - fromEntities:\n        - remote-node\n"));
  CHECK(nodes.Allowed(Side::kIngress, db, node) == PortSet::All());
  CHECK(nodes.Allowed(Side::kIngress, db, apiserver).empty());
  CHECK(nodes.Allowed(Side::kIngress, db, Id(u, "a/web")).empty());
  CiliumEvaluator api(u, Policy("  egress:\n    - toEntities:\n        - kube-apiserver\n"));
  CHECK(api.Allowed(Side::kEgress, db, apiserver) == PortSet::All());
  CHECK(api.Allowed(Side::kEgress, db, node).empty());
  // The host entity is the pod's own node, which a universe does not model.
  CiliumEvaluator host(u, Policy("  ingress:\n    - fromEntities:\n        - host\n"));
  CHECK(host.Allowed(Side::kIngress, db, node).empty());
  // world: outside the cluster, so the API server (a managed control plane)
  // but not the nodes; cluster: pods and nodes.
  CiliumEvaluator world(u, Policy("  ingress:\n    - fromEntities:\n        - world\n"));
  CHECK(world.Allowed(Side::kIngress, db, apiserver) == PortSet::All());
  CHECK(world.Allowed(Side::kIngress, db, node).empty());
  CiliumEvaluator cluster(u, Policy("  ingress:\n    - fromEntities:\n        - cluster\n"));
  CHECK(cluster.Allowed(Side::kIngress, db, node) == PortSet::All());
  CHECK(cluster.Allowed(Side::kIngress, db, apiserver).empty());
  CiliumEvaluator cidr(u, Policy("  ingress:\n    - fromCIDRSet:\n        - cidr: 0.0.0.0/0\n"));
  CHECK(cidr.Allowed(Side::kIngress, db, node).empty());
  CHECK(cidr.Allowed(Side::kIngress, db, apiserver) == PortSet::All());
}

}  // namespace
}  // namespace netpolc::verify
