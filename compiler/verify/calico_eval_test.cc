#include "compiler/verify/calico_eval.h"

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
  u.AddEndpoint({"ext6", Endpoint::Kind::kExternal, "", {}, "2001:db8::1"});
  return u;
}

size_t Id(const Universe& u, std::string_view id) { return *u.Find(id); }

std::string Policy(std::string_view spec) {
  return "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: a\n"
         "spec:\n  selector: app == 'db'\n" +
         std::string(spec);
}

PortSet Tcp(int first, int last) {
  PortSet s;
  s.Add(Protocol::kTCP, first, last);
  return s;
}

TEST_CASE("calico: selector syntax") {
  Labels l{{"app", "web"}, {"tier", "front-end"}};
  auto m = [&](const char* text) { return CalicoSelector::Parse(text).Matches(l); };
  CHECK(m("all()"));
  CHECK(!m("global()"));
  CHECK(m("app == 'web'"));
  CHECK(m("app == \"web\" && has(tier)"));
  CHECK(!m("app != 'web'"));
  CHECK(m("missing != 'x'"));
  CHECK(m("app in { 'db', 'web' }"));
  CHECK(m("app not in {'db'}"));
  CHECK(m("missing not in {'db'}"));
  CHECK(m("tier contains 'nt-e'"));
  CHECK(m("tier starts with 'front'"));
  CHECK(m("tier ends with 'end'"));
  CHECK(m("!has(missing)"));
  CHECK(m("! has(app) || app == 'web' && tier == 'front-end'"));  // && binds tighter
  CHECK(!m("(!has(app) || app == 'web') && tier == 'x'"));
  CHECK_THROWS_AS(CalicoSelector::Parse("app = 'web'"), Error);
  CHECK_THROWS_AS(CalicoSelector::Parse("app == web"), Error);
  CHECK_THROWS_AS(CalicoSelector::Parse("app == 'web' &&"), Error);
  CHECK_THROWS_AS(CalicoSelector::Parse("(app == 'web'"), Error);
}

