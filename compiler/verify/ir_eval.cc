#include "compiler/verify/ir_eval.h"

#include <fmt/core.h>

#include <algorithm>

namespace netpolc::verify {
namespace {

bool HasLabels(const Labels& have, const std::vector<ir::Label>& want) {
  for (const ir::Label& label : want) {
    auto it = have.find(label.key);
    if (it == have.end() || it->second != label.value) return false;
  }
  return true;
}

std::string BlockKey(const ir::Peer& peer) {
  std::string key = peer.cidr + "|";
  for (const std::string& e : peer.except) key += e + ",";
  return key;
}

Cidr ParseOrThrow(const std::string& text) {
  std::optional<Cidr> cidr = Cidr::Parse(text);
  if (!cidr) throw Error(fmt::format("invalid CIDR '{}' in the policy IR", text));
  return *cidr;
}

}  // namespace

Protocol ToProtocol(ir::Protocol protocol) {
  switch (protocol) {
    case ir::Protocol::kTcp:
      return Protocol::kTCP;
    case ir::Protocol::kUdp:
      return Protocol::kUDP;
    case ir::Protocol::kSctp:
      return Protocol::kSCTP;
  }
  return Protocol::kTCP;
}

IrEvaluator::IrEvaluator(const Universe& universe, const ir::PolicySet& policies,
                         BlockReading reading)
    : universe_(universe), policies_(policies), reading_(reading) {
  for (const std::string& network : policies.pod_networks) {
    pod_networks_.push_back(ParseOrThrow(network));
  }
  for (auto& v : isolating_) v.resize(universe.size());
  for (size_t p = 0; p < policies.policies.size(); ++p) {
    const ir::Policy& policy = policies.policies[p];
    for (const auto* side : {&policy.ingress, &policy.egress}) {
      for (const ir::PolicyRule& rule : *side) {
        for (const ir::Peer& peer : rule.peers) {
          if (peer.kind != ir::Peer::Kind::kIpBlock) continue;
          std::string key = BlockKey(peer);
          if (blocks_.count(key) != 0) continue;
          Block block{ParseOrThrow(peer.cidr), {}};
          for (const std::string& e : peer.except) block.except.push_back(ParseOrThrow(e));
          blocks_.emplace(key, std::move(block));
        }
      }
    }
    for (size_t e = 0; e < universe.size(); ++e) {
      const Endpoint& ep = universe.endpoint(e);
      if (ep.kind != Endpoint::Kind::kPod || ep.namespace_name != policy.ns ||
          !HasLabels(ep.labels, policy.selector)) {
        continue;
      }
      if (policy.isolate_ingress) isolating_[0][e].push_back(p);
      if (policy.isolate_egress) isolating_[1][e].push_back(p);
    }
  }
}

bool IrEvaluator::PeerMatches(const ir::Peer& peer, size_t endpoint) const {
  const Endpoint& ep = universe_.endpoint(endpoint);
  switch (peer.kind) {
    case ir::Peer::Kind::kAnywhere:
      return true;
    case ir::Peer::Kind::kIpBlock: {
      const std::optional<IpAddress>& ip = universe_.ip(endpoint);
      if (!ip) return false;
      // Nodes are in the cluster: no block matches them, in either reading
      // (the k8s and calico targets cut the declared node blocks out).
      if (ep.role == Endpoint::Role::kNode) return false;
      if (reading_ == BlockReading::kOutsideCluster) {
        if (ep.kind == Endpoint::Kind::kPod) return false;
        if (std::any_of(pod_networks_.begin(), pod_networks_.end(),
                        [&](const Cidr& c) { return c.Contains(*ip); })) {
          return false;
        }
      }
      const Block& block = blocks_.at(BlockKey(peer));
      if (!block.cidr.Contains(*ip)) return false;
      return std::none_of(block.except.begin(), block.except.end(),
                          [&](const Cidr& c) { return c.Contains(*ip); });
    }
    case ir::Peer::Kind::kPods:
      if (ep.kind != Endpoint::Kind::kPod || !HasLabels(ep.labels, peer.pod_labels) ||
          !ir::SatisfiesAll(ep.labels, peer.pod_exprs)) {
        return false;
      }
      switch (peer.ns_match) {
        case ir::NamespaceMatch::kNamed:
          return ep.namespace_name == peer.ns;
        case ir::NamespaceMatch::kAny:
          return true;
        case ir::NamespaceMatch::kLabels:
          return HasLabels(universe_.namespace_labels(endpoint), peer.ns_labels) &&
                 ir::SatisfiesAll(universe_.namespace_labels(endpoint), peer.ns_exprs);
      }
      return false;
    case ir::Peer::Kind::kKubeApiserver:
      return ep.role == Endpoint::Role::kApiServer;
    case ir::Peer::Kind::kNodes:
      return ep.role == Endpoint::Role::kNode;
  }
  return false;
}

PortSet IrEvaluator::Allowed(Side side, size_t subject, size_t peer) const {
  const std::vector<size_t>& isolating = isolating_[side == Side::kIngress ? 0 : 1][subject];
  if (isolating.empty()) return PortSet::All();
  PortSet out;
  for (size_t p : isolating) {
    const ir::Policy& policy = policies_.policies[p];
    for (const ir::PolicyRule& rule : side == Side::kIngress ? policy.ingress : policy.egress) {
      if (!std::any_of(rule.peers.begin(), rule.peers.end(),
                       [&](const ir::Peer& x) { return PeerMatches(x, peer); })) {
        continue;
      }
      for (const ir::PortRange& r : rule.ports) out.Add(ToProtocol(r.protocol), r.first, r.last);
      // A named port is the container port of that name and protocol of the
      // pod that receives the connection.
      const Endpoint& destination = universe_.endpoint(side == Side::kIngress ? subject : peer);
      if (destination.kind != Endpoint::Kind::kPod) continue;
      for (const ir::NamedPort& named : rule.named_ports) {
        for (const ContainerPort& cp : destination.ports) {
          if (cp.name == named.name && cp.protocol == ToProtocol(named.protocol)) {
            out.Add(cp.protocol, cp.port, cp.port);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace netpolc::verify
