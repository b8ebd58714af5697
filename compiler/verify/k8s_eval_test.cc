#include "compiler/verify/k8s_eval.h"

#include <string>

#include "third_party/catch2_main.h"

namespace netpolc::verify {
namespace {

using Kind = Endpoint::Kind;
constexpr Protocol TCP = Protocol::kTCP;
constexpr Protocol UDP = Protocol::kUDP;
constexpr Protocol SCTP = Protocol::kSCTP;

// Two namespaces, a few pods and two external addresses:
//   prod (team=a): web {app=web, tier=front} 10.0.0.1, db {app=db, tier=back}
//                  10.0.0.2, cache {app=cache} 10.0.1.3
//   dev  (team=b): dev-web {app=web} 10.1.0.1, tool {} 10.1.0.2
//   internet 203.0.113.10, internet6 2001:db8::1
Cluster MakeCluster() {
  Cluster c;
  c.AddNamespace({"prod", {{"team", "a"}}});
  c.AddNamespace({"dev", {{"team", "b"}}});
  c.AddEndpoint({"web", Kind::kPod, "prod", {{"app", "web"}, {"tier", "front"}}, "10.0.0.1"});
  c.AddEndpoint({"db", Kind::kPod, "prod", {{"app", "db"}, {"tier", "back"}}, "10.0.0.2"});
  c.AddEndpoint({"cache", Kind::kPod, "prod", {{"app", "cache"}}, "10.0.1.3"});
  c.AddEndpoint({"dev-web", Kind::kPod, "dev", {{"app", "web"}}, "10.1.0.1"});
  c.AddEndpoint({"tool", Kind::kPod, "dev", {}, "10.1.0.2"});
  c.AddEndpoint({"internet", Kind::kExternal, "", {}, "203.0.113.10"});
  c.AddEndpoint({"internet6", Kind::kExternal, "", {}, "2001:db8::1"});
  return c;
}

Cluster WithPolicies(const std::string& yaml) {
  Cluster c = MakeCluster();
  c.LoadPolicies(yaml, "test.yaml");
  return c;
}

// A policy selecting prod/db with the given spec body (indented 2 spaces).
std::string DbPolicy(const std::string& spec_rest) {
  return "apiVersion: networking.k8s.io/v1\n"
         "kind: NetworkPolicy\n"
         "metadata: {name: db, namespace: prod}\n"
         "spec:\n"
         "  podSelector: {matchLabels: {app: db}}\n" +
         spec_rest;
}

// ---------------------------------------------------------------------------
// Addresses

TEST_CASE("IP addresses and CIDRs parse and match") {
  REQUIRE(IpAddress::Parse("10.1.2.3"));
  CHECK(IpAddress::Parse("10.1.2.3")->family() == IpAddress::Family::kV4);
  CHECK(IpAddress::Parse("2001:db8::1")->family() == IpAddress::Family::kV6);
  CHECK(IpAddress::Parse("::ffff:10.0.0.1")->family() == IpAddress::Family::kV6);
  for (const char* bad : {"", "10.1.2", "10.1.2.256", "10.1.2.3/8", "host", "1::2::3",
                          " 10.1.2.3"}) {
    INFO(bad);
    CHECK_FALSE(IpAddress::Parse(bad));
  }

  const auto block = Cidr::Parse("10.0.0.0/8");
  REQUIRE(block);
  CHECK(block->Contains(*IpAddress::Parse("10.255.0.1")));
  CHECK_FALSE(block->Contains(*IpAddress::Parse("11.0.0.1")));
  CHECK(block->Contains(*Cidr::Parse("10.1.0.0/16")));
  CHECK_FALSE(Cidr::Parse("10.1.0.0/16")->Contains(*block));

  // Host bits are dropped.
  CHECK(Cidr::Parse("10.1.2.3/16")->network().ToString() == "10.1.0.0");
  CHECK(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("203.0.113.10")));
  CHECK(Cidr::Parse("10.0.0.1/32")->Contains(*IpAddress::Parse("10.0.0.1")));
  CHECK_FALSE(Cidr::Parse("10.0.0.1/32")->Contains(*IpAddress::Parse("10.0.0.2")));

