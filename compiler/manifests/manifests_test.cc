#include <filesystem>
#include <random>
#include <fstream>
#include <string>

#include "compiler/manifests/connlist.h"
#include "compiler/manifests/import.h"
#include "compiler/manifests/reader.h"
#include "third_party/catch2_main.h"

namespace netpolc::manifests {
namespace {

Manifests Read(const std::string& text) {
  Manifests m;
  ReadText(text, "in.yaml", m);
  Finish(m);
  return m;
}

std::string ErrorOf(const std::string& text) {
  try {
    Read(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string Connlist(const std::string& text, const std::string& format = "txt") {
  return FormatConnList(ComputeConnList(Read(text)), format);
}

const char* kTwoPods = R"(
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: a}}
spec:
  containers:
  - ports: [{name: web, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}]
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns, labels: {app: b}}
)";

TEST_CASE("bad YAML is an error at file:line:column") {
  CHECK(ErrorOf("kind: Pod\nmetadata: {name: [unclosed\n").rfind("in.yaml:", 0) == 0);
  CHECK(ErrorOf("a: b\n  c: d\n").find("in.yaml:2:") == 0);
}

TEST_CASE("hostile file names and values stay on one line in messages") {
  Manifests m;
  try {
    ReadText("kind: [", "evil\nname.yaml", m);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind("evil\\x0aname.yaml:", 0) == 0);
  }
  ReadText("kind: \"Odd\\nKind\"\n", "x.yaml", m);
  REQUIRE(m.warnings.size() == 1);
  CHECK(m.warnings[0] == "x.yaml: skipped 1 object(s) of kind Odd\\x0aKind");
}

TEST_CASE("deep nesting is refused, not a crash") {
  std::string deep(100000, '[');
  CHECK(!ErrorOf(deep).empty());
  std::string lists;
  for (int i = 0; i < 10; ++i) lists += "{kind: List, items: [";
  lists += "{kind: Pod, metadata: {name: x}}";
  for (int i = 0; i < 10; ++i) lists += "]}";
  CHECK(ErrorOf(lists).find("nested more than 4 deep") != std::string::npos);
}

TEST_CASE("other kinds are skipped with one warning per kind") {
  Manifests m = Read("kind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: b}\n"
                     "---\nkind: ConfigMap\nmetadata: {name: c}\n");
  REQUIRE(m.warnings.size() == 2);
  CHECK(m.warnings[0] == "in.yaml: skipped 1 object(s) of kind ConfigMap");
  CHECK(m.warnings[1] == "in.yaml: skipped 2 object(s) of kind Service");
}

TEST_CASE("lists, owners and pod templates") {
  Manifests m = Read(R"(
kind: PodList
items:
- metadata:
    name: web-1
    namespace: shop
    labels: {app: web}
    ownerReferences: [{kind: ReplicaSet, name: web-5d9, controller: true}]
- metadata:
    name: web-2
    namespace: shop
    labels: {app: web}
    ownerReferences: [{kind: ReplicaSet, name: web-5d9, controller: true}]
- metadata:
    name: node-pod
    labels: {app: n}
    ownerReferences: [{kind: Node, name: node1, controller: true}]
---
kind: CronJob
metadata: {name: backup}
spec: {jobTemplate: {spec: {template: {metadata: {labels: {job: backup}}}}}}
)");
  REQUIRE(m.workloads.size() == 3);
  CHECK(m.workloads[0].Id() == "default/backup[CronJob]");
  CHECK(m.workloads[0].labels.at("job") == "backup");
  CHECK(m.workloads[1].Id() == "default/node-pod[Pod]");
  CHECK(m.workloads[2].Id() == "shop/web-5d9[ReplicaSet]");
  CHECK(m.warnings.empty());
  Manifests gap = Read(R"(
kind: Pod
metadata: {name: p1, labels: {app: x}, ownerReferences: [{kind: Job, name: j, controller: true}]}
---
kind: Pod
metadata: {name: p2, labels: {app: y}, ownerReferences: [{kind: Job, name: j, controller: true}]}
)");
  REQUIRE(gap.workloads.size() == 1);
  CHECK(gap.workloads[0].labels.at("app") == "x");
  REQUIRE(gap.warnings.size() == 1);
  CHECK(gap.warnings[0] == "in.yaml:5:1: pods of default/j[Job] carry different labels; the first one read "
                           "(in.yaml:2:1) stands for all of them");
}

TEST_CASE("malformed policy fields are located errors") {
  std::string policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n";
  CHECK(ErrorOf(policy + "  podSelector: {}\n  ingres: []\n").find("in.yaml:6:3: unknown field 'ingres'") == 0);
  CHECK(ErrorOf(policy + "  ingress: [{ports: [{port: 70000}]}]\n").find("in.yaml:5:") == 0);
  CHECK(ErrorOf(policy + "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n").find("invalid CIDR") !=
        std::string::npos);
  CHECK(ErrorOf(policy + "  ingress: [{from: [{}]}]\n").find("a peer needs") != std::string::npos);
}

