// Lowering: AST -> module (ir/module.h). Resolves names (components, flags,
// parameters), checks what the grammar cannot (ports, labels, CIDRs,
// duplicates...) and reports every problem found, not just the first.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compiler/frontend/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/ir/module.h"

namespace netpolc {

// Returns nullopt when errors were reported.
std::optional<ir::Module> Lower(const ast::File& file, Diagnostics& diagnostics);

class Lowerer;

// Lowering a file whose declarations come in pieces (compile_pieces.h), so
// that only the pieces in flight have an AST: first every declaration but the
// components, with the names of the components in file order; then the
// components' bodies, on several threads, each placed by its index. When
// nothing is reported, the module is the one Lower gives for the whole file.
class PieceLowerer {
 public:
  explicit PieceLowerer(Diagnostics& diagnostics);
  ~PieceLowerer();
  PieceLowerer(const PieceLowerer&) = delete;
  PieceLowerer& operator=(const PieceLowerer&) = delete;

  // A component declared again: its name, where, and where it was first.
  struct DuplicateComponent {
    std::string name;
    SourceLoc loc, previous;
  };
  // False when two components have one name (Lower reports that). With
  // `duplicates` (the names being unique), those are reported where Lower
  // reports them.
  bool LowerHeader(const ast::File& header, const std::vector<std::string>& component_names,
                   const std::vector<DuplicateComponent>* duplicates = nullptr);
  // Lowers the body of the index-th component into `out`, to be placed
  // with SetComponent; may run on several threads at once (after
  // LowerHeader, while `component_names` lives). False when `component` is
  // not the index-th component named, or when lowering reports anything;
  // what it reports is appended to `report` when given, else dropped.
  bool LowerComponentAside(size_t index, const ast::Component& component, ir::Component& out,
                           Diagnostics* report = nullptr);
  void SetComponent(size_t index, ir::Component&& component);
  ir::Module TakeModule();
  // The module being made, for a caller that keeps lowering components into
  // it (LowerComponentAside) after every one was set once.
  ir::Module& module();

 private:
  struct Worker;
  std::unique_ptr<Lowerer> lowerer_;
  const std::vector<std::string>* names_ = nullptr;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Worker>> idle_;
};

// Lowers a peer list given for a peers parameter on the command line,
// resolving names against `module`.
std::optional<std::vector<ir::PeerRef>> LowerPeerList(
    const std::vector<ast::Peer>& peers, const ir::Module& module,
    Diagnostics& diagnostics);

}  // namespace netpolc