  // The families never mix.
  CHECK_FALSE(Cidr::Parse("::/0")->Contains(*IpAddress::Parse("10.0.0.1")));
  CHECK_FALSE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("::1")));
  CHECK(Cidr::Parse("2001:db8::/32")->Contains(*IpAddress::Parse("2001:db8::1")));
  CHECK_FALSE(Cidr::Parse("2001:db8::/32")->Contains(*IpAddress::Parse("2001:db9::1")));

  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "/8",
                          "10.0.0.0/8/8", "::/129", "10.0.0.0/ 8", "10.0.0.0/0x8"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::Parse(bad));
  }
}

// ---------------------------------------------------------------------------
// Isolation

TEST_CASE("a pod no policy selects is not isolated") {
  const Cluster c = WithPolicies(DbPolicy("  ingress: []\n"));
  CHECK(c.IsolatedForIngress("db"));
  CHECK_FALSE(c.IsolatedForIngress("web"));
  CHECK(c.IngressAllowed("internet", "web", TCP, 1));
  CHECK(c.IngressAllowed("tool", "web", UDP, 65535));
  CHECK(c.EgressAllowed("web", "internet", SCTP, 9));
}

TEST_CASE("a policy only selects pods of its own namespace") {
  // dev-web has app=web too, but the policy lives in prod.
  const Cluster c = WithPolicies(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
)");
  CHECK(c.IsolatedForIngress("web"));
  CHECK_FALSE(c.IsolatedForIngress("dev-web"));
  CHECK_FALSE(c.IngressAllowed("tool", "web", TCP, 80));
  CHECK(c.IngressAllowed("tool", "dev-web", TCP, 80));
}

TEST_CASE("an empty podSelector selects every pod of the namespace") {
  for (const char* selector : {"  podSelector: {}\n", ""}) {  // Absent = empty.
    INFO(selector);
    const Cluster c = WithPolicies(std::string(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec:
)") + selector + "  policyTypes: [Ingress, Egress]\n");
    for (const char* pod : {"web", "db", "cache"}) {
      CHECK(c.IsolatedForIngress(pod));
      CHECK(c.IsolatedForEgress(pod));
      CHECK_FALSE(c.IngressAllowed("internet", pod, TCP, 80));
      CHECK_FALSE(c.EgressAllowed(pod, "internet", TCP, 80));
    }
    CHECK_FALSE(c.IsolatedForIngress("tool"));
    CHECK_FALSE(c.Allowed("tool", "web", TCP, 80));  // Ingress side of web.
    CHECK_FALSE(c.Allowed("web", "tool", TCP, 80));  // Egress side of web.
    CHECK(c.Allowed("tool", "dev-web", TCP, 80));
  }
}

TEST_CASE("policyTypes absent: Ingress always, Egress only with egress rules") {
  SECTION("no egress rules: ingress isolation only") {
    const Cluster c = WithPolicies(DbPolicy("  ingress: []\n"));
    CHECK(c.IsolatedForIngress("db"));
    CHECK_FALSE(c.IsolatedForEgress("db"));
    CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 5432));
    CHECK(c.EgressAllowed("db", "internet", TCP, 443));
  }
  SECTION("an egress rule: isolated both ways") {
    const Cluster c = WithPolicies(DbPolicy(R"(  egress:
  - to: [{podSelector: {matchLabels: {app: cache}}}]
)"));
    CHECK(c.IsolatedForIngress("db"));
    CHECK(c.IsolatedForEgress("db"));
    CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 5432));  // No ingress rules.
    CHECK(c.EgressAllowed("db", "cache", TCP, 6379));
    CHECK_FALSE(c.EgressAllowed("db", "web", TCP, 80));
  }
  SECTION("an empty policyTypes list means absent") {
    const Cluster c = WithPolicies(DbPolicy("  policyTypes: []\n"));
    CHECK(c.IsolatedForIngress("db"));
    CHECK_FALSE(c.IsolatedForEgress("db"));
  }
}

