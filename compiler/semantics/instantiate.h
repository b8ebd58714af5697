// Instantiation: evaluates a module for one configuration (flag and parameter
// values) into the canonical policy IR (ir/policy.h).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"
#include "compiler/ir/policy.h"

namespace netpolc {

// Returns nullopt when a value from the configuration is invalid where it is
// used (a label value, a namespace, a policy name); errors are reported.
std::optional<ir::PolicySet> Instantiate(const ir::Module& module,
                                         const ir::Config& config,
                                         Diagnostics& diagnostics);

// The same for documentation: a deploy-time parameter without a value (an
// int parameter declared without a default and not set) leaves out the ports
// that use it instead of being an error, since a page documents the rule
// without its number (`port_doc`). Every other value is checked as above.
std::optional<ir::PolicySet> InstantiateForDocumentation(const ir::Module& module,
                                                         const ir::Config& config,
                                                         Diagnostics& diagnostics);

class Instantiator;

// Instantiation a batch of policies at a time, so that the policies of a
// large file never exist all at once: what Instantiate returns, in pieces.
// Construction works out which components have policies, their names and
// namespaces and their order (cheap); Make instantiates policies by their
// index in that order, on the thread pool (compiler/parallel.h); Finish
// reports the diagnostics exactly as Instantiate does (same messages, same
// order, whatever the batches and threads).
class PolicyBatches {
 public:
  enum class Mode : uint8_t {
    kDeploy,         // as Instantiate
    kDocumentation,  // as InstantiateForDocumentation
    // As kDeploy and kDocumentation, for a command that makes the policies
    // only for their diagnostics and drops them: the rules are left as made,
    // not put in canonical form (which reports nothing).
    kDeployChecks,
    kDocumentationChecks,
  };
  PolicyBatches(const ir::Module& module, const ir::Config& config, Diagnostics& diagnostics,
                Mode mode = Mode::kDeploy);
  ~PolicyBatches();
  PolicyBatches(const PolicyBatches&) = delete;
  PolicyBatches& operator=(const PolicyBatches&) = delete;

  // Everything of the PolicySet but its policies (pod networks, the peers
  // declared for the API server and the nodes).
  const ir::PolicySet& shared() const;
  // The number of policies.
  size_t size() const;
  // How many policies to make at a time: a batch for every thread, few
  // enough that their memory stays small.
  static size_t BatchSize();
  // The policies [first, first + count) of PolicySet::policies (fewer at the
  // end). Each index is to be made once; every index before Finish.
  std::vector<ir::Policy> Make(size_t first, size_t count);
  // The components whose policies Make(first, count) makes, in that order.
  std::vector<uint32_t> Components(size_t first, size_t count) const;
  // Reports the diagnostics of the instantiation; false when it has errors
  // (then the policies are not to be used, as Instantiate returns none).
  bool Finish();

 private:
  std::unique_ptr<Instantiator> impl_;
};

// Puts the rules of one direction into canonical form: for every peer the
// union of its ports, then peers with identical port sets grouped into one
// rule. Exact: the result admits precisely the (peer, port) pairs of the
// input. Exposed for tests.
std::vector<ir::PolicyRule> CanonicalRules(std::vector<ir::PolicyRule> rules);

}  // namespace netpolc
