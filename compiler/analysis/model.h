// The symbolic connectivity model shared by check, explain, diff and graph.
//
// A Model reads a module (ir/module.h) with its parameter values, and keeps
// every flag-dependent fact as a condition over the flags (a BDD, bdd.h):
// whether a component exists, whether a rule applies, whether a peer of a
// rule exists, and so whether a connection is allowed. Flags may be open
// (a BDD variable) or fixed (a constant); the model never enumerates
// configurations.
//
// The cluster it reasons about: every component's pods carry exactly the
// labels of its policy selector and live in its namespace; other endpoints
// are addresses outside the cluster. The policy semantics are those of
// Instantiate (instantiate.h) and Kubernetes: a side of a component is
// isolated when its policy is deployed and isolates it (ir::SideCondition:
// by default ingress when it has ingress rules, egress when it has egress
// rules, plus the DNS rule); a side that is not isolated admits everything;
// an isolated side admits a connection when some applicable rule names the
// other end on the port. Address blocks (ipBlock peers) match only
// addresses outside the cluster: never a component, nor an address of the
// configuration's pod networks (compiler/semantics/pod_networks.h), as in the IR. The
// API server and node peers match no component and no address.
//
// Rules are indexed by component, direction, protocol and port, and
// components by label, so queries do not scan every rule.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/analysis/bdd.h"
#include "compiler/ir/module.h"
#include "compiler/semantics/resolve.h"
#include "compiler/ir/policy.h"

namespace netpolc::analysis {

using Ref = Bdd::Ref;

// One peer of a rule as written (or one item of a peers parameter's value),
// expanded into concrete selectors.
struct Term {
  // `external` is two ipBlocks. Empty for a term naming a component: its
  // peers are the component's, which Model::TermPeers gives (one copy per
  // component, not per rule).
  std::vector<ir::Peer> peers;
  Ref guard = Bdd::kTrue;       // when it exists: a named component's condition
  // Names particular pods (a component, or pods with labels) rather than a
  // broad set (anywhere, instance, external, cidr, all pods of namespaces).
  bool is_explicit = false;
  std::optional<uint32_t> component;  // the component it names
  std::optional<uint32_t> param;      // the peers parameter it came from
  uint32_t param_item = 0;            // index in that parameter's value
  std::string text;                   // "admin_api", "anywhere", "pods {...} in ..."
  SourceLoc loc;                      // as written in the rule
};

struct RuleInfo {
  uint32_t component = 0;
  uint32_t index = 0;  // into Component::rules
  bool dns = false;    // the built-in name-resolution rule of every restricted egress
  ir::Direction direction = ir::Direction::kIngress;
  std::vector<ir::PortRange> ports;
  std::vector<Term> terms;
  Ref when = Bdd::kTrue;    // the rule's own condition
  Ref active = Bdd::kTrue;  // its component exists and its condition holds
  SourceLoc loc;
  // Container port names. The model does not know pods' container ports, so
  // these admit no numbered port here (docs/analysis.md).
  std::vector<ir::NamedPort> named_ports;
};

// Where a connection starts or ends: a component's pods, or an address
// outside the cluster.
struct Endpoint {
  enum class Kind : uint8_t { kComponent, kAddress };
  Kind kind = Kind::kComponent;
  uint32_t component = 0;
  std::string address;  // kAddress: an IPv4 or IPv6 address
  static Endpoint Component(uint32_t c) { return {Kind::kComponent, c, {}}; }
  static Endpoint Address(std::string ip) { return {Kind::kAddress, 0, std::move(ip)}; }
  bool is_component() const { return kind == Kind::kComponent; }
};

// A condition (or the analysis of one) that passes the BDD budgets (bdd.h),
// at the condition or the rule being analysed.
struct ConditionTooComplex {
  SourceLoc loc;
  std::string reason;  // "more than N nodes"
};

// The module's flags in the order of their first appearance in conditions
// (components in order, each before its rules; operands left to right), then
// the flags no condition uses. Flags that appear together end up close in
// the diagram order, which keeps `(a0 and b0) or (a1 and b1) or ...` linear
// whatever order the flags are declared in.
std::vector<uint32_t> FlagOrder(const ir::Module& module);

// A condition per maximal port range over which it is constant.
using PortPieces = std::vector<std::pair<ir::PortRange, Ref>>;

class Model {
 public:
  // flag_refs[i] is flag i of the module: a variable of `bdd`, or a constant
  // when the flag is fixed. `module`, `config` and `bdd` must outlive the model.
  Model(const ir::Module& module, const ir::Config& config, Bdd& bdd, std::vector<Ref> flag_refs);
  // A view of `base` answering with `bdd`, a Bdd::Fork of base's BDD made
  // after `base` was built (base's conditions are the same refs in it). The
  // view shares what base knows of the module and has its own caches and
  // focus: views with BDDs of their own may be queried on different threads
  // at once. `base` must outlive the view.
  Model(const Model& base, Bdd& bdd);