TEST_CASE("explicit policyTypes decide isolation; rules of other types are ignored") {
  SECTION("Egress only: ingress rules are ignored, ingress not isolated") {
    const Cluster c = WithPolicies(DbPolicy(R"(  policyTypes: [Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
)"));
    CHECK_FALSE(c.IsolatedForIngress("db"));
    CHECK(c.IngressAllowed("internet", "db", TCP, 1));
    CHECK(c.IsolatedForEgress("db"));
    CHECK_FALSE(c.EgressAllowed("db", "web", TCP, 80));
  }
  SECTION("Ingress only: egress rules are ignored") {
    const Cluster c = WithPolicies(DbPolicy(R"(  policyTypes: [Ingress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
)"));
    CHECK_FALSE(c.IsolatedForEgress("db"));
    CHECK(c.EgressAllowed("db", "internet", TCP, 443));
  }
}

TEST_CASE("external endpoints are never isolated") {
  const Cluster c = WithPolicies(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
)");
  CHECK_FALSE(c.IsolatedForIngress("internet"));
  CHECK_FALSE(c.IsolatedForEgress("internet"));
  CHECK(c.EgressAllowed("internet", "web", TCP, 80));
  CHECK_FALSE(c.IngressAllowed("internet", "web", TCP, 80));
  CHECK(c.IngressAllowed("web", "internet", TCP, 80));
  CHECK_FALSE(c.EgressAllowed("web", "internet", TCP, 80));
}

TEST_CASE("policies are additive") {
  const Cluster c = WithPolicies(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-cache, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: back}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: cache}}}]
)");
  CHECK(c.IngressAllowed("web", "db", TCP, 5432));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 5433));
  CHECK(c.IngressAllowed("cache", "db", UDP, 9));
  CHECK_FALSE(c.IngressAllowed("tool", "db", TCP, 5432));
}

// ---------------------------------------------------------------------------
// Peers

TEST_CASE("absent or empty `from` admits every source") {
  for (const char* rule : {"  - {}\n", "  - from: []\n", "  - ports: [{port: 5432}]\n",
                           "  - null\n"}) {
    INFO(rule);
    const Cluster c = WithPolicies(DbPolicy(std::string("  ingress:\n") + rule));
    for (const char* src : {"web", "cache", "dev-web", "tool", "internet", "internet6"}) {
      CHECK(c.IngressAllowed(src, "db", TCP, 5432));
    }
  }
}

TEST_CASE("an empty ingress list admits nothing") {
  const Cluster c = WithPolicies(DbPolicy("  ingress: []\n"));
  for (const char* src : {"web", "db", "tool", "internet"}) {
    CHECK_FALSE(c.IngressAllowed(src, "db", TCP, 5432));
  }
}

TEST_CASE("podSelector alone: pods of the policy's namespace") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
)"));
  CHECK(c.IngressAllowed("web", "db", TCP, 5432));
  CHECK_FALSE(c.IngressAllowed("dev-web", "db", TCP, 5432));  // Other namespace.
  CHECK_FALSE(c.IngressAllowed("cache", "db", TCP, 5432));
  CHECK_FALSE(c.IngressAllowed("internet", "db", TCP, 5432));
}

TEST_CASE("an empty podSelector: every pod of the policy's namespace") {
  const Cluster c = WithPolicies(DbPolicy("  ingress:\n  - from: [{podSelector: {}}]\n"));
  CHECK(c.IngressAllowed("web", "db", TCP, 1));
  CHECK(c.IngressAllowed("cache", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("tool", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("internet", "db", TCP, 1));
}

TEST_CASE("namespaceSelector alone: every pod of the matching namespaces") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: b}}}]
)"));
  CHECK(c.IngressAllowed("dev-web", "db", TCP, 1));
  CHECK(c.IngressAllowed("tool", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("internet", "db", TCP, 1));
}

