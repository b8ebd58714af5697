// The allowed connections of a module as a graph, for `netpolc graph` and
// `netpolc diff`: components are nodes; so is every peer that is not a
// component (anywhere, external, instance, a CIDR, pods by labels).
//
// Between two components the condition of an edge is the full answer (both
// ends exist, the source's egress allows it, the destination's ingress
// admits it). An edge from or to a peer node shows one rule's side only: the
// other end is not a component, so no policy of this module restricts it.
#pragma once

#include <string>
#include <vector>

#include "compiler/analysis/model.h"

namespace netpolc::analysis {

struct GraphNode {
  std::string key;    // a component id, or "peer:" + the peer's text
  std::string label;  // a component's name, or the peer's text
  bool is_component = false;
  Ref exists = Bdd::kTrue;  // components: their condition
};

struct Connection {
  std::string from, to;  // node keys
  ir::PortRange ports;   // a range of one protocol
  Ref when = Bdd::kTrue;
  bool dns = false;  // the built-in name-resolution rule
};

struct ConnectionSet {
  std::vector<GraphNode> nodes;          // components in declaration order, then peers
  std::vector<Connection> connections;   // by (from, to) in node order, then ports
  const GraphNode* Find(const std::string& key) const;
};

// Connections are between components named on at least one side (a
// component or labelled pods), and between components and peer nodes.
// `include_dns` adds the DNS rule's edges.
ConnectionSet Connections(Model& model, bool include_dns);

// Per (from, to, protocol): splits ranges into maximal pieces and ORs the
// conditions of overlapping entries (dropping never-true ones).
std::vector<std::pair<ir::PortRange, Ref>> MergePieces(Bdd& bdd,
                                                       std::vector<std::pair<ir::PortRange, Ref>> in);

}  // namespace netpolc::analysis
