// Lowering: AST -> module (ir/module.h). Resolves names (components, flags,
// parameters), checks what the grammar cannot (ports, labels, CIDRs,
// duplicates...) and reports every problem found, not just the first.
#pragma once

#include <optional>
#include <vector>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"

namespace netpolc {

// Returns nullopt when errors were reported.
std::optional<ir::Module> Lower(const ast::File& file, Diagnostics& diagnostics);

// Lowers a peer list given for a peers parameter on the command line,
// resolving names against `module`.
std::optional<std::vector<ir::PeerRef>> LowerPeerList(
    const std::vector<ast::Peer>& peers, const ir::Module& module,
    Diagnostics& diagnostics);

}  // namespace netpolc