TEST_CASE("namespaces carry kubernetes.io/metadata.name") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}}]
)"));
  CHECK(c.IngressAllowed("tool", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("cache", "db", TCP, 1));
}

TEST_CASE("namespaceSelector and podSelector together must both match") {
  SECTION("namespaceSelector {}: the pod labels in any namespace") {
    const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: web}}
)"));
    CHECK(c.IngressAllowed("web", "db", TCP, 1));
    CHECK(c.IngressAllowed("dev-web", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("tool", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("cache", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("internet", "db", TCP, 1));
  }
  SECTION("a specific namespace") {
    const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
      podSelector: {matchLabels: {app: web}}
)"));
    CHECK(c.IngressAllowed("dev-web", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("tool", "db", TCP, 1));
  }
  SECTION("two separate peers are ORed, not ANDed") {
    const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
    - podSelector: {matchLabels: {app: web}}
)"));
    CHECK(c.IngressAllowed("dev-web", "db", TCP, 1));
    CHECK(c.IngressAllowed("tool", "db", TCP, 1));
    CHECK(c.IngressAllowed("web", "db", TCP, 1));
    CHECK_FALSE(c.IngressAllowed("cache", "db", TCP, 1));
  }
}

TEST_CASE("matchExpressions") {
  const auto allowed_sources = [](const std::string& expressions) {
    const Cluster c = WithPolicies(DbPolicy(
        "  ingress:\n  - from:\n    - namespaceSelector: {}\n      podSelector:\n"
        "        matchExpressions:\n" +
        expressions));
    std::string result;
    for (const char* src : {"web", "db", "cache", "dev-web", "tool"}) {
      if (c.IngressAllowed(src, "db", TCP, 1)) result += std::string(result.empty() ? "" : ",") + src;
    }
    return result;
  };
  CHECK(allowed_sources("        - {key: app, operator: In, values: [web, cache]}\n") ==
        "web,cache,dev-web");
  // NotIn also matches pods without the key.
  CHECK(allowed_sources("        - {key: app, operator: NotIn, values: [web, cache]}\n") ==
        "db,tool");
  CHECK(allowed_sources("        - {key: tier, operator: Exists}\n") == "web,db");
  CHECK(allowed_sources("        - {key: tier, operator: DoesNotExist, values: []}\n") ==
        "cache,dev-web,tool");
  // Requirements are ANDed, and with matchLabels too.
  CHECK(allowed_sources("        - {key: app, operator: Exists}\n"
                        "        - {key: tier, operator: NotIn, values: [back]}\n") ==
        "web,cache,dev-web");
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from:
    - podSelector:
        matchLabels: {tier: front}
        matchExpressions: [{key: app, operator: In, values: [db]}]
)"));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("db", "db", TCP, 1));
}

TEST_CASE("ipBlock: cidr minus except, applied to pod IPs too") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16, 10.0.0.1/32]
)"));
  CHECK(c.IngressAllowed("cache", "db", TCP, 1));     // 10.0.1.3
  CHECK(c.IngressAllowed("db", "db", TCP, 1));        // 10.0.0.2
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 1));  // 10.0.0.1: excepted.
  CHECK_FALSE(c.IngressAllowed("tool", "db", TCP, 1));  // 10.1.0.2: excepted.
  CHECK_FALSE(c.IngressAllowed("internet", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("internet6", "db", TCP, 1));
}

