// Generated rule sets (tests/equivalence/generator.h): for each, the k8s and
// calico outputs, and the cilium output when the cilium target accepts the
// rules, admit exactly what the policy IR admits over a universe built from
// the rules, address blocks meaning addresses outside the cluster's pod
// networks (whose pods the universe places in them). When the rules declare
// no pod networks, the k8s and calico outputs carry the blocks alone: they
// must then admit exactly the IR read with blocks matching every address,
// pods included, and say so in one warning. When the cilium target refuses,
// every diagnostic must be a target-cannot-express error at a rule (or
// component) that writes labels Cilium ignores: address blocks are always
// exact on Cilium.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "compiler/cli/driver.h"
#include "tests/equivalence/generator.h"
#include "tests/equivalence/harness.h"
#include "third_party/catch2_main.h"

namespace netpolc::equivalence {
namespace {

constexpr size_t kCases = 1000;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

bool WritesIgnoredLabels(const ir::PolicySet& policies) {
  for (const ir::Policy& policy : policies.policies) {
    for (const ir::PolicyRule& rule : policy.egress) {
      if (!rule.named_ports.empty()) return true;  // named ports in egress rules
    }
    for (const auto& label : policy.selector) {
      if (label.key == "pod-template-hash") return true;
    }
    for (const auto* side : {&policy.ingress, &policy.egress}) {
      for (const ir::PolicyRule& rule : *side) {
        for (const ir::Peer& peer : rule.peers) {
          for (const auto& label : peer.pod_labels) {
            if (label.key == "pod-template-hash") return true;
          }
        }
      }
    }
  }
  return false;
}

bool WritesAddressBlocks(const ir::PolicySet& policies) {
  for (const ir::Policy& policy : policies.policies) {
    for (const auto* side : {&policy.ingress, &policy.egress}) {
      for (const ir::PolicyRule& rule : *side) {
        for (const ir::Peer& peer : rule.peers) {
          if (peer.kind == ir::Peer::Kind::kIpBlock) return true;
        }
      }
    }
  }
  return false;
}

// The source line a diagnostic points at.
std::string SourceLineAt(const Program& program, const Diagnostic& d) {
  if (!d.loc.valid()) return {};
  return std::string(program.sources.file(d.loc.file).Line(d.loc.line));
}

TEST_CASE("random rule sets: every target equals the IR") {
  size_t checked = 0, cilium_accepted = 0, cilium_refused = 0, with_entities = 0;
  size_t blocks_with_networks = 0, blocks_alone = 0, excepts_written = 0;
  for (size_t index = 0; index < kCases; ++index) {
    if (!InThisShard(index)) continue;
    // Regenerate (other seeds) the rare case the compiler rejects as
    // repeating a rule in canonical form.
    GeneratedCase c;
    std::unique_ptr<Program> program;
    std::string errors, path;
    for (uint64_t attempt = 0; attempt < 20 && program == nullptr; ++attempt) {
      uint64_t seed = index + attempt * 1000003;
      c = Generate(seed);
      path = fmt::format("{}/random_{}.netpol", TempDir(), seed);
      std::ofstream(path) << c.text;
      program = Load(path, c.text, errors);
      if (program == nullptr && errors.find("[duplicate-rule]") == std::string::npos) break;
    }
    INFO("case " << path << ":\n" << c.text);
    INFO(errors);
    REQUIRE(program != nullptr);

    ir::Config config = MakeConfig(program->module, c.flags);
    std::string flags;
    for (const auto& [name, value] : c.flags) flags += fmt::format(" --set {}={}", name, value ? "true" : "false");
    if (!c.clients.empty()) {
      flags += " --set 'clients=" + c.clients + "'";
      REQUIRE(SetPeers(*program, config, "clients", c.clients, errors));
    }
    if (!c.pod_networks.empty()) {
      flags += " --set 'pod_networks=" + c.pod_networks + "'";
      REQUIRE(SetCidrs(*program, config, "pod_networks", c.pod_networks, errors));
    }
    INFO("built with" << flags);
    std::optional<ir::PolicySet> policies = Instantiate(*program, config, errors);
    REQUIRE(policies.has_value());
    CHECK(policies->pod_networks.empty() == !c.declares_pod_networks);
    const verify::Universe universe = BuildUniverse(program->module, config);
    bool names_entities = false;
    for (const ir::Policy& policy : policies->policies) {
      for (const auto* side : {&policy.ingress, &policy.egress}) {
        for (const ir::PolicyRule& rule : *side) {
          for (const ir::Peer& peer : rule.peers) {
            names_entities = names_entities || peer.kind == ir::Peer::Kind::kKubeApiserver ||
                             peer.kind == ir::Peer::Kind::kNodes;
          }
        }
      }
    }
    if (names_entities) ++with_entities;
    const bool blocks = WritesAddressBlocks(*policies);
    // Without pod networks, the k8s and calico outputs carry the blocks alone.
    const bool alone = blocks && policies->pod_networks.empty();
    if (blocks) ++(alone ? blocks_alone : blocks_with_networks);

    for (std::string_view target : kTargets) {
      Rendered out = Render(*program, config, *policies, target, path);
      INFO("target " << target << "\n" << out.diagnostics << out.output);
      if (target == "cilium" && !out.ok) {
        ++cilium_refused;
        CHECK(WritesIgnoredLabels(*policies));
        REQUIRE(!out.list.empty());
        for (const Diagnostic& d : out.list) {
          INFO(d.message);
          CHECK(d.kind == DiagnosticKind::kTargetCannotExpress);
          CHECK(d.loc.valid());
          std::string line = SourceLineAt(*program, d);
          if (d.message.find("named port") != std::string::npos) {
            // The rule (or DNS declaration) writes a container port's name.
            bool names_port = line.find("https") != std::string::npos ||
                              line.find("metrics") != std::string::npos ||
                              line.find("dns-udp") != std::string::npos;
            CHECK(names_port);
          } else {
            CHECK(d.message.find("pod-template-hash") != std::string::npos);
          }
        }
        continue;
      }
      REQUIRE(out.ok);
      if (target == "cilium") ++cilium_accepted;
      // The warning for blocks written alone: once, from k8s and calico only.
      size_t warnings = std::count_if(out.list.begin(), out.list.end(), [](const Diagnostic& d) {
        return d.kind == DiagnosticKind::kAddressBlockAdmitsPods;
      });
      CHECK(warnings == (alone && target != "cilium" ? 1u : 0u));
      if (target == "k8s" && out.output.find("except:") != std::string::npos) ++excepts_written;
      auto reading = alone && target != "cilium" ? verify::IrEvaluator::BlockReading::kAddresses
                                                 : verify::IrEvaluator::BlockReading::kOutsideCluster;
      std::vector<std::string> diffs = Differences(universe, *policies, target, out.output, 10, reading);
      std::string report;
      for (const std::string& d : diffs) report += d + "\n";
      INFO(report);
      CHECK(diffs.empty());
    }

    // The driver (command line path) gives the same output as the libraries.
    if (index % 10 == 0) {
      std::vector<std::string> args = {"build", path, "--target", "calico"};
      for (const auto& [name, value] : c.flags) {
        args.push_back("--set");
        args.push_back(fmt::format("{}={}", name, value ? "true" : "false"));
      }
      if (!c.clients.empty()) {
        args.push_back("--set");
        args.push_back("clients=" + c.clients);
      }
      if (!c.pod_networks.empty()) {
        args.push_back("--set");
        args.push_back("pod_networks=" + c.pod_networks);
      }
      std::string out, err;
      CHECK(RunDriver(args, out, err) == 0);
      CHECK(out == Render(*program, config, *policies, "calico", path).output);
    }
    ++checked;
  }
  WARN(checked << " rule sets; cilium accepted " << cilium_accepted << ", refused " << cilium_refused
                << "; " << with_entities << " name the API server or the nodes"
                << "; address blocks with pod networks in " << blocks_with_networks
                << ", without in " << blocks_alone << "; k8s excepts written in " << excepts_written);
  CHECK(with_entities * 20 >= checked);
  // Both outcomes of the cilium target are exercised, and both readings of
  // address blocks.
  CHECK(cilium_accepted * 5 >= checked);
  CHECK(cilium_refused * 20 >= checked);
  CHECK(blocks_with_networks * 3 >= checked);
  CHECK(blocks_alone * 20 >= checked);
  CHECK(excepts_written * 5 >= checked);
}

}  // namespace
}  // namespace netpolc::equivalence
