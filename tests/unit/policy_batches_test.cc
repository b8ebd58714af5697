// Instantiation a batch at a time (PolicyBatches, compiler/semantics/instantiate.h)
// and the targets' PolicyWriters: whatever the batch size and the number of
// threads, the same policies, the same output and the same diagnostics in
// the same order as one whole instantiation on one thread.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/registry.h"
#include "compiler/frontend/frontend.h"
#include "compiler/semantics/instantiate.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

// A file of `n` components whose policies have diagnostics of every kind
// instantiation reports (when `errors`), or only warnings: bad label values
// and namespaces from parameters, ports out of range or without a value,
// address blocks inside the pod network, duplicate policy names, entity
// peers, each kind at many places so that they span many batches.
std::string Rules(int n, bool errors) {
  std::string text;
  text += "param bad: string = \"-bad value-\";\n";
  text += "param port: int = 70000;\n";
  text += "param later: int;\n";
  text += "param pod_networks: cidrs = \"10.128.0.0/14\";\n";
  text += "param badns: string = \"Bad_NS\";\n";
  text += "kube_apiserver = cidr \"192.0.2.10/32\";\n";
  text += "nodes = cidr \"10.0.0.0/24\";\n";
  unsigned seed = 12345;
  auto next = [&](unsigned mod) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % mod;
  };
  for (int i = 0; i < n; ++i) {
    std::string c = "c" + std::to_string(i);
    text += "component " + c + " {\n  labels { \"app\": \"" + c + "\" }\n";
    if (errors && i % 37 == 0) text += "  policy \"shared-" + std::to_string(i % 3) + "\";\n";
    // Three different kinds of rule (so that no two rules repeat).
    unsigned first = next(9);
    for (unsigned j = 0; j < 3; ++j) {
      unsigned kind = (first + j * 3) % 9;
      std::string port = std::to_string(2000 + j);
      std::string peer = "c" + std::to_string(next(static_cast<unsigned>(n)));
      switch (kind) {
        case 0:
          text += errors ? "  ingress " + port + " from pods { \"x\": $bad };\n"
                         : "  ingress " + port + " from pods { \"x\": \"y\" };\n";
          break;
        case 1:
          text += errors ? "  ingress $port from " + peer + ";\n"
                         : "  ingress " + port + " from " + peer + " when " + "true" + ";\n";
          break;
        case 2:
          text += "  egress " + port + " to cidr \"10.130.0.0/16\";\n";
          break;
        case 3:
          text += errors ? "  ingress $later from " + peer + ";\n"
                         : "  egress " + port + " to cidr \"0.0.0.0/0\";\n";
          break;
        case 4:
          text += errors ? "  egress " + port + " to pods {} in namespace $badns;\n"
                         : "  egress " + port + " to pods {} in namespace \"other\";\n";
          break;
        case 5:
          text += "  egress " + port + " to kube_apiserver;\n";
          break;
        case 6:
          text += "  egress " + port + " to nodes;\n";
          break;
        default:
          text += "  ingress " + port + " from " + peer + ";\n";
          break;
      }
    }
    text += "}\n";
  }
  return text;
}

// The lines of the diagnostics of one kind (of all when empty), in the order
// reported.
std::vector<int> Lines(const std::string& diagnostics, const std::string& kind) {
  std::vector<int> out;
  size_t at = 0;
  while ((at = diagnostics.find("rules.netpol:", at)) != std::string::npos) {
    size_t end = diagnostics.find('\n', at);
    std::string line = diagnostics.substr(at, end - at);
    if (kind.empty() || line.find("[" + kind + "]") != std::string::npos) {
      out.push_back(std::atoi(line.c_str() + std::string("rules.netpol:").size()));
    }
    at = end;
  }
  return out;
}

struct Result {
  bool ok = false;
  std::string output;
  std::string diagnostics;
};

void SetThreads(int threads) {
  ::setenv("NETPOLC_THREADS", std::to_string(threads).c_str(), 1);
}

// `text` compiled, with the default configuration (both required).
struct Compiled {
  explicit Compiled(const std::string& text) {
    module = CompileModule(compilation, "rules.netpol", text);
    REQUIRE(module);
    std::string err;
    config = MakeConfig(*module, std::vector<std::string>{}, compilation.sources, err);
    REQUIRE(config);
  }
  // The backends' input for `policies`.
  backends::Input Input(const ir::PolicySet& policies) const {
    backends::Input input{*module, *config};
    input.policies = &policies;
    input.source_name = "rules.netpol";
    input.sources = &compilation.sources;
    input.rules_file = 0;
    return input;
  }

  Compilation compilation;
  std::optional<ir::Module> module;
  std::optional<ir::Config> config;
};