TEST_CASE("ipBlock: the internet and IPv6") {
  SECTION("0.0.0.0/0 matches every IPv4 endpoint, pods included") {
    const Cluster c = WithPolicies(DbPolicy(R"(  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
)"));
    CHECK(c.EgressAllowed("db", "internet", TCP, 443));
    CHECK(c.EgressAllowed("db", "tool", TCP, 443));
    CHECK_FALSE(c.EgressAllowed("db", "internet6", TCP, 443));
  }
  SECTION("::/0 matches no IPv4 endpoint") {
    const Cluster c = WithPolicies(DbPolicy(R"(  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: "::/0", except: ["2001:db8::/64"]}}, {ipBlock: {cidr: "2001:db8::1/128"}}]
)"));
    CHECK(c.EgressAllowed("db", "internet6", TCP, 443));
    CHECK_FALSE(c.EgressAllowed("db", "internet", TCP, 443));
    CHECK_FALSE(c.EgressAllowed("db", "tool", TCP, 443));
  }
  SECTION("a pod without an IP matches no ipBlock") {
    Cluster c = MakeCluster();
    c.AddEndpoint({"pending", Kind::kPod, "prod", {{"app", "pending"}}, ""});
    c.LoadPolicies(DbPolicy("  ingress:\n  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]\n"));
    CHECK_FALSE(c.IngressAllowed("pending", "db", TCP, 1));
    CHECK(c.IngressAllowed("web", "db", TCP, 1));
  }
}

// ---------------------------------------------------------------------------
// Ports

TEST_CASE("ports: protocol defaults to TCP; port absent = all ports of the protocol") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - ports: [{port: 5432}]
  - ports: [{protocol: UDP}]
  - ports: [{protocol: SCTP, port: 9}]
)"));
  CHECK(c.IngressAllowed("web", "db", TCP, 5432));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 5433));
  CHECK(c.IngressAllowed("web", "db", UDP, 1));
  CHECK(c.IngressAllowed("web", "db", UDP, 65535));
  CHECK(c.IngressAllowed("web", "db", SCTP, 9));
  CHECK_FALSE(c.IngressAllowed("web", "db", SCTP, 5432));
}

TEST_CASE("ports: endPort makes an inclusive range") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - ports: [{protocol: TCP, port: 32000, endPort: 32768}]
)"));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 31999));
  CHECK(c.IngressAllowed("web", "db", TCP, 32000));
  CHECK(c.IngressAllowed("web", "db", TCP, 32500));
  CHECK(c.IngressAllowed("web", "db", TCP, 32768));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 32769));
  CHECK_FALSE(c.IngressAllowed("web", "db", UDP, 32500));
}

TEST_CASE("ports: a named port is the receiving pod's container port of that name") {
  Cluster c;
  c.AddNamespace({"prod", {}});
  Endpoint db{"db", Kind::kPod, "prod", {{"app", "db"}}, "10.0.0.2"};
  db.ports = {{"https", TCP, 8443}, {"dns", UDP, 53}};
  c.AddEndpoint(db);
  Endpoint web{"web", Kind::kPod, "prod", {{"app", "web"}}, "10.0.0.1"};
  web.ports = {{"https", TCP, 9443}};
  c.AddEndpoint(web);
  c.AddEndpoint({"internet", Kind::kExternal, "", {}, "203.0.113.10"});
  c.LoadPolicies(DbPolicy(R"(  policyTypes: [Ingress, Egress]
  ingress:
  - ports: [{port: https}, {port: dns, protocol: TCP}]
  egress:
  - ports: [{port: https}]
)"),
                 "test.yaml");
  // Ingress: db's own ports.
  CHECK(c.IngressAllowed("web", "db", TCP, 8443));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 9443));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 53));  // dns is UDP on db
  CHECK_FALSE(c.IngressAllowed("web", "db", UDP, 53));
  // Egress: the destination's ports; an external address has none.
  CHECK(c.EgressAllowed("db", "web", TCP, 9443));
  CHECK_FALSE(c.EgressAllowed("db", "web", TCP, 8443));
  CHECK_FALSE(c.EgressAllowed("db", "internet", TCP, 8443));
}

