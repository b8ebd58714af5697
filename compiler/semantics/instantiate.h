// Instantiation: evaluates a module for one configuration (flag and parameter
// values) into the canonical policy IR (ir/policy.h).
#pragma once

#include <optional>

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

// Puts the rules of one direction into canonical form: for every peer the
// union of its ports, then peers with identical port sets grouped into one
// rule. Exact: the result admits precisely the (peer, port) pairs of the
// input. Exposed for tests.
std::vector<ir::PolicyRule> CanonicalRules(std::vector<ir::PolicyRule> rules);

}  // namespace netpolc