TEST_CASE("calico: types decide isolation") {
  Universe u = MakeUniverse();
  // No types and only egress rules: the policy does not apply to ingress.
  CalicoEvaluator egress_only(u, Policy("  egress:\n    - action: Allow\n"));
  CHECK(egress_only.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == PortSet::All());
  CalicoEvaluator deny(u, Policy("  types: [Ingress]\n"));
  CHECK(deny.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CHECK(deny.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
  CHECK(deny.Allowed(Side::kIngress, Id(u, "a/web"), Id(u, "a/db")) == PortSet::All());
}

TEST_CASE("calico: rule scopes") {
  Universe u = MakeUniverse();
  CalicoEvaluator own(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"
                                "      source:\n        selector: app == 'web'\n"));
  CHECK(own.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == PortSet::All());
  CHECK(own.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(own.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")).empty());
  CalicoEvaluator all(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"
                                "      source:\n        namespaceSelector: all()\n"));
  CHECK(all.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(all.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")).empty());
  CalicoEvaluator named(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"
                                  "      source:\n        namespaceSelector: projectcalico.org/name == 'b'\n"
                                  "        selector: app == 'web'\n"));
  CHECK(named.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(named.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CalicoEvaluator labelled(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"
                                     "      source:\n        namespaceSelector: team == 'blue'\n"));
  CHECK(labelled.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")) == PortSet::All());
  CHECK(labelled.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CalicoEvaluator anything(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"));
  CHECK(anything.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext6")) == PortSet::All());
  // notSelector in a namespaced policy: the endpoints of the policy's namespace
  // (never external addresses), except those it matches in any namespace.
  CalicoEvaluator except(u, Policy("  types: [Ingress]\n  ingress:\n    - action: Allow\n"
                                   "      source:\n        notSelector: app == 'web'\n"));
  CHECK(except.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")).empty());
  CHECK(except.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(except.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/db")) == PortSet::All());
  CHECK(except.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")).empty());
}

TEST_CASE("calico: nets match pods and externals by address") {
  Universe u = MakeUniverse();
  CalicoEvaluator eval(u, Policy("  types: [Egress]\n  egress:\n    - action: Allow\n      protocol: TCP\n"
                                 "      destination:\n        nets: [10.0.0.0/8]\n        notNets: [10.0.1.0/24]\n"
                                 "        ports: [80, '8000:8010']\n"));
  PortSet want = Tcp(80, 80);
  want.Add(Protocol::kTCP, 8000, 8010);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")) == want);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")) == want);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "b/web")).empty());
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext6")).empty());
}

TEST_CASE("calico: first match wins, by order") {
  Universe u = MakeUniverse();
  std::string yaml =
      Policy("  order: 200\n  types: [Ingress]\n  ingress:\n    - action: Allow\n      protocol: TCP\n") +
      "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: q, namespace: a}\n"
      "spec:\n  order: 100\n  types: [Ingress]\n  ingress:\n    - action: Deny\n      protocol: TCP\n"
      "      destination:\n        ports: ['1:99']\n";
  CalicoEvaluator eval(u, yaml);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == Tcp(100, 65535));
}

TEST_CASE("calico: a named port is the destination endpoint's port of that name and protocol") {
  Universe u;
  u.AddNamespace({"a", {}});
  Endpoint db{"a/db", Endpoint::Kind::kPod, "a", {{"app", "db"}}, "10.0.0.2"};
  db.ports = {{"https", Protocol::kTCP, 8443}, {"dns", Protocol::kUDP, 5353}};
  u.AddEndpoint(db);
  Endpoint web{"a/web", Endpoint::Kind::kPod, "a", {{"app", "web"}}, "10.0.0.1"};
  web.ports = {{"https", Protocol::kTCP, 9443}};
  u.AddEndpoint(web);
  u.AddEndpoint({"ext", Endpoint::Kind::kExternal, "", {}, "10.9.9.9"});
  CalicoEvaluator eval(u, Policy("  types: [Ingress, Egress]\n  ingress:\n    - action: Allow\n"
                                 "      protocol: TCP\n      destination:\n        ports: [https, 80]\n"
                                 "  egress:\n    - action: Allow\n      protocol: TCP\n"
                                 "      destination:\n        ports: [https]\n"
                                 "    - action: Allow\n      protocol: TCP\n"
                                 "      destination:\n        ports: [dns]\n"));
  PortSet in = Tcp(80, 80);
  in.Add(Protocol::kTCP, 8443, 8443);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "a/web")) == in);
  CHECK(eval.Allowed(Side::kIngress, Id(u, "a/db"), Id(u, "ext")) == in);
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "a/web")) == Tcp(9443, 9443));
  CHECK(eval.Allowed(Side::kEgress, Id(u, "a/db"), Id(u, "ext")).empty());
}

TEST_CASE("calico: malformed or unsupported input is rejected") {
  Universe u = MakeUniverse();
  auto fails = [&](const std::string& spec, const std::string& needle) {
    try {
      CalicoEvaluator eval(u, Policy(spec), "x.yaml");
      FAIL("no error for: " << spec);
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  fails("  ingress:\n    - action: Pass\n", "Pass");
  fails("  ingress:\n    - action: Allow\n      destination:\n        ports: [80]\n", "protocol");
  fails("  ingress:\n    - action: Allow\n      protocol: TCP\n      source:\n        selector: app = 'x'\n",
        "invalid Calico selector");
  fails("  ingress:\n    - action: Allow\n      source:\n        nets: [10.0.0.0/8, '::/0']\n", "mixed");
  fails("  ingress:\n    - action: Allow\n      protocol: TCP\n      destination:\n        notPorts: [http]\n",
        "named ports");
}

}  // namespace
}  // namespace netpolc::verify