TEST_CASE("ports and peers of one rule must both match") {
  const Cluster c = WithPolicies(DbPolicy(R"(  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}, {port: 8080, protocol: UDP}]
  - from: [{podSelector: {matchLabels: {app: cache}}}]
    ports: [{port: 6379}]
)"));
  CHECK(c.IngressAllowed("web", "db", TCP, 5432));
  CHECK(c.IngressAllowed("web", "db", UDP, 8080));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 8080));
  CHECK_FALSE(c.IngressAllowed("web", "db", TCP, 6379));
  CHECK(c.IngressAllowed("cache", "db", TCP, 6379));
  CHECK_FALSE(c.IngressAllowed("cache", "db", TCP, 5432));
}

TEST_CASE("egress mirrors ingress with `to`") {
  const Cluster c = WithPolicies(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{port: 5432}]
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}
      podSelector: {}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
)");
  CHECK(c.EgressAllowed("web", "db", TCP, 5432));
  CHECK_FALSE(c.EgressAllowed("web", "db", TCP, 5433));
  CHECK_FALSE(c.EgressAllowed("web", "cache", TCP, 5432));
  CHECK(c.EgressAllowed("web", "tool", UDP, 53));
  CHECK(c.EgressAllowed("web", "dev-web", TCP, 53));
  CHECK_FALSE(c.EgressAllowed("web", "internet", UDP, 53));
  // The egress side of web says nothing about db's ingress side, and v.v.
  CHECK(c.IngressAllowed("web", "db", TCP, 1));
  CHECK(c.IngressAllowed("web", "internet", TCP, 1));
  CHECK_FALSE(c.Allowed("web", "internet", TCP, 1));
  CHECK(c.EgressAllowed("db", "web", TCP, 1));
}

TEST_CASE("policies loaded before and after endpoints give the same answers") {
  const std::string yaml = DbPolicy(R"(  ingress:
  - from: [{podSelector: {matchLabels: {app: late}}}]
)");
  Cluster c;
  c.AddNamespace({"prod", {}});
  c.LoadPolicies(yaml);
  c.AddEndpoint({"db", Kind::kPod, "prod", {{"app", "db"}}, "10.0.0.2"});
  c.AddEndpoint({"late", Kind::kPod, "prod", {{"app", "late"}}, "10.0.0.9"});
  c.AddEndpoint({"other", Kind::kPod, "prod", {{"app", "other"}}, "10.0.0.8"});
  CHECK(c.IsolatedForIngress("db"));
  CHECK(c.IngressAllowed("late", "db", TCP, 1));
  CHECK_FALSE(c.IngressAllowed("other", "db", TCP, 1));
}

TEST_CASE("empty documents are skipped") {
  const auto policies = ParsePolicies("---\n---\n" + DbPolicy("  ingress: []\n") +
                                      "---\n# only a comment\n---\n");
  REQUIRE(policies.size() == 1);
  CHECK(policies[0].name == "db");
  CHECK(policies[0].namespace_name == "prod");
  CHECK(ParsePolicies("").empty());
}

// ---------------------------------------------------------------------------
// Errors

// Expects ParsePolicies(yaml) to throw an Error whose message contains `part`.
void CheckRejected(const std::string& yaml, const std::string& part) {
  INFO("input:\n" << yaml);
  try {
    ParsePolicies(yaml, "bad.yaml");
    FAIL_CHECK("no error; expected one mentioning: " << part);
  } catch (const Error& e) {
    INFO("error: " << e.what());
    CHECK(std::string(e.what()).find(part) != std::string::npos);
    CHECK(std::string(e.what()).find("bad.yaml") != std::string::npos);
  }
}