TEST_CASE("unselected pods admit everything; policies restrict") {
  CHECK(Connlist(kTwoPods) ==
        "0.0.0.0-255.255.255.255[External] => ns/a[Pod] : All Connections\n"
        "0.0.0.0-255.255.255.255[External] => ns/b[Pod] : All Connections\n"
        "ns/a[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
        "ns/a[Pod] => ns/b[Pod] : All Connections\n"
        "ns/b[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
        "ns/b[Pod] => ns/a[Pod] : All Connections\n");
}

TEST_CASE("named ports resolve against the destination, with the rule's protocol") {
  std::string text = std::string(kTwoPods) + R"(
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: web}, {port: dns, protocol: UDP}, {port: dns}, {port: "8443"}]
)";
  CHECK(Connlist(text) ==
        "0.0.0.0-255.255.255.255[External] => ns/b[Pod] : All Connections\n"
        "ns/a[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
        "ns/a[Pod] => ns/b[Pod] : All Connections\n"
        "ns/b[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
        "ns/b[Pod] => ns/a[Pod] : TCP 8080,UDP 53\n");
}

TEST_CASE("external addresses are cut at the ipBlock boundaries of each direction") {
  std::string text = std::string(kTwoPods) + R"(
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
    ports: [{port: 443, endPort: 445, protocol: SCTP}]
)";
  std::string out = Connlist(text);
  CHECK(out.find("ns/a[Pod] => 10.0.0.0-10.0.255.255[External] : SCTP 443-445\n") != std::string::npos);
  CHECK(out.find("ns/a[Pod] => 10.2.0.0-10.255.255.255[External] : SCTP 443-445\n") != std::string::npos);
  CHECK(out.find("ns/a[Pod] => 10.1.0.0-10.1.255.255[External]") == std::string::npos);
  CHECK(out.find("ns/b[Pod] => 10.1.0.0-10.1.255.255[External] : All Connections") != std::string::npos);
  CHECK(out.find("ns/a[Pod] => ns/b") == std::string::npos);  // an ipBlock never selects a pod
  CHECK(out.find("0.0.0.0-255.255.255.255[External] => ns/a[Pod] : All Connections") != std::string::npos);
}

TEST_CASE("hostile names are escaped in every format") {
  std::string text = R"(
kind: Pod
metadata: {name: "x\ny,\"<|>*", namespace: "n\\s"}
---
kind: Pod
metadata: {name: b, namespace: ns}
)";
  std::string txt = Connlist(text);
  CHECK(txt.find("n\\\\s/x\\x0ay,\"<|>*[Pod]") != std::string::npos);
  for (const std::string& line : {txt}) CHECK(line.find("x\ny") == std::string::npos);
  std::string json = Connlist(text, "json");
  CHECK(json.find(R"("n\\s/x\ny,\"<|>*[Pod]")") != std::string::npos);
  std::string md = Connlist(text, "md");
  CHECK(md.find("\\|") != std::string::npos);
  CHECK(md.find("\\<") != std::string::npos);
  std::string csv = Connlist(text, "csv");
  CHECK(csv.find("\"n\\\\s/x\\x0ay,\"\"<|>*[Pod]\"") != std::string::npos);
  std::string dot = Connlist(text, "dot");
  CHECK(dot.find("\"n\\\\\\\\s/x\\\\x0ay,\\\"<|>*[Pod]\"") != std::string::npos);
}

TEST_CASE("directories are read recursively; non-manifest files are ignored") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "netpolc-manifests-test";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub" / "deeper");
  std::ofstream(dir / "sub" / "deeper" / "p.yml") << "kind: Pod\nmetadata: {name: a}\n";
  std::ofstream(dir / "notes.txt") << "kind: Pod\nmetadata: {name: ignored}\n";
  std::ofstream(dir / "q.json") << R"({"kind": "Pod", "metadata": {"name": "b"}})";
  Manifests m = ReadManifests({dir.string()});
  REQUIRE(m.workloads.size() == 2);
  CHECK(m.workloads[0].Id() == "default/a[Pod]");
  CHECK(m.workloads[1].Id() == "default/b[Pod]");
  CHECK_THROWS_AS(ReadManifests({(dir / "missing").string()}), Error);
  fs::remove_all(dir);
}

