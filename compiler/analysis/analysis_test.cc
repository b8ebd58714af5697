// The symbolic analysis against independent oracles: for every
// configuration (or a sample), the connection answers of the model, read at
// that configuration, must equal what the Kubernetes, Cilium and Calico
// evaluators (compiler/verify/) say of the k8s, cilium and calico manifests
// netpolc builds for it, with every component's pods at addresses of the pod
// networks and outside addresses in and around the rules' address blocks: one
// meaning of address blocks (outside the cluster) in the analysis and every
// target. Then check, explain, diff and graph on a generated rule set far too
// large to enumerate.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "backends/calico/calico.h"
#include "backends/cilium/cilium.h"
#include "backends/k8s/k8s.h"
#include "compiler/analysis/check.h"
#include "compiler/analysis/connections.h"
#include "compiler/analysis/explain.h"
#include "compiler/analysis/model.h"
#include "compiler/frontend/frontend.h"
#include "compiler/semantics/instantiate.h"
#include "compiler/semantics/pod_networks.h"
#include "compiler/verify/calico_eval.h"
#include "compiler/verify/cilium_eval.h"
#include "compiler/verify/k8s_eval.h"
#include "compiler/verify/model.h"
#include "third_party/catch2_main.h"

namespace netpolc::analysis {
namespace {

struct Compiled {
  Compilation compilation;
  std::optional<ir::Module> module;
};

std::unique_ptr<Compiled> Compile(const std::string& text) {
  auto out = std::make_unique<Compiled>();
  out->module = CompileModule(out->compilation, "test.netpol", text);
  return out;
}

verify::Protocol ToVerify(ir::Protocol p) {
  switch (p) {
    case ir::Protocol::kTcp:
      return verify::Protocol::kTCP;
    case ir::Protocol::kUdp:
      return verify::Protocol::kUDP;
    case ir::Protocol::kSctp:
      return verify::Protocol::kSCTP;
  }
  return verify::Protocol::kTCP;
}

// Outside addresses: in and around the blocks of the Event Streams rules and
// of the generated ones (10.0.0.0/8 except 10.9.0.0/16, 192.0.2.0/24, the /0
// blocks), none in a pod network.
const std::vector<std::string> kAddresses = {"203.0.113.7", "10.1.2.3", "10.9.9.9", "2001:db8::1",
                                             "192.0.2.44"};

struct Query {
  Endpoint from, to;
  std::string from_id, to_id;
  ir::Protocol protocol;
  uint16_t port;
  Ref allowed, egress, ingress;
};

// Compares the model with k8s_eval in each configuration of `configs`;
// returns the number of questions compared.
// The cilium and calico evaluators are consulted in every `every`-th
// configuration (the k8s one in all): the equivalence tests already prove
// the three outputs equal in every configuration.
size_t CrossCheck(const ir::Module& module, const std::vector<std::vector<bool>>& configs,
                  size_t every = 1) {
  ir::Config defaults = ir::Config::Defaults(module);
  Bdd bdd;
  Model model(module, defaults, bdd, Model::BindFlags(module, defaults, {}, bdd));
  // Ports where answers may change: every rule's bounds, the neighbours of
  // ranges, and a port no rule names.
  std::set<std::pair<ir::Protocol, uint16_t>> ports = {
      {ir::Protocol::kUdp, 53}, {ir::Protocol::kTcp, 53}, {ir::Protocol::kTcp, 1}};
  for (const RuleInfo& r : model.rules()) {
    for (const ir::PortRange& p : r.ports) {
      std::vector<int> candidates = {p.first, p.last};
      if (p.first != p.last) candidates = {p.first - 1, p.first, p.first + 1, p.last, p.last + 1};
      for (int port : candidates) {
        if (port >= 1 && port <= 65535) ports.insert({p.protocol, static_cast<uint16_t>(port)});
      }
    }
  }
  std::vector<std::pair<Endpoint, std::string>> ends;
  for (uint32_t c = 0; c < model.component_count(); ++c) {
    ends.push_back({Endpoint::Component(c), model.component(c).id});
  }
  for (size_t i = 0; i < kAddresses.size(); ++i) {
    ends.push_back({Endpoint::Address(kAddresses[i]), "ext" + std::to_string(i)});
  }
  // The symbolic answers, computed once for all configurations.
  std::vector<Query> queries;
  for (const auto& [from, from_id] : ends) {
    for (const auto& [to, to_id] : ends) {
      if (!from.is_component() && !to.is_component()) continue;
      for (const auto& [protocol, port] : ports) {
        queries.push_back({from, to, from_id, to_id, protocol, port,
                           model.Allowed(from, to, protocol, port),
                           model.EgressSide(from, to, protocol, port),
                           model.IngressSide(from, to, protocol, port)});
      }
    }
  }
  // Pod addresses: in the pod networks, one per component.
  std::vector<std::string> networks = PodNetworks(module, defaults);
  REQUIRE(!networks.empty());
  std::vector<std::string> pod_ips;
  for (uint32_t c = 0; c < model.component_count(); ++c) {
    const std::string& network = networks[c % networks.size()];
    std::string base = network.substr(0, network.find('/'));
    std::string ip = base.find(':') != std::string::npos
                         ? base + fmt::format("{:x}", 0x100 + c)  // the network ends in "::"
                         : base.substr(0, base.rfind('.') + 1) + std::to_string(10 + c);
    REQUIRE(PodNetworkOf(ip, networks));
    pod_ips.push_back(ip);
  }
  for (const std::string& a : kAddresses) REQUIRE(!PodNetworkOf(a, networks));

  size_t compared = 0;
  for (size_t config_index = 0; config_index < configs.size(); ++config_index) {
    const std::vector<bool>& flags = configs[config_index];
    const size_t targets = config_index % every == 0 ? 3 : 1;
    // Variables are in the model's order, not the flags'.
    const std::vector<bool> vars = model.VarAssignment(flags);
    ir::Config config = defaults;
    config.flags = flags;
    Diagnostics diagnostics;
    std::optional<ir::PolicySet> policies = Instantiate(module, config, diagnostics);
    REQUIRE(policies);
    backends::Input input{module, config};
    input.policies = &*policies;
    input.source_name = "test.netpol";
    input.all_configurations = false;
    std::string k8s_yaml, cilium_yaml, calico_yaml;
    REQUIRE(backends::k8s::Instance().Render(input, k8s_yaml, diagnostics));
    REQUIRE(backends::cilium::Instance().Render(input, cilium_yaml, diagnostics));
    REQUIRE(backends::calico::Instance().Render(input, calico_yaml, diagnostics));

    verify::Universe universe;
    std::set<std::string> namespaces = {"kube-system", "elsewhere"};
    for (uint32_t c = 0; c < model.component_count(); ++c) namespaces.insert(model.NamespaceOf(c));
    for (const std::string& ns : namespaces) universe.AddNamespace({ns, {}});
    std::vector<bool> exists(model.component_count());
    std::map<std::string, size_t> index;  // query id -> universe endpoint
    for (uint32_t c = 0; c < model.component_count(); ++c) {
      exists[c] = bdd.Eval(model.Enabled(c), vars);
      if (!exists[c]) continue;
      verify::Labels labels;
      for (const ir::Label& l : model.Selector(c)) labels[l.key] = l.value;
      index[model.component(c).id] = universe.size();
      universe.AddEndpoint({model.component(c).id, verify::Endpoint::Kind::kPod,
                            model.NamespaceOf(c), labels, pod_ips[c]});
    }
    for (size_t i = 0; i < kAddresses.size(); ++i) {
      index["ext" + std::to_string(i)] = universe.size();
      universe.AddEndpoint({"ext" + std::to_string(i), verify::Endpoint::Kind::kExternal, "", {},
                            kAddresses[i]});
    }
    const verify::K8sEvaluator k8s(universe, k8s_yaml, "k8s output");
    const verify::CiliumEvaluator cilium(universe, cilium_yaml, "cilium output");
    const verify::CalicoEvaluator calico(universe, calico_yaml, "calico output");
    const std::pair<const char*, const verify::Evaluator*> evaluators[] = {
        {"k8s", &k8s}, {"cilium", &cilium}, {"calico", &calico}};
    // One port set per (evaluator, side, subject, peer).
    std::map<std::tuple<size_t, int, size_t, size_t>, verify::PortSet> cache;
    auto allows = [&](size_t e, verify::Side side, size_t subject, size_t peer,
                      verify::Protocol p, int port) {
      auto key = std::make_tuple(e, static_cast<int>(side), subject, peer);
      auto it = cache.find(key);
      if (it == cache.end()) {
        it = cache.emplace(key, evaluators[e].second->Allowed(side, subject, peer)).first;
      }
      return it->second.Contains(p, port);
    };
    // Compared without an assertion per question (millions of them); the
    // first disagreement is reported.
    for (const Query& q : queries) {
      bool present = (!q.from.is_component() || exists[q.from.component]) &&
                     (!q.to.is_component() || exists[q.to.component]);
      bool symbolic = bdd.Eval(q.allowed, vars);
      std::string mismatch;
      if (!present) {
        if (symbolic) mismatch = "allowed to or from a component that does not exist";
      } else {
        verify::Protocol p = ToVerify(q.protocol);
        size_t src = index.at(q.from_id), dst = index.at(q.to_id);
        bool egress = bdd.Eval(q.egress, vars), ingress = bdd.Eval(q.ingress, vars);
        for (size_t e = 0; e < targets && mismatch.empty(); ++e) {
          bool out = allows(e, verify::Side::kEgress, src, dst, p, q.port);
          bool in = allows(e, verify::Side::kIngress, dst, src, p, q.port);
          if (symbolic != (out && in)) {
            mismatch = "allowed";
          } else if (q.from.is_component() && egress != out) {
            mismatch = "egress side";
          } else if (q.to.is_component() && ingress != in) {
            mismatch = "ingress side";
          }
          if (!mismatch.empty()) mismatch += std::string(" (") + evaluators[e].first + ")";
        }
        ++compared;
      }
      if (!mismatch.empty()) {
        std::string config_text;
        for (size_t i = 0; i < flags.size(); ++i) {
          config_text += module.flags[i].name + "=" + (flags[i] ? "true " : "false ");
        }
        FAIL("model and evaluator disagree (" << mismatch << "): " << q.from_id << " -> " << q.to_id
             << " " << ir::ProtocolName(q.protocol) << " " << q.port << " with " << config_text);
      }
    }
  }
  return compared;
}

std::vector<std::vector<bool>> AllConfigs(size_t flags) {
  std::vector<std::vector<bool>> out;
  for (uint64_t bits = 0; bits < (uint64_t{1} << flags); ++bits) {
    std::vector<bool> a(flags);
    for (size_t i = 0; i < flags; ++i) a[i] = (bits >> i) & 1;
    out.push_back(a);
  }
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("Event Streams: the model agrees with the Kubernetes, Cilium and Calico evaluators") {
  std::unique_ptr<Compiled> es = Compile(ReadText("rules/eventstreams.netpol"));
  REQUIRE(es->module);
  size_t flags = es->module->flags.size();
  REQUIRE(flags == 9);
  size_t compared = CrossCheck(*es->module, AllConfigs(flags), 8);
  CHECK(compared > 100000);
}

TEST_CASE("Explain answers agree with the evaluator on the Event Streams findings") {
  std::unique_ptr<Compiled> es = Compile(ReadText("rules/eventstreams.netpol"));
  REQUIRE(es->module);
  const ir::Module& module = *es->module;
  ir::Config config = ir::Config::Defaults(module);
  Bdd bdd;
  Model model(module, config, bdd, Model::BindFlags(module, config, {}, bdd));
  auto c = [&](const char* id) { return Endpoint::Component(*module.FindComponent(id)); };
  uint32_t tls = *module.FindFlag("internal_tls");
  Explanation blocked = Explain(model, c("cluster_operator"), c("admin_api"), ir::Protocol::kTcp, 7443);
  CHECK(blocked.allowed == Bdd::kFalse);
  CHECK(blocked.egress.allows == Bdd::kTrue);
  CHECK(blocked.ingress.allows == Bdd::kFalse);
  Explanation tls_only = Explain(model, c("kafka"), c("admin_api"), ir::Protocol::kTcp, 7443);
  CHECK(tls_only.ingress.allows == model.FlagRef(tls));
  CHECK(tls_only.egress.allows == Bdd::kFalse);  // kafka's egress is restricted
  Explanation zk = Explain(model, c("zookeeper"), c("zookeeper"), ir::Protocol::kTcp, 2888);
  CHECK(zk.allowed == Bdd::kTrue);
  Explanation zk2181 = Explain(model, c("zookeeper"), c("zookeeper"), ir::Protocol::kTcp, 2181);
  CHECK(zk2181.allowed == Bdd::kFalse);
  CHECK(zk2181.ingress.allows == Bdd::kTrue);
  uint32_t connect = *module.FindFlag("kafka_connect");
  Explanation api = Explain(model, c("admin_api"), c("kafka_connect"), ir::Protocol::kTcp, 8083);
  CHECK(api.egress.allows == model.FlagRef(connect));
  CHECK(api.allowed == Bdd::kFalse);
}

// A random rules file over `flags` flags (0 to 4 rules per component).
std::string RandomModule(std::mt19937& rng, int components, int flags) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  std::ostringstream out;
  for (int f = 0; f < flags; ++f) out << "flag f" << f << " = " << (pick(2) ? "true" : "false") << ";\n";
  // Pods live in the pod networks; address blocks are around, inside and
  // beside them.
  out << "param pod_networks: cidrs = \"10.128.0.0/14, fd00:10:244::/48\";\n";
  out << "instance { namespace \"ns1\"; prefix \"t\"; labels { \"app.kubernetes.io/instance\": \"t\" } }\n";
  switch (pick(3)) {
    case 0:
      out << "dns off;\n";
      break;
    case 1:
      out << "dns udp 53, tcp 53 to pods { \"role\": \"dns\" } in any namespace;\n";
      break;
    default:
      break;  // the built-in kube-dns rule
  }
  auto condition = [&]() -> std::string {
    int a = pick(flags), b = pick(flags);
    switch (pick(6)) {
      case 0:
        return " when f" + std::to_string(a);
      case 1:
        return " when not f" + std::to_string(a);
      case 2:
        return " when f" + std::to_string(a) + " and not f" + std::to_string(b);
      case 3:
        return " when f" + std::to_string(a) + " or f" + std::to_string(b);
      default:
        return "";
    }
  };
  const char* port_choices[] = {"80", "443", "8080", "8000-8100", "udp 53", "tcp 53", "9000, 9001"};
  for (int c = 0; c < components; ++c) {
    out << "component c" << c << (pick(3) == 0 ? condition() : "") << " {\n";
    // Now and then every pod of the instance or of a namespace (`labels
    // any`): its policy selects the other components' pods there too.
    bool any = pick(6) == 0;
    if (any) {
      out << "  labels any;\n";
    } else {
      out << "  labels { \"app\": \"c" << c << "\", \"tier\": \"" << (pick(2) ? "a" : "b") << "\"";
      if (pick(4) == 0) out << ", \"role\": \"dns\"";
      out << " }\n";
    }
    int scope = pick(6);
    if (any && scope == 0) scope = 2;  // every pod of every namespace: an error
    if (scope == 0) out << "  scope cluster;\n  namespace \"ops\";\n";
    if (scope == 1) out << "  namespace \"ns2\";\n";
    if (scope == 2) out << "  scope namespace;\n";
    // Policy deployment and per-side isolation under conditions: a side
    // that no policy isolates admits everything.
    if (pick(5) == 0) out << "  policy" << condition() << ";\n";
    if (pick(6) == 0) out << "  isolate ingress" << condition() << ";\n";
    if (pick(4) == 0) out << "  isolate egress" << condition() << ";\n";
    int rules = pick(5);
    for (int r = 0; r < rules; ++r) {
      bool ingress = pick(2);
      out << "  " << (ingress ? "ingress " : "egress ") << port_choices[pick(7)] << (ingress ? " from " : " to ");
      int peers = 1 + pick(2);
      for (int p = 0; p < peers; ++p) {
        if (p > 0) out << ", ";
        switch (pick(13)) {
          case 10:
            out << "cidr \"10.128.0.0/16\"";  // inside a pod network: admits nothing
            break;
          case 11:
            out << "cidr \"192.0.2.0/24\"";
            break;
          case 12:
            out << "cidr \"fd00::/8\"";  // holds a pod network: written with except
            break;
          case 0:
            out << "anywhere";
            break;
          case 1:
            out << "instance";
            break;
          case 2:
            out << "external";
            break;
          case 3:
            out << "cidr \"10.0.0.0/8\" except [\"10.9.0.0/16\"]";
            break;
          case 4:
            out << "pods { \"tier\": \"a\" }";
            break;
          case 5:
            out << "pods { \"app\": \"c" << pick(components) << "\" } in any namespace";
            break;
          case 6:
            out << "pods { } in namespaces { \"kubernetes.io/metadata.name\": \"ops\" }";
            break;
          default:
            out << "c" << pick(components);
        }
      }
      // Distinct rules: the comment-free line number makes no difference,
      // so vary a property instead of risking duplicate-rule errors.
      out << condition() << " { reason \"r" << r << "\"; }\n";
    }
    out << "}\n";
  }
  return out.str();
}

TEST_CASE("Generated rule sets with address blocks: the model agrees with every evaluator") {
  std::mt19937 rng(20240601);
  size_t modules = 0, compared = 0, with_labels_any = 0;
  for (int round = 0; round < 60; ++round) {
    std::string text = RandomModule(rng, 6, 4);
    std::unique_ptr<Compiled> m = Compile(text);
    if (!m->module) continue;  // e.g. a duplicate rule drawn twice
    INFO(text);
    compared += CrossCheck(*m->module, AllConfigs(4));
    if (text.find("labels any;") != std::string::npos) ++with_labels_any;
    // The commands run on every generated file, with flags open and with
    // some fixed.
    const ir::Module& module = *m->module;
    ir::Config config = ir::Config::Defaults(module);
    Bdd bdd, open_bdd;
    std::vector<bool> fixed = {true, false, true, false};
    Model model(module, config, bdd, Model::BindFlags(module, config, fixed, bdd));
    Model open(module, config, open_bdd, Model::BindFlags(module, config, {}, open_bdd));
    std::vector<Finding> findings = Check(model, open);
    for (const Finding& f : findings) CHECK(!f.message.empty());
    ConnectionSet connections = Connections(model, true);
    for (const Connection& c : connections.connections) CHECK(c.when != Bdd::kFalse);
    ++modules;
  }
  CHECK(modules > 40);
  CHECK(compared > 10000);
  CHECK(with_labels_any > 20);  // policies selecting other components' pods
}

// A rule set too large to enumerate: 60 flags, 300 components, 3000 rules.
// Most egress rules have a matching ingress rule at the destination, under
// conditions of their own.
std::string LargeModule(int components, int flags) {
  std::mt19937 rng(99);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto condition = [&]() -> std::string {
    if (pick(2)) return "";
    return " when f" + std::to_string(pick(flags)) + " and not f" + std::to_string(pick(flags));
  };
  std::vector<std::vector<std::string>> rules(components);
  std::set<std::pair<int, std::string>> seen;  // no duplicate rules
  auto add = [&](int c, std::string rule) {
    if (seen.insert({c, rule}).second) rules[c].push_back(std::move(rule));
  };
  for (int i = 0; i < components * 5; ++i) {
    int a = pick(components), b = pick(components), port = 8000 + pick(20);
    add(a, "egress " + std::to_string(port) + " to c" + std::to_string(b) + condition());
    if (pick(5) != 0) {
      add(b, "ingress " + std::to_string(port) + " from c" + std::to_string(a) + condition());
    }
  }
  std::ostringstream out;
  for (int f = 0; f < flags; ++f) out << "flag f" << f << ";\n";
  for (int c = 0; c < components; ++c) {
    out << "component c" << c;
    if (c % 3 == 0) out << " when f" << pick(flags);
    out << " {\n  labels { \"app\": \"c" << c << "\" }\n";
    for (size_t r = 0; r < rules[c].size(); ++r) {
      out << "  " << rules[c][r] << " { reason \"" << r << "\"; }\n";
    }
    out << "}\n";
  }
  return out.str();
}

TEST_CASE("Sixty flags and three thousand rules: the commands stay fast") {
  std::unique_ptr<Compiled> m = Compile(LargeModule(300, 60));
  REQUIRE(m->module);
  const ir::Module& module = *m->module;
  ir::Config config = ir::Config::Defaults(module);
  auto start = std::chrono::steady_clock::now();
  Bdd bdd;
  Model model(module, config, bdd, Model::BindFlags(module, config, {}, bdd));
  std::vector<Finding> findings = Check(model, model);
  ConnectionSet connections = Connections(model, false);
  Explanation e = Explain(model, Endpoint::Component(0), Endpoint::Component(1), ir::Protocol::kTcp, 8005);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("check + connections + explain on 300 components, 3000 rules, 60 flags: " << seconds << " s, "
       << findings.size() << " findings, " << connections.connections.size() << " connections, "
       << bdd.node_count() << " BDD nodes");
  CHECK(!findings.empty());
  CHECK(!connections.connections.empty());
  CHECK(seconds < 30);
}

bool SameFinding(const Finding& a, const Finding& b) {
  if (a.kind != b.kind || a.loc != b.loc || a.message != b.message ||
      a.condition != b.condition || a.notes.size() != b.notes.size()) {
    return false;
  }
  for (size_t i = 0; i < a.notes.size(); ++i) {
    if (a.notes[i].loc != b.notes[i].loc || a.notes[i].message != b.notes[i].message) return false;
  }
  return true;
}

TEST_CASE("Packed findings come back as they were added, sorted, merged and filtered") {
  auto finding = [](DiagnosticKind kind, uint32_t line, std::string message, std::string condition,
                    size_t notes) {
    Finding f{kind, SourceLoc{0, line, 3, 1}, std::move(message), std::move(condition), {}};
    for (size_t n = 0; n < notes; ++n) {
      f.notes.push_back({SourceLoc{0, line + 1, 1, 2}, "note " + std::to_string(n)});
    }
    return f;
  };
  std::vector<Finding> added = {
      finding(DiagnosticKind::kShadowedRule, 9, "b", "", 1),
      finding(DiagnosticKind::kEgressNotAdmitted, 2, "z", "f1", 3),
      // Larger than a block: a block of its own.
      finding(DiagnosticKind::kEgressNotAdmitted, 2, std::string((1 << 20) + 5, 'x'), "not f1", 0),
      finding(DiagnosticKind::kEgressNotAdmitted, 2, "a", "", 0),
      finding(DiagnosticKind::kShadowedRule, 9, "b", "always", 2),  // equal key: stays second
  };
  FindingList list;
  for (const Finding& f : added) list.Add(f);
  REQUIRE(list.size() == added.size());
  for (size_t i = 0; i < added.size(); ++i) CHECK(SameFinding(list.Get(i), added[i]));
  list.Sort();
  std::vector<size_t> order = {3, 2, 1, 0, 4};
  for (size_t i = 0; i < order.size(); ++i) CHECK(SameFinding(list.Get(i), added[order[i]]));

  FindingList more;
  more.Add(finding(DiagnosticKind::kUnusedFlag, 1, "u", "", 0));
  more.Add(finding(DiagnosticKind::kUnusedFlag, 9, "b", "", 1));
  more.Sort();
  list.Merge(std::move(more));
  REQUIRE(list.size() == 7);
  CHECK(list.Get(0).kind == DiagnosticKind::kUnusedFlag);
  CHECK(list.Get(0).loc.line == 1);
  CHECK(SameFinding(list.Get(1), added[3]));
  CHECK(SameFinding(list.Get(4), added[0]));
  CHECK(SameFinding(list.Get(5), added[4]));
  CHECK(list.Get(6).kind == DiagnosticKind::kUnusedFlag);
  CHECK(list.Get(6).notes.size() == 1);
  list.Filter([](DiagnosticKind kind) { return kind != DiagnosticKind::kEgressNotAdmitted; });
  REQUIRE(list.size() == 4);
  CHECK(list.Get(1).message == "b");
  CHECK(list.Get(1).notes.size() == 1);
}

TEST_CASE("Sorted lists of findings merge as if appended and sorted") {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const DiagnosticKind kinds[] = {DiagnosticKind::kEgressNotAdmitted,
                                  DiagnosticKind::kIngressNotAllowed, DiagnosticKind::kShadowedRule};
  for (int round = 0; round < 20; ++round) {
    std::vector<FindingList> runs(1 + pick(6));
    FindingList all;  // every run's findings, in the order of the runs
    for (FindingList& run : runs) {
      int count = pick(40);  // some runs empty
      for (int i = 0; i < count; ++i) {
        // Few lines, kinds and messages: many equal keys, told apart by the
        // condition and notes.
        Finding f{kinds[pick(3)], SourceLoc{0, static_cast<uint32_t>(1 + pick(5)), 1, 1},
                  std::string(1, static_cast<char>('a' + pick(3))), std::to_string(round * 1000 + i),
                  {}};
        for (int n = pick(3); n > 0; --n) f.notes.push_back({SourceLoc{0, 9, 1, 1}, std::to_string(n)});
        run.Add(f);
      }
      run.Sort();
      for (size_t i = 0; i < run.size(); ++i) all.Add(run.Get(i));
    }
    all.Sort();
    FindingList merged = FindingList::MergeSorted(std::move(runs));
    REQUIRE(merged.size() == all.size());
    for (size_t i = 0; i < all.size(); ++i) CHECK(SameFinding(merged.Get(i), all.Get(i)));
  }
}

TEST_CASE("Check in two parts, the rules' peers freed in between, finds what Check finds") {
  for (const std::string& text : {LargeModule(200, 30), ReadText("rules/eventstreams.netpol")}) {
    std::unique_ptr<Compiled> m = Compile(text);
    REQUIRE(m->module);
    ir::Config config = ir::Config::Defaults(m->module.value());
    Bdd bdd, split_bdd;
    const ir::Module& module = *m->module;
    Model model(module, config, bdd, Model::BindFlags(module, config, {}, bdd));
    std::vector<Finding> whole = Check(model, model);

    ir::Module copy = module;
    FindingList declarations = CheckDeclarations(copy, config);
    Model split(copy, config, split_bdd, Model::BindFlags(copy, config, {}, split_bdd));
    for (ir::Component& c : copy.components) {
      for (ir::Rule& r : c.rules) r.peers.clear();
    }
    FindingList parts = CheckModel(split, split);
    parts.Merge(std::move(declarations));
    REQUIRE(parts.size() == whole.size());
    CHECK(!whole.empty());
    for (size_t i = 0; i < whole.size(); ++i) CHECK(SameFinding(parts.Get(i), whole[i]));
  }
}

// CheckModel(model, open, per_part), or where it stopped: a condition too
// complex at a location.
struct CheckOutcome {
  std::vector<Finding> findings;
  std::optional<SourceLoc> too_complex;
};

CheckOutcome CheckInParts(const ir::Module& module, const ir::Config& config,
                          const std::vector<bool>& fixed, Bdd::Limits limits, size_t per_part) {
  Bdd bdd(limits), open_bdd(limits);
  Model model(module, config, bdd, Model::BindFlags(module, config, fixed, bdd));
  Model open(module, config, open_bdd, Model::BindFlags(module, config, {}, open_bdd));
  CheckOutcome out;
  try {
    FindingList list = CheckModel(model, open, per_part);
    for (size_t i = 0; i < list.size(); ++i) out.findings.push_back(list.Get(i));
  } catch (const ConditionTooComplex& e) {
    out.too_complex = e.loc;
  } catch (const Bdd::TooComplex&) {
    out.too_complex = model.focus();
  }
  return out;
}

TEST_CASE("Blocked connections checked in parts of any size are those of one pass") {
  for (const std::string& text : {LargeModule(200, 30), ReadText("rules/eventstreams.netpol")}) {
    std::unique_ptr<Compiled> m = Compile(text);
    REQUIRE(m->module);
    const ir::Module& module = *m->module;
    ir::Config config = ir::Config::Defaults(module);
    // Flags open, and the first two fixed (at their defaults).
    std::vector<bool> some_fixed(module.flags.size());
    for (size_t i = 0; i < some_fixed.size() && i < 2; ++i) some_fixed[i] = true;
    for (const std::vector<bool>& fixed : {std::vector<bool>{}, some_fixed}) {
      const size_t whole = module.components.size() + 1;
      CheckOutcome one_pass = CheckInParts(module, config, fixed, {}, whole);
      REQUIRE(!one_pass.too_complex);
      CHECK(!one_pass.findings.empty());
      for (size_t per_part : {size_t{1}, size_t{7}, size_t{64}}) {
        CheckOutcome parts = CheckInParts(module, config, fixed, {}, per_part);
        REQUIRE(!parts.too_complex);
        REQUIRE(parts.findings.size() == one_pass.findings.size());
        for (size_t i = 0; i < parts.findings.size(); ++i) {
          CHECK(SameFinding(parts.findings[i], one_pass.findings[i]));
        }
      }
    }
  }
}

TEST_CASE("Parts past the budget of steps give way to one pass") {
  std::unique_ptr<Compiled> m = Compile(LargeModule(120, 20));
  REQUIRE(m->module);
  const ir::Module& module = *m->module;
  ir::Config config = ir::Config::Defaults(module);
  // The steps the models take to build, then budgets from there to enough.
  Bdd probe;
  Model built(module, config, probe, Model::BindFlags(module, config, {}, probe));
  const uint64_t base = probe.step_count();
  size_t stopped = 0, finished = 0;
  for (uint64_t extra : {uint64_t{0}, uint64_t{50}, uint64_t{500}, uint64_t{5000}, uint64_t{50000},
                         uint64_t{5000000}}) {
    Bdd::Limits limits;
    limits.max_steps = base + extra;
    CheckOutcome one_pass = CheckInParts(module, config, {}, limits, module.components.size() + 1);
    CheckOutcome parts = CheckInParts(module, config, {}, limits, 5);
    if (parts.too_complex) {
      // The parts gave way: one pass stops where it stops on its own.
      REQUIRE(one_pass.too_complex);
      CHECK(*parts.too_complex == *one_pass.too_complex);
      ++stopped;
    } else if (!one_pass.too_complex) {
      REQUIRE(parts.findings.size() == one_pass.findings.size());
      for (size_t i = 0; i < parts.findings.size(); ++i) {
        CHECK(SameFinding(parts.findings[i], one_pass.findings[i]));
      }
      ++finished;
    }
  }
  CHECK(stopped > 0);
  CHECK(finished > 0);
}

TEST_CASE("Flags are ordered by first appearance, texts by declaration") {
  // Declared a0, a1, a2, b0, b1, b2, unused; used pairwise.
  std::unique_ptr<Compiled> m = Compile(
      "flag a0; flag a1; flag a2; flag b0; flag b1; flag b2; flag unused;\n"
      "component x when (a0 and b0) or (a1 and b1) or (a2 and b2) {\n"
      "  labels { \"app\": \"x\" }\n"
      "  ingress 80 from anywhere when b2 or a2;\n"
      "}\n");
  REQUIRE(m->module);
  const ir::Module& module = *m->module;
  CHECK(FlagOrder(module) == std::vector<uint32_t>{0, 3, 1, 4, 2, 5, 6});
  ir::Config config = ir::Config::Defaults(module);
  Bdd bdd;
  Model model(module, config, bdd, Model::BindFlags(module, config, {}, bdd));
  CHECK(bdd.TopVar(model.FlagRef(3)) == 1);  // b0 right after a0
  CHECK(bdd.Compact(model.Enabled(0)) == "a0 and b0 or a1 and b1 or a2 and b2");
  CHECK(bdd.Compact(model.rule(0).when) == "a2 or b2");
}

}  // namespace
}  // namespace netpolc::analysis