TEST_CASE("malformed documents are rejected with a clear message") {
  const std::string head =
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
      "metadata: {name: p, namespace: prod}\n";
  // Document-level problems.
  CheckRejected("a: [1, 2\n", "invalid YAML");
  // yaml-cpp 0.7's LoadAll would loop forever on these.
  CheckRejected(",\n", "invalid YAML: the parser cannot advance");
  CheckRejected(",apiVersion: networking.k8s.io/v1\n", "invalid YAML");
  CheckRejected(DbPolicy("") + "---\n,\n", "invalid YAML");
  CheckRejected("- 1\n- 2\n", "expected a map, got a list");
  CheckRejected("just a string\n", "expected a map, got a scalar");
  CheckRejected("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
                "unsupported kind 'ConfigMap'");
  CheckRejected("apiVersion: v1\nmetadata: {name: x}\n", "kind: missing");
  CheckRejected("apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\n",
                "apiVersion: expected networking.k8s.io/v1");
  CheckRejected("kind: NetworkPolicy\n", "apiVersion: expected a string, got missing");
  CheckRejected("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: p}\nspec: {}\n",
                "metadata.namespace: expected a string");
  CheckRejected("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: [p], namespace: prod}\nspec: {}\n",
                "metadata.name: expected a string, got a list");
  CheckRejected(head, "spec: expected a map, got missing");
  CheckRejected(head + "spec: 3\n", "spec: expected a map, got a scalar");
  // The document number and policy name are reported.
  CheckRejected(DbPolicy("") + "---\n" + head + "spec: {ingres: []}\n",
                "document 2 (NetworkPolicy prod/p): spec.ingres: unknown field");

  // Spec fields of the wrong type.
  CheckRejected(head + "spec: {podSelector: []}\n", "spec.podSelector: expected a map");
  CheckRejected(head + "spec: {podSelector: {matchLabels: {app: {x: 1}}}}\n",
                "spec.podSelector.matchLabels.app: expected a string, got a map");
  CheckRejected(head + "spec: {podSelector: {matchLabel: {app: x}}}\n",
                "spec.podSelector.matchLabel: unknown field");
  CheckRejected(head + "spec: {ingress: {from: []}}\n", "spec.ingress: expected a list");
  CheckRejected(head + "spec: {ingress: [{from: {podSelector: {}}}]}\n",
                "spec.ingress[0].from: expected a list");
  CheckRejected(head + "spec: {egress: [{from: []}]}\n", "spec.egress[0].from: unknown field");
  CheckRejected(head + "spec: {policyTypes: Ingress}\n", "spec.policyTypes: expected a list");
  CheckRejected(head + "spec: {policyTypes: [ingress]}\n", "unknown policy type 'ingress'");

  // Selectors.
  CheckRejected(head + "spec: {podSelector: {matchExpressions: [{key: a, operator: Equals, "
                       "values: [x]}]}}\n",
                "unknown operator 'Equals'");
  CheckRejected(head + "spec: {podSelector: {matchExpressions: [{key: a, operator: In}]}}\n",
                "values: must be non-empty for operator In");
  CheckRejected(head + "spec: {podSelector: {matchExpressions: [{key: a, operator: Exists, "
                       "values: [x]}]}}\n",
                "values: must be empty for operator Exists");
  CheckRejected(head + "spec: {podSelector: {matchExpressions: [{operator: Exists}]}}\n",
                "matchExpressions[0].key: expected a string, got missing");

  // Peers.
  CheckRejected(head + "spec: {ingress: [{from: [{}]}]}\n",
                "spec.ingress[0].from[0]: a peer needs podSelector, namespaceSelector or ipBlock");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, "
                       "podSelector: {}}]}]}\n",
                "ipBlock cannot be combined");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0}}]}]}\n",
                "ipBlock.cidr: invalid CIDR '10.0.0.0'");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {}}]}]}\n",
                "ipBlock.cidr: expected a string, got missing");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, "
                       "except: [11.0.0.0/16]}}]}]}\n",
                "except[0]: '11.0.0.0/16' is not a strict subset of cidr '10.0.0.0/8'");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, "
                       "except: [10.0.0.0/8]}}]}]}\n",
                "not a strict subset");
  CheckRejected(head + "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, "
                       "except: [\"::/1\"]}}]}]}\n",
                "not a strict subset");

  // Ports.
  CheckRejected(head + "spec: {ingress: [{ports: [{port: Http_1}]}]}\n",
                "spec.ingress[0].ports[0].port: invalid port name 'Http_1'");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: http, endPort: 90}]}]}\n",
                "spec.ingress[0].ports[0].endPort: endPort needs a numeric port");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: \"80\"}]}]}\n",
                "port: expected an integer, got a string");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: 0}]}]}\n", "outside 1-65535");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: 65536}]}]}\n", "outside 1-65535");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: 80.5}]}]}\n",
                "expected an integer, got '80.5'");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: [80]}]}]}\n",
                "port: expected a string, got a list");
  CheckRejected(head + "spec: {ingress: [{ports: [{protocol: tcp, port: 80}]}]}\n",
                "unknown protocol 'tcp'");
  CheckRejected(head + "spec: {ingress: [{ports: [{endPort: 90}]}]}\n",
                "endPort requires port");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: 90, endPort: 80}]}]}\n",
                "endPort 80 must be within 90-65535");
  CheckRejected(head + "spec: {ingress: [{ports: [{port: 90, endPort: x}]}]}\n",
                "endPort: expected an integer, got 'x'");
  CheckRejected(head + "spec: {ingress: [{ports: [80]}]}\n",
                "ports[0]: expected a map, got a scalar");
}

