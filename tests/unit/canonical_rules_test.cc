// CanonicalRules must admit exactly the (peer, protocol, port) triples of its
// input: merging must never widen (peers of one rule x ports of another) nor
// narrow access. Checked on random rule sets against a brute-force relation.
#include <random>
#include <set>
#include <tuple>

#include "compiler/semantics/instantiate.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

using Triple = std::tuple<ir::Peer, ir::Protocol, int>;

std::set<Triple> Relation(const std::vector<ir::PolicyRule>& rules, int max_port) {
  std::set<Triple> out;
  for (const ir::PolicyRule& rule : rules) {
    for (const ir::Peer& peer : rule.peers) {
      for (const ir::PortRange& range : rule.ports) {
        for (int p = range.first; p <= range.last && p <= max_port; ++p) {
          out.insert({peer, range.protocol, p});
        }
      }
    }
  }
  return out;
}

ir::Peer PodPeer(int i) {
  ir::Peer peer;
  peer.kind = ir::Peer::Kind::kPods;
  peer.ns = "ns";
  peer.pod_labels = {{"app", "p" + std::to_string(i)}};
  return peer;
}

TEST_CASE("canonical rules are exact on random inputs") {
  std::mt19937 random(12345);
  constexpr int kMaxPort = 40;
  for (int round = 0; round < 500; ++round) {
    std::vector<ir::PolicyRule> rules(1 + random() % 8);
    for (ir::PolicyRule& rule : rules) {
      size_t peers = 1 + random() % 4;
      for (size_t i = 0; i < peers; ++i) rule.peers.push_back(PodPeer(random() % 6));
      if (random() % 10 == 0) rule.peers.push_back(ir::Peer{});  // anywhere
      size_t ports = 1 + random() % 3;
      for (size_t i = 0; i < ports; ++i) {
        uint16_t first = 1 + random() % kMaxPort;
        uint16_t last = random() % 3 == 0 ? std::min<int>(kMaxPort, first + random() % 5) : first;
        rule.ports.push_back({static_cast<ir::Protocol>(random() % 3), first, last});
      }
      rule.sources.push_back(SourceLoc{0, static_cast<uint32_t>(1 + random() % 50), 1, 1});
    }
    std::vector<ir::PolicyRule> canonical = CanonicalRules(rules);
    REQUIRE(Relation(canonical, kMaxPort) == Relation(rules, kMaxPort));
    // Canonical form: idempotent, sorted unique peers, each peer in exactly
    // one rule, and a fixed point of itself.
    std::set<ir::Peer> seen;
    for (const ir::PolicyRule& rule : canonical) {
      REQUIRE(std::is_sorted(rule.peers.begin(), rule.peers.end()));
      for (const ir::Peer& peer : rule.peers) REQUIRE(seen.insert(peer).second);
    }
    std::vector<ir::PolicyRule> again = CanonicalRules(canonical);
    REQUIRE(again.size() == canonical.size());
    for (size_t i = 0; i < again.size(); ++i) {
      REQUIRE(again[i].peers == canonical[i].peers);
      REQUIRE(again[i].ports == canonical[i].ports);
      REQUIRE(again[i].sources == canonical[i].sources);
    }
  }
}

TEST_CASE("peers with different ports are never merged") {
  ir::PolicyRule a, b;
  a.peers = {PodPeer(1)};
  a.ports = {{ir::Protocol::kTcp, 80, 80}};
  b.peers = {PodPeer(2)};
  b.ports = {{ir::Protocol::kTcp, 443, 443}};
  std::vector<ir::PolicyRule> canonical = CanonicalRules({a, b});
  REQUIRE(canonical.size() == 2);
}

TEST_CASE("overlapping ranges merge, adjacent ports stay separate") {
  ir::PolicyRule a;
  a.peers = {PodPeer(1)};
  a.ports = {{ir::Protocol::kTcp, 9092, 9092},
             {ir::Protocol::kTcp, 9091, 9091},
             {ir::Protocol::kTcp, 8000, 8010},
             {ir::Protocol::kTcp, 8005, 8020},
             {ir::Protocol::kUdp, 8000, 8000}};
  std::vector<ir::PolicyRule> canonical = CanonicalRules({a});
  REQUIRE(canonical.size() == 1);
  std::vector<ir::PortRange> expected = {{ir::Protocol::kTcp, 8000, 8020},
                                         {ir::Protocol::kTcp, 9091, 9091},
                                         {ir::Protocol::kTcp, 9092, 9092},
                                         {ir::Protocol::kUdp, 8000, 8000}};
  CHECK(canonical[0].ports == expected);
}

}  // namespace
}  // namespace netpolc