  // Frees the larger part of what the model knows, on the thread pool (a
  // model of a large file takes a while to free). Neither the model nor its
  // views may be queried afterwards; they may only be destroyed.
  void Free();

  // Declares a variable per flag of `module` not fixed by `fixed` (flags
  // fixed take their value from `config`), in FlagOrder, and returns the
  // refs for a Model. Texts list flags in declaration order.
  //
  // The constructor and the queries below throw ConditionTooComplex when a
  // condition passes the BDD budgets.
  static std::vector<Ref> BindFlags(const ir::Module& module, const ir::Config& config,
                                    const std::vector<bool>& fixed, Bdd& bdd);

  const ir::Module& module() const { return module_; }
  const ir::Config& config() const { return config_; }
  Bdd& bdd() const { return bdd_; }
  Ref FlagRef(uint32_t flag) const { return flag_refs_.at(flag); }
  // The assignment of bdd()'s variables (for Bdd::Eval) given flag values
  // indexed like Module::flags.
  std::vector<bool> VarAssignment(const std::vector<bool>& flag_values) const;
  Ref ConditionRef(const ir::Condition& condition) const;

  size_t component_count() const { return module_.components.size(); }
  const ir::Component& component(uint32_t c) const { return module_.components[c]; }
  Ref Enabled(uint32_t c) const { return f_.enabled[c]; }
  Ref Enabled(const Endpoint& e) const { return e.is_component() ? f_.enabled[e.component] : Bdd::kTrue; }
  // Whether a policy may isolate the component's pods on a side (in some
  // configuration), and when it does (ir::SideCondition: `policy when`,
  // `isolate`, the rules of that direction). A side that no policy isolates
  // admits everything.
  //
  // The policies of other components may select the component's pods too
  // (Covering): then the side is isolated when any of them isolates it, and
  // admits what the rules of any of them admit (IngressSide, EgressSide).
  bool IngressIsolated(uint32_t c) const { return f_.ingress_isolation[c] != Bdd::kFalse; }
  bool EgressIsolated(uint32_t c) const { return f_.egress_isolation[c] != Bdd::kFalse; }
  Ref IngressIsolation(uint32_t c) const { return f_.ingress_isolation[c]; }
  Ref EgressIsolation(uint32_t c) const { return f_.egress_isolation[c]; }

  const std::vector<RuleInfo>& rules() const { return f_.rules; }
  const RuleInfo& rule(uint32_t id) const { return f_.rules[id]; }
  std::optional<uint32_t> dns_rule() const { return f_.dns_rule; }
  const std::vector<uint32_t>& RulesOf(uint32_t c, ir::Direction d) const {
    return d == ir::Direction::kIngress ? f_.ingress_of[c] : f_.egress_of[c];
  }
  // Rules of (c, d) whose ports include the port.
  const std::vector<uint32_t>& RulesAt(uint32_t c, ir::Direction d, ir::Protocol protocol,
                                       uint16_t port) const;
  // Appends to `cuts` the ports in (first, last] where the rules of (c, d)
  // covering a port change.
  void AddCuts(uint32_t c, ir::Direction d, ir::Protocol protocol, uint16_t first,
               uint16_t last, std::vector<uint16_t>& cuts) const;