TEST_CASE("a failed load adds no policies") {
  Cluster c = MakeCluster();
  REQUIRE_THROWS_AS(c.LoadPolicies(DbPolicy("  ingress: []\n") + "---\nkind: Pod\n"), Error);
  CHECK(c.policies().empty());
  CHECK_FALSE(c.IsolatedForIngress("db"));
}

TEST_CASE("invalid cluster models and queries are rejected") {
  Cluster c = MakeCluster();
  CHECK_THROWS_WITH(c.AddNamespace({"prod", {}}), "duplicate namespace 'prod'");
  CHECK_THROWS_WITH(c.AddEndpoint({"web", Kind::kPod, "prod", {}, "10.9.9.9"}),
                    "duplicate endpoint 'web'");
  CHECK_THROWS_WITH(c.AddEndpoint({"x", Kind::kPod, "nowhere", {}, "10.9.9.9"}),
                    "endpoint 'x': unknown namespace 'nowhere'");
  CHECK_THROWS_WITH(c.AddEndpoint({"x", Kind::kPod, "prod", {}, "10.9.9"}),
                    "endpoint 'x': invalid IP address '10.9.9'");
  CHECK_THROWS_WITH(c.AddEndpoint({"x", Kind::kExternal, "", {}, ""}),
                    "endpoint 'x': an external endpoint needs an IP");
  CHECK_THROWS_WITH(c.AddEndpoint({"x", Kind::kExternal, "prod", {}, "1.2.3.4"}),
                    "endpoint 'x': an external endpoint has no namespace or labels");
  CHECK_THROWS_WITH(c.IngressAllowed("nobody", "web", TCP, 80), "unknown endpoint 'nobody'");
  CHECK_THROWS_WITH(c.EgressAllowed("web", "nobody", TCP, 80), "unknown endpoint 'nobody'");
  CHECK_THROWS_WITH(c.Allowed("web", "db", TCP, 0), "port 0 is outside 1-65535");
  CHECK_THROWS_WITH(c.IsolatedForIngress("nobody"), "unknown endpoint 'nobody'");
}

TEST_CASE("protocol names") {
  CHECK(ToString(TCP) == "TCP");
  CHECK(ToString(UDP) == "UDP");
  CHECK(ToString(SCTP) == "SCTP");
  CHECK(ParseProtocol("SCTP") == SCTP);
  CHECK_FALSE(ParseProtocol("udp"));
}

}  // namespace
}  // namespace netpolc::verify
