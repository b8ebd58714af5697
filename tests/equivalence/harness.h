// Test harness for the equivalence tests: compiles rules text with the
// compiler libraries, builds a universe of endpoints from a module, and
// compares what each target's output admits (read back by the target's
// evaluator) with what the policy IR admits, side by side.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"
#include "compiler/ir/policy.h"
#include "compiler/source.h"
#include "compiler/verify/ir_eval.h"
#include "compiler/verify/model.h"

namespace netpolc::equivalence {

// The targets whose output is proven equivalent to the IR.
inline constexpr std::string_view kTargets[] = {"k8s", "cilium", "calico"};

// A parsed and lowered rules file.
struct Program {
  SourceManager sources;
  ir::Module module;
};

// Parses and lowers `text` (named `path` in diagnostics). On errors returns
// nullptr and sets `errors` to the rendered diagnostics.
std::unique_ptr<Program> Load(std::string path, std::string text, std::string& errors);

// Reads, parses and lowers the rules file at `path` with its imports, as
// the command line does. On errors returns nullptr and sets `errors`.
std::unique_ptr<Program> LoadFile(const std::string& path, std::string& errors);

// Applies NAME=VALUE flag settings ("true"/"false") to the defaults.
ir::Config MakeConfig(const ir::Module& module, const std::vector<std::pair<std::string, bool>>& flags);

// Sets the cidrs parameter `name` to the comma-separated CIDRs `text` (as
// --set does). Returns false with `errors` set when the text is invalid.
bool SetCidrs(Program& program, ir::Config& config, const std::string& name, const std::string& text,
              std::string& errors);

// Sets the peers parameter `name` to the peer list `text` (as --set does).
// Returns false with `errors` set when the text is invalid.
bool SetPeers(Program& program, ir::Config& config, const std::string& name, const std::string& text,
              std::string& errors);

struct Rendered {
  bool ok = false;
  std::string output;       // the manifests
  std::string diagnostics;  // rendered, "file:line:col: error: ... [kind]"
  std::vector<Diagnostic> list;
};

// Instantiates `config` (returns nullopt with `errors` set on failure).
std::optional<ir::PolicySet> Instantiate(const Program& program, const ir::Config& config,
                                         std::string& errors);

// Renders `policies` with the target named `target`.
Rendered Render(const Program& program, const ir::Config& config, const ir::PolicySet& policies,
                std::string_view target, std::string_view source_name);

// A universe for `module` under `config`: every component as deployed by
// two instances (the instance's labels, and the same labels with other
// values), impostors in another namespace, pods matching every pod peer of
// every rule, parameter and the DNS rule in their namespaces and elsewhere,
// the operator's namespace, kube-system with kube-dns and another pod,
// pods without labels, and external addresses: fixed ones and one inside
// every CIDR and every except block of the rules; and the API server and
// nodes (endpoints of those roles) inside the address blocks the file
// declares for them (`kube_apiserver = ...;`, `nodes = ...;`). Pods get
// addresses of the configuration's pod networks (the `pod_networks`
// parameter), IPv4 and IPv6 when both families are given; without pod
// networks, of 10.244.0.0/16 and fd00:10:244::/48. All addresses are
// distinct, and no external address lies in a pod network (an address there
// is a pod's).
verify::Universe BuildUniverse(const ir::Module& module, const ir::Config& config);

// An evaluator of `target`'s output (throws verify::Error when unreadable).
std::unique_ptr<verify::Evaluator> TargetEvaluator(std::string_view target,
                                                   const verify::Universe& universe,
                                                   const std::string& yaml);

// Compares every target output with the IR over `universe`: one line per
// difference (at most `max_lines` per target), empty when all agree.
// `reading` is the IR's reading of address blocks (see ir_eval.h).
std::vector<std::string> Differences(
    const verify::Universe& universe, const ir::PolicySet& policies, std::string_view target,
    const std::string& yaml, size_t max_lines = 10,
    verify::IrEvaluator::BlockReading reading = verify::IrEvaluator::BlockReading::kOutsideCluster);

// Bazel test sharding: whether item `index` belongs to this shard. Also
// acknowledges sharding support to Bazel.
bool InThisShard(size_t index);

}  // namespace netpolc::equivalence