// Instantiates and renders for `target` with batches of `batch` policies.
Result Build(const std::string& text, const std::string& target, size_t batch) {
  Result result;
  Compiled compiled(text);
  Compilation& compilation = compiled.compilation;
  const backends::Backend* backend = backends::FindBackend(target);
  REQUIRE(backend != nullptr);
  PolicyBatches batches(*compiled.module, *compiled.config, compilation.diagnostics);
  backends::Input input = compiled.Input(batches.shared());
  std::unique_ptr<backends::PolicyWriter> writer =
      backend->StartPolicies(input, batches.size(), result.output);
  REQUIRE(writer);
  for (size_t first = 0; first < batches.size(); first += batch) {
    std::vector<ir::Policy> policies = batches.Make(first, batch);
    writer->Write(policies, result.output);
  }
  result.ok = batches.Finish() && writer->Finish(result.output, compilation.diagnostics);
  result.diagnostics = RenderAll(compilation.diagnostics, compilation.sources);
  return result;
}

// Instantiate and Render, the whole set at once.
Result Whole(const std::string& text, const std::string& target) {
  Result result;
  Compiled compiled(text);
  Compilation& compilation = compiled.compilation;
  std::optional<ir::PolicySet> policies =
      Instantiate(*compiled.module, *compiled.config, compilation.diagnostics);
  if (policies) {
    result.ok = backends::FindBackend(target)->Render(compiled.Input(*policies), result.output,
                                                      compilation.diagnostics);
  }
  result.diagnostics = RenderAll(compilation.diagnostics, compilation.sources);
  return result;
}

// The diagnostics of making every policy in `mode`, a batch at a time, and
// whether Finish accepted them.
std::pair<bool, std::string> Diagnose(const std::string& text, PolicyBatches::Mode mode) {
  Compiled compiled(text);
  Compilation& compilation = compiled.compilation;
  PolicyBatches batches(*compiled.module, *compiled.config, compilation.diagnostics, mode);
  for (size_t first = 0; first < batches.size(); first += 64) batches.Make(first, 64);
  bool ok = batches.Finish();
  return {ok, RenderAll(compilation.diagnostics, compilation.sources)};
}

TEST_CASE("the modes for diagnostics only report what the full modes report") {
  using Mode = PolicyBatches::Mode;
  SetThreads(2);
  for (bool errors : {false, true}) {
    const std::string text = Rules(300, errors);
    INFO("errors " << errors);
    CHECK(Diagnose(text, Mode::kDeployChecks) == Diagnose(text, Mode::kDeploy));
    CHECK(Diagnose(text, Mode::kDocumentationChecks) == Diagnose(text, Mode::kDocumentation));
  }
}

TEST_CASE("instantiation errors: the same diagnostics in the same order for any batch") {
  const std::string text = Rules(700, true);
  SetThreads(1);
  Result whole = Whole(text, "k8s");
  CHECK(!whole.ok);
  // Every kind is there, each more than once, up to the limit of 50 errors.
  for (const char* kind : {"[invalid-label-value]", "[invalid-namespace]", "[port-out-of-range]",
                           "[param-not-set]", "[address-block-in-pod-network]"}) {
    INFO(kind);
    CHECK(whole.diagnostics.find(kind) != whole.diagnostics.rfind(kind));
  }
  CHECK(whole.diagnostics.find("[too-many-errors]") != std::string::npos);
  // In the order of the components in the file (as one policy after the
  // other was made), not in the order of the policies (by name).
  std::vector<int> lines;
  for (const char* kind : {"invalid-label-value", "invalid-namespace", "port-out-of-range",
                           "param-not-set", "address-block-in-pod-network"}) {
    for (int line : Lines(whole.diagnostics, kind)) lines.push_back(line);
  }
  CHECK(lines.size() >= 49);
  std::vector<int> all = Lines(whole.diagnostics, "");
  CHECK(all.size() == lines.size());
  CHECK(std::is_sorted(all.begin(), all.end()));
  for (int threads : {1, 2, 8}) {
    SetThreads(threads);
    for (size_t batch : {size_t{1}, size_t{7}, size_t{256}, size_t{100000}}) {
      INFO("threads " << threads << ", batches of " << batch);
      Result batched = Build(text, "k8s", batch);
      CHECK(!batched.ok);
      CHECK(batched.diagnostics == whole.diagnostics);
    }
  }
}

