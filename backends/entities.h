// The API server and node peers (ir::Peer::kKubeApiserver, kNodes) on
// targets that have no identity for them (Kubernetes NetworkPolicy, Calico):
// they are written as the peers the rules file declares for them
// (`kube_apiserver = PEERS;`, `nodes = PEERS;`), or refused.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc::backends {

// Writes policies with every API-server or node peer replaced by the
// declared peers, and the address blocks of the nodes' declaration
// subtracted from every other address block (an address block means
// addresses outside the cluster, and the nodes are in it: as Cilium's CIDR
// rules read it). Each rule keeps its ports, so the replacement is exact when
// the declared peers select exactly the API server or the nodes. A policy at
// a time, in the order of the policies.
class EntityExpander {
 public:
  // input.policies: the set (its policies need not be there: only the
  // declared peers are read).
  EntityExpander(const Input& input, std::string_view target);

  // The policy as the target writes it: `policy` itself when it names no
  // API-server or node peer and the nodes are not declared by address
  // blocks, else its expansion, held in `storage`. A rule that needs a
  // declaration the file does not make is noted for Finish.
  const ir::Policy& Expand(const ir::Policy& policy, std::optional<ir::Policy>& storage);

  // Reports [target-cannot-express] at every rule noted, in source order,
  // saying what to write; false when there was one.
  bool Finish(Diagnostics& diagnostics);

 private:
  const Input& input_;
  std::string_view target_;
  std::vector<std::string> node_blocks_;
  std::set<SourceLoc> reported_;
  std::vector<std::pair<SourceLoc, std::string>> pending_;
};

// The policy writer of a target that writes one YAML document per policy
// with the API server and nodes expanded (k8s, Calico): each batch's
// policies expanded by an EntityExpander and rendered by `write_document` on
// the thread pool (AppendDocuments), in order; when the rules file declares
// no pod networks, the rules writing address blocks are collected and
// warned about by Finish (`address-block-admits-pods`, the message starting
// with `why`).
class ExpandedDocumentWriter : public PolicyWriter {
 public:
  using WriteDocumentFn = void (*)(const ir::Policy& policy,
                                   const std::vector<std::string>& pod_networks,
                                   std::string& text);
  // count: the number of policies of the whole output (room is reserved for
  // them with the first batch).
  ExpandedDocumentWriter(const Input& input, size_t count, std::string_view target,
                         std::string_view why, WriteDocumentFn write_document);

  void Write(std::span<const ir::Policy> policies, std::string& out) override;
  bool Finish(std::string& out, Diagnostics& diagnostics) override;

 private:
  const Input& input_;
  EntityExpander entities_;
  std::string_view target_;
  std::string_view why_;
  WriteDocumentFn write_document_;
  size_t count_;
  size_t written_ = 0;
  AddressBlockRuleFinder block_rules_;
};

}  // namespace netpolc::backends