  // The other components whose policy selects c's pods as well: in c's
  // namespace, with a selector within c's labels (the same labels, fewer, or
  // none: a `labels any` component). Empty for most components.
  const std::vector<uint32_t>& Covering(uint32_t c) const { return f_.covering[c]; }
  // The other components whose pods c's policy selects as well (the inverse
  // of Covering): c's rules apply to their pods too.
  const std::vector<uint32_t>& Covered(uint32_t c) const { return f_.covered[c]; }
  // When the policy of c isolates a side of the pods it selects (c's own
  // SideCondition, c existing); Covering components' rules count under it.
  Ref OwnIsolation(uint32_t c, ir::Direction d) const {
    return d == ir::Direction::kIngress ? f_.own_ingress_isolation[c] : f_.own_egress_isolation[c];
  }

  const std::vector<ir::Label>& Selector(uint32_t c) const { return f_.resolver.Selector(c); }
  const std::string& NamespaceOf(uint32_t c) const { return f_.resolver.NamespaceOf(c); }
  const std::string& instance_namespace() const { return f_.resolver.instance_namespace(); }
  // The configuration's pod networks (empty when the rules declare none).
  const std::vector<std::string>& pod_networks() const { return f_.pod_networks; }
  // Whether a concrete peer selects the endpoint.
  bool PeerSelects(const ir::Peer& peer, const Endpoint& e) const;
  // The components whose pods a concrete peer selects (via the label index).
  std::vector<uint32_t> Selected(const ir::Peer& peer) const;
  // The components a term selects (its named component only, for a
  // component term).
  std::vector<uint32_t> TermTargets(const Term& term) const;
  bool TermSelects(const Term& term, const Endpoint& e) const;
  // The concrete peers of a term.
  const std::vector<ir::Peer>& TermPeers(const Term& term) const {
    return term.component ? f_.component_peers[*term.component] : term.peers;
  }

  // When rule `id` names the endpoint among its peers (its condition aside).
  Ref RuleAdmits(uint32_t id, const Endpoint& e);
  // When dst's ingress side admits src on the port (true when dst is not
  // isolated), and when src's egress side allows it (true when src is not
  // isolated, including the DNS rule). Existence of the ends is not included.
  Ref IngressSide(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol, uint16_t port);
  Ref EgressSide(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol, uint16_t port);
  // Both ends exist and both sides allow it.
  Ref Allowed(const Endpoint& src, const Endpoint& dst, ir::Protocol protocol, uint16_t port);

  // The same over a port range, cut where the answer may change.
  PortPieces IngressOver(const Endpoint& src, const Endpoint& dst, const ir::PortRange& range);
  PortPieces EgressOver(const Endpoint& src, const Endpoint& dst, const ir::PortRange& range);
  PortPieces AllowedOver(const Endpoint& src, const Endpoint& dst, const ir::PortRange& range);

  std::string EndpointText(const Endpoint& e) const;

  // What is being analysed, for ConditionTooComplex: the queries above set
  // it to the rule or component they work on; analyses may set it too.
  void Focus(SourceLoc loc) { focus_ = loc; }
  SourceLoc focus() const { return focus_; }

 private:
  Ref ConditionRefAt(const ir::Condition& condition, SourceLoc fallback) const;
  struct Segment {
    ir::Protocol protocol;
    uint16_t first, last;
    std::vector<uint32_t> rules;
  };
  using Index = std::vector<Segment>;

  void Expand(const ir::PeerRef& ref, SourceLoc loc, std::optional<uint32_t> param,
              uint32_t param_item, std::vector<Term>& out) const;
  static Index BuildIndex(const std::vector<RuleInfo>& rules, const std::vector<uint32_t>& ids);
  const Index& IndexOf(uint32_t c, ir::Direction d) const {
    return d == ir::Direction::kIngress ? f_.ingress_index[c] : f_.egress_index[c];
  }
  template <typename Fn>
  PortPieces Over(const ir::PortRange& range, std::vector<uint16_t> cuts, Fn fn);
  void AddDnsCuts(const ir::PortRange& range, std::vector<uint16_t>& cuts) const;

