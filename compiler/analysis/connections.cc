#include "compiler/analysis/connections.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace netpolc::analysis {

const GraphNode* ConnectionSet::Find(const std::string& key) const {
  for (const GraphNode& node : nodes) {
    if (node.key == key) return &node;
  }
  return nullptr;
}

std::vector<std::pair<ir::PortRange, Ref>> MergePieces(
    Bdd& bdd, std::vector<std::pair<ir::PortRange, Ref>> in) {
  std::vector<std::pair<ir::PortRange, Ref>> out;
  if (in.empty()) return out;
  ir::Protocol protocol = in.front().first.protocol;
  struct Event {
    uint32_t pos;
    bool open;
    size_t entry;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < in.size(); ++i) {
    events.push_back({in[i].first.first, true, i});
    events.push_back({static_cast<uint32_t>(in[i].first.last) + 1, false, i});
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.pos < b.pos; });
  std::multiset<size_t> active;
  for (size_t i = 0; i < events.size();) {
    uint32_t pos = events[i].pos;
    for (; i < events.size() && events[i].pos == pos; ++i) {
      if (events[i].open) {
        active.insert(events[i].entry);
      } else {
        active.erase(active.find(events[i].entry));
      }
    }
    if (active.empty() || i == events.size()) continue;
    Ref when = Bdd::kFalse;
    for (size_t entry : active) when = bdd.Or(when, in[entry].second);
    if (when == Bdd::kFalse) continue;
    uint16_t first = static_cast<uint16_t>(pos), last = static_cast<uint16_t>(events[i].pos - 1);
    if (!out.empty() && out.back().second == when &&
        static_cast<uint32_t>(out.back().first.last) + 1 == first) {
      out.back().first.last = last;
    } else {
      out.push_back({{protocol, first, last}, when});
    }
  }
  return out;
}

ConnectionSet Connections(Model& model, bool include_dns) {
  Bdd& bdd = model.bdd();
  ConnectionSet set;
  size_t n = model.component_count();
  for (uint32_t c = 0; c < n; ++c) {
    const ir::Component& comp = model.component(c);
    set.nodes.push_back({comp.id, comp.name, true, model.Enabled(c)});
  }
  std::map<std::string, size_t> peer_nodes;  // text -> node index
  auto peer_node = [&](const std::string& text) {
    auto [it, inserted] = peer_nodes.emplace(text, set.nodes.size());
    if (inserted) set.nodes.push_back({"peer:" + text, text, false, Bdd::kTrue});
    return it->second;
  };

  // Candidate port ranges between components, from explicit terms.
  using PairKey = std::tuple<uint32_t, uint32_t, ir::Protocol>;
  std::map<PairKey, std::vector<std::pair<ir::PortRange, Ref>>> pairs;
  // Edges with a peer node: (from node, to node, protocol) -> pieces.
  std::map<std::tuple<size_t, size_t, ir::Protocol, bool>, std::vector<std::pair<ir::PortRange, Ref>>>
      peer_edges;

  auto add_rule = [&](const RuleInfo& rule, uint32_t owner, bool dns) {
    for (const Term& term : rule.terms) {
      Ref when = bdd.And(bdd.And(rule.active, term.guard), model.Enabled(owner));
      if (when == Bdd::kFalse) continue;
      std::vector<uint32_t> targets = term.is_explicit ? model.TermTargets(term) : std::vector<uint32_t>{};
      if (!targets.empty()) {
        for (uint32_t other : targets) {
          for (const ir::PortRange& p : rule.ports) {
            PairKey key = rule.direction == ir::Direction::kIngress
                              ? PairKey{other, owner, p.protocol}
                              : PairKey{owner, other, p.protocol};
            pairs[key].push_back({p, Bdd::kTrue});
          }
        }
        continue;
      }
      size_t node = peer_node(term.text);
      for (const ir::PortRange& p : rule.ports) {
        auto key = rule.direction == ir::Direction::kIngress
                       ? std::tuple{node, static_cast<size_t>(owner), p.protocol, dns}
                       : std::tuple{static_cast<size_t>(owner), node, p.protocol, dns};
        peer_edges[key].push_back({p, when});
      }
    }
  };
  for (uint32_t id = 0; id < model.rules().size(); ++id) {
    const RuleInfo& rule = model.rule(id);
    if (!rule.dns) add_rule(rule, rule.component, false);
  }
  if (include_dns && model.dns_rule()) {
    const RuleInfo& dns = model.rule(*model.dns_rule());
    for (uint32_t c = 0; c < n; ++c) {
      if (model.EgressIsolated(c)) add_rule(dns, c, true);
    }
  }

  std::map<std::tuple<size_t, size_t, ir::Protocol, bool>, std::vector<std::pair<ir::PortRange, Ref>>>
      edges = std::move(peer_edges);
  for (auto& [key, candidates] : pairs) {
    auto [from, to, protocol] = key;
    // The union of the candidate ranges, then the full answer over it.
    std::vector<std::pair<ir::PortRange, Ref>> ranges = MergePieces(bdd, std::move(candidates));
    std::vector<std::pair<ir::PortRange, Ref>> pieces;
    for (const auto& [range, unused] : ranges) {
      for (const auto& piece :
           model.AllowedOver(Endpoint::Component(from), Endpoint::Component(to), range)) {
        if (piece.second != Bdd::kFalse) pieces.push_back(piece);
      }
    }
    auto& list = edges[{static_cast<size_t>(from), static_cast<size_t>(to), protocol, false}];
    list.insert(list.end(), pieces.begin(), pieces.end());
  }
  for (auto& [key, entries] : edges) {
    auto [from, to, protocol, dns] = key;
    for (const auto& [range, when] : MergePieces(bdd, std::move(entries))) {
      set.connections.push_back({set.nodes[from].key, set.nodes[to].key, range, when, dns});
    }
  }
  return set;
}

}  // namespace netpolc::analysis