TEST_CASE("port names are validated as the API server does, located") {
  const std::string policy = R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
  ingress: [{ports: [{port: NAME}]}]
)";
  for (const char* bad : {"Https", "-web", "web-", "a--b", "1234567890123456x", "we_b"}) {
    std::string text = policy;
    text.replace(text.find("NAME"), 4, bad);
    std::string message;
    try {
      Read(text);
    } catch (const Error& e) {
      message = e.what();
    }
    CHECK(message.rfind("in.yaml:6:29: invalid port name", 0) == 0);
  }
  for (const char* good : {"https", "dns-tcp-local", "h2c", "a-b-c"}) {
    std::string text = policy;
    text.replace(text.find("NAME"), 4, good);
    Manifests m = Read(text);
    REQUIRE(m.policies.size() == 1);
    CHECK(m.policies[0].ingress.at(0).ports.at(0).named_port == good);
  }
}

TEST_CASE("import refuses what the language cannot say, located") {
  Manifests m = Read(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ns}
spec: {podSelector: {matchExpressions: [{key: app, operator: Exists}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: twice, namespace: ns}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
    - podSelector:
        matchLabels: {tier: x}
        matchExpressions: [{key: tier, operator: In, values: [x, y]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: quoted, namespace: ns}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - ports: [{port: "8443"}]
)");
  Imported out = ImportRules(m);
  REQUIRE(out.errors.size() == 3);
  CHECK(out.errors[2].find("in.yaml:23:5: NetworkPolicy ns/quoted: the port \"8443\" is a quoted number") == 0);
  CHECK(out.errors[0].find("in.yaml:1:1: NetworkPolicy ns/deny: a pod selector with matchExpressions") == 0);
  CHECK(out.errors[1].find("in.yaml:12:5: NetworkPolicy ns/twice: the label key \"tier\" appears twice") == 0);
}

TEST_CASE("import: empty pod selectors, named ports and selector requirements") {
  Manifests m = Read(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: ns}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {}
    - podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [batch]}, {key: debug, operator: DoesNotExist}]}
      namespaceSelector: {matchExpressions: [{key: team, operator: Exists}]}
    ports: [{port: https}, {port: dns, protocol: UDP}]
)");
  Imported out = ImportRules(m);
  REQUIRE(out.errors.empty());
  CHECK(out.text.find("component all_pods_ns {\n  labels any;\n  scope namespace;\n  namespace \"ns\";") !=
        std::string::npos);
  // The empty peer selector in the policy's namespace is that component.
  CHECK(out.text.find("ingress tcp \"https\", udp \"dns\" from all_pods_ns, pods { \"tier\": not in "
                      "[\"batch\"], \"debug\": not exists } in namespaces { \"team\": exists };") !=
        std::string::npos);
}

TEST_CASE("import names components after workloads and peers after components") {
  Manifests m = Read(std::string(kTwoPods) + R"(
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]
  egress: [{to: [{namespaceSelector: {}}]}]
  policyTypes: [Egress]
)");
  Imported out = ImportRules(m);
  REQUIRE(out.errors.empty());
  CHECK(out.text.find("component a {") != std::string::npos);
  CHECK(out.text.find("egress tcp 1-65535, udp 1-65535, sctp 1-65535 to pods {} in any namespace;") !=
        std::string::npos);
  // policyTypes [Egress]: the ingress rules do not apply; ingress admits all.
  CHECK(out.text.find("ingress tcp 80") == std::string::npos);
  CHECK(out.text.find("ingress tcp 1-65535, udp 1-65535, sctp 1-65535 from anywhere;") != std::string::npos);
}

TEST_CASE("mutated manifests give results or located errors, never crashes") {
  const std::string base = std::string(kTwoPods) + R"(
---
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: p, namespace: ns}
  spec:
    podSelector: {matchLabels: {app: a}}
    policyTypes: [Ingress, Egress]
    ingress:
    - from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [b]}]}},
             {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
      ports: [{port: web}, {port: 80, endPort: 90, protocol: UDP}]
    egress: [{to: [{namespaceSelector: {matchLabels: {team: x}}}]}]
- kind: Deployment
  metadata: {name: d}
  spec: {template: {metadata: {labels: {app: d}}, spec: {containers: [{ports: [{containerPort: 1}]}]}}}
)";
  const std::string alphabet = "{}[]:,-\n \"'&*!|>#%@`abc09.";
  std::mt19937 random(14);
  int ok = 0, errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = random() % text.size();
      char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: text.erase(at, 1); break;
        case 1: text.insert(at, 1, c); break;
        default: text[at] = c;
      }
    }
    try {
      Manifests m = Read(text);
      FormatConnList(ComputeConnList(m), "txt");
      ImportRules(m);
      ++ok;
    } catch (const Error& e) {
      CHECK(std::string(e.what()).rfind("in.yaml", 0) == 0);
      ++errors;
    }
  }
  CHECK(ok > 0);
  CHECK(errors > 0);
}

}  // namespace
}  // namespace netpolc::manifests