  // What the model knows of the module: built by the constructor, read-only
  // afterwards, and shared by the views of the model (Model(base, bdd)).
  struct Facts {
    Facts(const ir::Module& module, const ir::Config& config);
    Resolver resolver;  // values, selectors and peers, as instantiation resolves them
    std::vector<Ref> enabled;
    std::map<ir::Label, std::vector<uint32_t>> label_index;
    std::vector<RuleInfo> rules;
    std::optional<uint32_t> dns_rule;
    std::vector<std::vector<uint32_t>> ingress_of, egress_of;
    std::vector<Index> ingress_index, egress_index;
    std::vector<Ref> ingress_isolation, egress_isolation;
    std::vector<std::string> pod_networks;  // of the configuration
    std::vector<std::vector<uint32_t>> covering, covered;
    std::vector<Ref> own_ingress_isolation, own_egress_isolation;
    // The peers of a term naming each component.
    std::vector<std::vector<ir::Peer>> component_peers;
    // Per component, a bit per label of its selector (a hash of the label):
    // when a bit of d's is missing from c's, d's selector is not within c's
    // labels, so a term naming d does not select c.
    std::vector<uint64_t> label_bits;
  };

  const ir::Module& module_;
  const ir::Config& config_;
  Bdd& bdd_;
  std::vector<Ref> flag_refs_;
  std::shared_ptr<Facts> facts_;
  Facts& f_;  // *facts_
  // Of this model or view alone: what queries have worked out, and where.
  std::unordered_map<uint64_t, Ref> admits_cache_;
  SourceLoc focus_;
  // Calls fn(rule, condition under which it counts) for the rules of (c, d)
  // at the port: c's own, then those of the components covering c. With
  // covering components, c's own rules count when c's policy isolates the
  // side (else Kubernetes ignores them), theirs when they exist and their
  // policy isolates it.
  template <typename Fn>
  void ForEachSideRule(uint32_t c, ir::Direction d, ir::Protocol protocol, uint16_t port,
                       Fn fn) const {
    const std::vector<uint32_t>& covering = f_.covering[c];
    Ref own = covering.empty() ? Bdd::kTrue : OwnIsolation(c, d);
    for (uint32_t id : RulesAt(c, d, protocol, port)) fn(id, own);
    for (uint32_t j : covering) {
      Ref guard = bdd_.And(f_.enabled[j], OwnIsolation(j, d));
      if (guard == Bdd::kFalse) continue;
      for (uint32_t id : RulesAt(j, d, protocol, port)) fn(id, guard);
    }
  }
  void ComputeCovering();
};

// "TCP 7443", "TCP 8000-8100, UDP 53".
std::string PortsText(const std::vector<ir::PortRange>& ports);
// Whether every port of `inner` is in `outer`.
bool PortsInclude(const std::vector<ir::PortRange>& outer, const std::vector<ir::PortRange>& inner);
// Whether the lists have a port in common (PortsIntersect not empty).
bool PortsOverlap(const std::vector<ir::PortRange>& a, const std::vector<ir::PortRange>& b);
// The ports common to both lists.
std::vector<ir::PortRange> PortsIntersect(const std::vector<ir::PortRange>& a,
                                          const std::vector<ir::PortRange>& b);
// "anywhere", "cidr 10.0.0.0/8 except 10.1.0.0/16", "pods {k=v} in namespace ns".
std::string PeerText(const ir::Peer& peer);
// Whether every endpoint `inner` selects is selected by `outer` (sound: may
// answer false for some covering pairs, never true for others).
bool PeerCovers(const ir::Peer& outer, const ir::Peer& inner);

}  // namespace netpolc::analysis