TEST_CASE("duplicate policy names: reported after the policies' diagnostics, in order") {
  // Fewer components: fewer than 50 errors, so the duplicates are reached.
  std::string text = Rules(200, false);
  for (int i = 0; i < 200; i += 37) {
    std::string c = "component c" + std::to_string(i) + " {\n";
    text.replace(text.find(c), c.size(), c + "  policy \"shared-" + std::to_string(i % 2) + "\";\n");
  }
  SetThreads(1);
  Result whole = Whole(text, "ir");
  CHECK(!whole.ok);
  CHECK(whole.diagnostics.find("[duplicate-policy-name]") != std::string::npos);
  CHECK(whole.diagnostics.find("[address-block-in-pod-network]") <
        whole.diagnostics.find("[duplicate-policy-name]"));
  for (int threads : {1, 2, 8}) {
    SetThreads(threads);
    for (size_t batch : {size_t{1}, size_t{13}, size_t{100000}}) {
      INFO("threads " << threads << ", batches of " << batch);
      CHECK(Build(text, "ir", batch).diagnostics == whole.diagnostics);
    }
  }
}

TEST_CASE("every policy target: the same output and warnings for any batch") {
  const std::string text = Rules(600, false);
  for (const char* target : {"k8s", "cilium", "calico", "ir"}) {
    SetThreads(1);
    Result whole = Whole(text, target);
    INFO(target << "\n" << whole.diagnostics.substr(0, 2000));
    CHECK(whole.ok);
    CHECK(whole.output.size() > 100000);
    CHECK(whole.diagnostics.find("[address-block-in-pod-network]") != std::string::npos);
    for (int threads : {1, 2, 8}) {
      SetThreads(threads);
      for (size_t batch : {size_t{1}, size_t{7}, size_t{256}, size_t{100000}}) {
        INFO("threads " << threads << ", batches of " << batch);
        Result batched = Build(text, target, batch);
        CHECK(batched.ok);
        CHECK(batched.output == whole.output);
        CHECK(batched.diagnostics == whole.diagnostics);
      }
    }
  }
}

TEST_CASE("a rule the target cannot express: reported once, in source order, for any batch") {
  // Without `kube_apiserver = ...;` the k8s and calico targets refuse the
  // rules that name the API server.
  std::string text = Rules(300, false);
  const std::string declaration = "kube_apiserver = cidr \"192.0.2.10/32\";\n";
  text.erase(text.find(declaration), declaration.size());
  for (const char* target : {"k8s", "calico"}) {
    SetThreads(1);
    Result whole = Whole(text, target);
    INFO(target);
    CHECK(!whole.ok);
    CHECK(whole.diagnostics.find("[target-cannot-express]") !=
          whole.diagnostics.rfind("[target-cannot-express]"));
    for (int threads : {1, 2}) {
      SetThreads(threads);
      for (size_t batch : {size_t{1}, size_t{50}, size_t{100000}}) {
        INFO("threads " << threads << ", batches of " << batch);
        Result batched = Build(text, target, batch);
        CHECK(!batched.ok);
        CHECK(batched.diagnostics == whole.diagnostics);
      }
    }
  }
}

TEST_CASE("the DNS rule's diagnostics: once, where the first policy with the rule is made") {
  // Every policy's DNS rule is the same: its diagnostics come once, among
  // those of the first component whose policy has it (not `first`: it
  // isolates ingress only, but c0).
  std::string text = "param bad: string = \"-bad value-\";\n";
  text += "param pod_networks: cidrs = \"10.128.0.0/14\";\n";
  text += "dns udp 53 to pods { \"k\": $bad } in namespace \"kube-system\"";
  for (int k = 0; k < 30; ++k) text += ", cidr \"10.129." + std::to_string(k) + ".0/24\"";
  text += ";\n";
  text += "component first { labels { \"app\": \"first\" } "
          "ingress 80 from cidr \"10.129.200.0/24\"; }\n";
  for (int i = 0; i < 400; ++i) {
    std::string c = "c" + std::to_string(i);
    // Blocks outside the pod network, but for c1's.
    std::string block = i == 1 ? "10.129.201.0/24" : "192.168." + std::to_string(i % 200) + ".0/24";
    text += "component " + c + " { labels { \"app\": \"" + c + "\" } egress 80 to c" +
            std::to_string((i * 7) % 400) + "; ingress 81 from cidr \"" + block + "\"; }\n";
  }
  SetThreads(1);
  Result whole = Whole(text, "ir");
  CHECK(!whole.ok);
  // `first` (line 4), the DNS rule (line 3) at c0, then c1 (line 6).
  std::vector<int> expected = {4};
  for (int k = 0; k < 31; ++k) expected.push_back(3);
  expected.push_back(6);
  CHECK(Lines(whole.diagnostics, "") == expected);
  CHECK(Lines(whole.diagnostics, "invalid-label-value") == std::vector<int>{3});
  for (int threads : {1, 2, 8}) {
    SetThreads(threads);
    for (size_t batch : {size_t{1}, size_t{9}, size_t{100000}}) {
      INFO("threads " << threads << ", batches of " << batch);
      CHECK(Build(text, "ir", batch).diagnostics == whole.diagnostics);
    }
  }
}

}  // namespace
}  // namespace netpolc
