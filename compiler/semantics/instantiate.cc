#include "compiler/semantics/instantiate.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "compiler/parallel.h"
#include "compiler/semantics/k8s_names.h"
#include "compiler/semantics/pod_networks.h"
#include "compiler/semantics/resolve.h"

namespace netpolc {
namespace {

using ir::PeerRef;

using ir::NormalisePorts;

// A diagnostic of one policy's instantiation, waiting to be reported in the
// order a whole instantiation reports it. Diagnostics of values and ports are
// reported once per location (`reported_`), of address blocks once per
// location and block (`reported_blocks_`): `key` says which, if any.
struct PendingDiagnostic {
  enum class Key : uint8_t { kNone, kLoc, kBlock };
  Key key = Key::kNone;
  SourceLoc loc;
  std::string cidr;
  std::function<void(Diagnostics&)> emit;  // empty: only marks the key reported
};

// Where the diagnostics of the thread's current policy go (nullptr: reported
// at once).
struct DiagnosticRecorder {
  std::vector<PendingDiagnostic> list;
  std::set<SourceLoc> locs;
  std::set<std::pair<SourceLoc, std::string>> blocks;
};
thread_local DiagnosticRecorder* t_recorder = nullptr;

class RecordInto {
 public:
  explicit RecordInto(DiagnosticRecorder* recorder) : saved_(t_recorder) { t_recorder = recorder; }
  ~RecordInto() { t_recorder = saved_; }
  RecordInto(const RecordInto&) = delete;
  RecordInto& operator=(const RecordInto&) = delete;

 private:
  DiagnosticRecorder* saved_;
};

}  // namespace

class Instantiator {
 public:
  Instantiator(const ir::Module& module, const ir::Config& config, Diagnostics& diagnostics)
      : module_(module),
        config_(config),
        diagnostics_(diagnostics),
        resolver_(module, config,
                  [this](const ir::ValueRef& ref, const std::string& value, Resolver::Use use) {
                    CheckValue(ref, value, use);
                  }) {}

  // Which components have policies, their names, namespaces and order;
  // the shared part of the set.
  void Plan() {
    errors_before_ = diagnostics_.error_count();
    enabled_.resize(module_.components.size());
    for (size_t i = 0; i < module_.components.size(); ++i) {
      enabled_[i] = module_.components[i].when.Evaluate(config_.flags);
    }
    std::string prefix = module_.instance.prefix ? resolver_.Value(*module_.instance.prefix) : "";

    shared_.pod_networks = PodNetworks(module_, config_);
    pod_networks_ = &shared_.pod_networks;
    for (uint32_t i = 0; i < module_.components.size(); ++i) {
      const ir::Component& c = module_.components[i];
      // A policy exists when the pods exist, the policy is deployed and it
      // isolates a side (a component without rules or `isolate` has none).
      if (!enabled_[i] || !c.HasPolicy(config_.flags)) continue;
      Planned planned;
      planned.component = i;
      std::string id = c.id;
      std::string policy_prefix = prefix;
      if (c.product != 0 && c.product <= module_.products.size()) {
        // A component of a product imported `as NAME` is named NAME.id: its
        // policy takes that product's prefix and its own id.
        const ir::Module::Product& product = module_.products[c.product - 1];
        id = id.substr(std::min(id.size(), product.name.size() + 1));
        policy_prefix = product.instance.prefix ? resolver_.Value(*product.instance.prefix) : "";
      }
      std::replace(id.begin(), id.end(), '_', '-');
      planned.name = policy_prefix.empty() ? id : policy_prefix + "-" + id;
      SourceLoc name_loc = c.loc;
      if (!c.policy_name.empty()) {
        planned.name = ExpandPolicyName(c.policy_name);
        name_loc = c.policy_name_loc;
      }
      std::string error = CheckDns1123Subdomain(planned.name);
      if (!error.empty()) {
        DiagnosticRecorder recorder;
        RecordInto into(&recorder);
        Report(PendingDiagnostic::Key::kNone, {}, {}, DiagnosticKind::kInvalidPolicyName, name_loc,
               planned.name, c.id, error);
        pending_[i] = std::move(recorder.list);
      }
      planned.ns = resolver_.NamespaceOf(i);
      planned_.push_back(std::move(planned));
      if (module_.dns.enabled && c.IsolatesEgress(config_.flags) && !dns_component_) {
        dns_component_ = i;
      }
    }
    std::sort(planned_.begin(), planned_.end(), [](const Planned& a, const Planned& b) {
      return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
    });
    for (size_t k = 1; k < planned_.size(); ++k) {
      const Planned& a = planned_[k - 1];
      const Planned& b = planned_[k];
      if (a.ns == b.ns && a.name == b.name) {
        const ir::Component& ca = module_.components[a.component];
        const ir::Component& cb = module_.components[b.component];
        const Planned& later = ca.loc < cb.loc ? b : a;
        const Planned& earlier = ca.loc < cb.loc ? a : b;
        const std::string& later_id = module_.components[later.component].id;
        std::optional<uint32_t> index = module_.FindComponent(later_id);
        SourceLoc loc = module_.components[later.component].loc;
        if (index && module_.components[*index].policy_name_loc.valid()) {
          loc = module_.components[*index].policy_name_loc;
        }
        duplicates_.push_back({loc, later.name, later.ns, module_.components[earlier.component].id});
      }
    }
    DiagnosticRecorder recorder;
    {
      RecordInto into(&recorder);
      shared_.kube_apiserver_peers = EntityPeers(module_.kube_apiserver, "kube_apiserver");
      shared_.nodes_peers = EntityPeers(module_.nodes, "nodes");
    }
    entity_pending_ = std::move(recorder.list);
  }

  const ir::PolicySet& shared() const { return shared_; }
  size_t size() const { return planned_.size(); }

  std::vector<uint32_t> Components(size_t first, size_t count) const {
    std::vector<uint32_t> out;
    for (size_t k = first; k < planned_.size() && k - first < count; ++k) {
      out.push_back(planned_[k].component);
    }
    return out;
  }

  std::vector<ir::Policy> Make(size_t first, size_t count) {
    if (first >= planned_.size()) return {};
    count = std::min(count, planned_.size() - first);
    std::vector<ir::Policy> out(count);
    std::vector<std::vector<PendingDiagnostic>> pending(count);
    ParallelFor(count, [&](size_t k) {
      DiagnosticRecorder recorder;
      RecordInto into(&recorder);
      out[k] = MakePolicy(planned_[first + k]);
      pending[k] = std::move(recorder.list);
    });
    for (size_t k = 0; k < count; ++k) {
      if (pending[k].empty()) continue;
      std::vector<PendingDiagnostic>& list = pending_[planned_[first + k].component];
      for (PendingDiagnostic& p : pending[k]) list.push_back(std::move(p));
    }
    return out;
  }

  bool Finish() {
    // In component order, as the policies were instantiated one by one.
    for (auto& [component, list] : pending_) {
      for (PendingDiagnostic& p : list) Replay(p);
    }
    pending_.clear();
    for (const Duplicate& d : duplicates_) {
      diagnostics_.Emit(DiagnosticKind::kDuplicatePolicyName, d.loc, d.name, d.ns, d.earlier);
    }
    for (PendingDiagnostic& p : entity_pending_) Replay(p);
    entity_pending_.clear();
    return diagnostics_.error_count() <= errors_before_;
  }

  std::optional<ir::PolicySet> Run() {
    Plan();
    ir::PolicySet set = shared_;
    set.policies = Make(0, planned_.size());
    if (!Finish()) return std::nullopt;
    return set;
  }

 private:
  // A policy to make: its component, name and namespace.
  struct Planned {
    std::string ns;
    std::string name;
    uint32_t component = 0;
  };
  struct Duplicate {
    SourceLoc loc;
    std::string name, ns, earlier;
  };

  ir::Policy MakePolicy(const Planned& planned) {
    const uint32_t i = planned.component;
    const ir::Component& c = module_.components[i];
    ir::Policy policy;
    policy.name = planned.name;
    policy.ns = planned.ns;
    policy.component = c.id;
    policy.selector = resolver_.Selector(i);
    policy.loc = c.loc;
    policy.isolate_ingress = c.IsolatesIngress(config_.flags);
    policy.isolate_egress = c.IsolatesEgress(config_.flags);
    std::vector<ir::PolicyRule> ingress, egress;
    for (const ir::Rule& rule : c.rules) {
      if (!rule.when.Evaluate(config_.flags)) continue;
      // Rules of a side the policy does not isolate would admit nothing
      // more than everything: they are left out.
      if (!(rule.direction == ir::Direction::kIngress ? policy.isolate_ingress
                                                      : policy.isolate_egress)) {
        continue;
      }
      ir::PolicyRule out;
      out.ports = rule.ports;
      AddPortExtras(rule.port_refs, rule.named_ports, out);
      out.sources = {rule.loc};
      for (const PeerRef& peer : rule.peers) AppendPeers(peer, out.peers);
      // A rule whose peers all dropped out admits nothing; it must not
      // become a rule without peers, which would admit everyone.
      if (out.peers.empty() || (out.ports.empty() && out.named_ports.empty())) continue;
      (rule.direction == ir::Direction::kIngress ? ingress : egress).push_back(std::move(out));
    }
    policy.ingress = canonical_ ? CanonicalRules(std::move(ingress)) : std::move(ingress);
    policy.egress = canonical_ ? CanonicalRules(std::move(egress)) : std::move(egress);
    if (policy.isolate_egress && module_.dns.enabled) {
      // Every policy's DNS rule is the same, and so are its diagnostics:
      // reported once, where the first policy with one was made (later ones
      // would be duplicates). The others are dropped here, so that they are
      // not held for every policy.
      DiagnosticRecorder dropped;
      std::optional<RecordInto> drop;
      if (dns_component_ != i) drop.emplace(&dropped);
      ir::PolicyRule dns;
      dns.ports = module_.dns.ports;
      AddPortExtras(module_.dns.port_refs, module_.dns.named_ports, dns);
      dns.dns = true;
      if (module_.dns.loc.valid()) dns.sources = {module_.dns.loc};
      for (const PeerRef& peer : module_.dns.peers) AppendPeers(peer, dns.peers);
      if (!dns.peers.empty() && (!dns.ports.empty() || !dns.named_ports.empty())) {
        for (ir::PolicyRule& r : CanonicalRules({std::move(dns)})) {
          r.dns = true;
          policy.egress.push_back(std::move(r));
        }
      }
    }
    return policy;
  }

  // Reports a diagnostic, or records it for the policy being made. With a
  // key, only the first diagnostic of that key is reported.
  template <typename... Args>
  void Report(PendingDiagnostic::Key key, SourceLoc key_loc, const std::string& cidr,
              std::optional<DiagnosticKind> kind, SourceLoc loc, const Args&... args) {
    PendingDiagnostic p;
    p.key = key;
    p.loc = key_loc;
    p.cidr = cidr;
    if (kind) {
      p.emit = [kind = *kind, loc, args...](Diagnostics& d) { d.Emit(kind, loc, args...); };
    }
    if (DiagnosticRecorder* recorder = t_recorder) {
      if (key == PendingDiagnostic::Key::kLoc && !recorder->locs.insert(key_loc).second) return;
      if (key == PendingDiagnostic::Key::kBlock &&
          !recorder->blocks.insert({key_loc, cidr}).second) {
        return;
      }
      recorder->list.push_back(std::move(p));
      return;
    }
    Replay(p);
  }

  void Replay(const PendingDiagnostic& p) {
    if (p.key == PendingDiagnostic::Key::kLoc && !reported_.insert(p.loc).second) return;
    if (p.key == PendingDiagnostic::Key::kBlock && !reported_blocks_.insert({p.loc, p.cidr}).second) {
      return;
    }
    if (p.emit) p.emit(diagnostics_);
  }

  // A policy-name template with each {param} replaced by its value.
  std::string ExpandPolicyName(const std::string& name) const {
    std::string out;
    for (size_t k = 0; k < name.size(); ++k) {
      if (name[k] != '{') {
        out += name[k];
        continue;
      }
      size_t close = name.find('}', k);
      if (close == std::string::npos) return out + name.substr(k);  // checked when lowered
      std::optional<uint32_t> param = module_.FindParam(name.substr(k + 1, close - k - 1));
      if (param && *param < config_.params.size()) out += config_.params[*param].text;
      k = close;
    }
    return out;
  }

  // The peers of `kube_apiserver = ...;` or `nodes = ...;` in this
  // configuration, canonical; nullopt when not declared.
  std::optional<std::vector<ir::Peer>> EntityPeers(const ir::Module::EntityPeers& entity,
                                                   std::string_view name) {
    if (!entity.declared) return std::nullopt;
    std::vector<ir::Peer> out;
    for (const PeerRef& ref : entity.peers) {
      if (ref.kind != PeerRef::Kind::kParam) {
        resolver_.AppendPeers(ref, out);
        continue;
      }
      if (ref.index >= config_.params.size()) continue;
      for (const PeerRef& inner : config_.params[ref.index].peers) {
        if (inner.kind == PeerRef::Kind::kCidr || inner.kind == PeerRef::Kind::kPods) {
          resolver_.AppendPeers(inner, out);
        } else {
          Report(PendingDiagnostic::Key::kNone, {}, {}, DiagnosticKind::kInvalidEntityPeer, ref.loc,
                 std::string(name),
                 "a parameter value with other peers (from parameter '" +
                     module_.params[ref.index].name + "')");
          return std::nullopt;
        }
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Values from parameters are checked where they are used, once per use.
  void CheckValue(const ir::ValueRef& ref, const std::string& value, Resolver::Use use) {
    std::string error = use == Resolver::Use::kNamespace ? CheckDns1123Label(value)
                                                         : CheckLabelValue(value);
    if (error.empty()) return;
    std::string from;
    if (ref.param < module_.params.size()) {
      from = " (from parameter '" + module_.params[ref.param].name + "')";
    }
    Report(PendingDiagnostic::Key::kLoc, ref.loc, {},
           use == Resolver::Use::kNamespace ? DiagnosticKind::kInvalidNamespace
                                            : DiagnosticKind::kInvalidLabelValue,
           ref.loc, value, error + from);
  }

  // Adds the ports from parameters (checked where they are used, once per
  // use) and the named ports of a rule.
  void AddPortExtras(const std::vector<ir::PortRef>& refs, const std::vector<ir::NamedPort>& named,
                     ir::PolicyRule& out) {
    for (const ir::PortRef& ref : refs) {
      Resolver::PortProblem problem;
      if (std::optional<ir::PortRange> range = resolver_.Port(ref, &problem)) {
        out.ports.push_back(*range);
        continue;
      }
      SourceLoc at = problem.at != nullptr ? problem.at->loc : ref.loc;
      std::string name;
      if (problem.at != nullptr && problem.at->kind == ir::ValueRef::Kind::kParam &&
          problem.at->param < module_.params.size()) {
        name = module_.params[problem.at->param].name;
      }
      switch (problem.kind) {
        case Resolver::PortProblem::Kind::kMissing:
          if (missing_ports_ok_) {
            Report(PendingDiagnostic::Key::kLoc, at, {}, std::nullopt, at);
          } else {
            Report(PendingDiagnostic::Key::kLoc, at, {}, DiagnosticKind::kParamNotSet, at, name,
                   name);
          }
          break;
        case Resolver::PortProblem::Kind::kOutOfRange:
          Report(PendingDiagnostic::Key::kLoc, at, {}, DiagnosticKind::kPortOutOfRange, at,
                 name.empty() ? std::to_string(problem.value)
                              : std::to_string(problem.value) + " (from parameter '" + name +
                                    "')");
          break;
        case Resolver::PortProblem::Kind::kEmpty:
        case Resolver::PortProblem::Kind::kNone:
          Report(PendingDiagnostic::Key::kLoc, at, {}, DiagnosticKind::kInvalidPortRange, at,
                 problem.first, problem.last);
          break;
      }
    }
    out.named_ports.insert(out.named_ports.end(), named.begin(), named.end());
    std::sort(out.named_ports.begin(), out.named_ports.end());
    out.named_ports.erase(std::unique(out.named_ports.begin(), out.named_ports.end()),
                          out.named_ports.end());
  }

  // `at` is where a peer taken from a parameter's value is reported: the
  // `$param` of the rule.
  void AppendPeers(const PeerRef& ref, std::vector<ir::Peer>& out,
                   std::optional<SourceLoc> at = std::nullopt) {
    if (ref.kind == PeerRef::Kind::kComponent) {
      // Disabled components drop out of the rules that name them.
      if (ref.index < enabled_.size() && enabled_[ref.index]) resolver_.AppendPeers(ref, out);
      return;
    }
    if (ref.kind == PeerRef::Kind::kParam) {
      if (ref.index >= config_.params.size()) return;
      // Parameter values never refer to parameters (checked when lowered),
      // so this recursion is one level deep.
      for (const PeerRef& inner : config_.params[ref.index].peers) {
        if (inner.kind != PeerRef::Kind::kParam) AppendPeers(inner, out, ref.loc);
      }
      return;
    }
    size_t first = out.size();
    resolver_.AppendPeers(ref, out);
    // An address block inside a pod network holds no address outside the
    // cluster: it admits nothing, on every target. Left out (a rule left
    // with no peers is removed, never turned into "admit everyone").
    for (size_t i = first; i < out.size();) {
      std::optional<std::string> network;
      if (out[i].kind == ir::Peer::Kind::kIpBlock && pod_networks_ != nullptr) {
        network = EnclosingPodNetwork(out[i].cidr, *pod_networks_);
      }
      if (!network) {
        ++i;
        continue;
      }
      SourceLoc loc = at.value_or(ref.loc);
      Report(PendingDiagnostic::Key::kBlock, loc, out[i].cidr,
             DiagnosticKind::kAddressBlockInPodNetwork, loc, out[i].cidr, *network);
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  const ir::Module& module_;
  const ir::Config& config_;
  Diagnostics& diagnostics_;
  // Declared before resolver_, which reports while built.
  std::set<SourceLoc> reported_;
  std::set<std::pair<SourceLoc, std::string>> reported_blocks_;
  Resolver resolver_;
  size_t errors_before_ = 0;
  std::vector<bool> enabled_;
  const std::vector<std::string>* pod_networks_ = nullptr;
  ir::PolicySet shared_;  // without policies
  std::vector<Planned> planned_;  // in the order of PolicySet::policies
  // The first component (in the file) whose policy has the DNS rule.
  std::optional<uint32_t> dns_component_;
  // Diagnostics of each component's policy (by component index), then of
  // duplicate names, then of the API-server and node declarations.
  std::map<uint32_t, std::vector<PendingDiagnostic>> pending_;
  std::vector<Duplicate> duplicates_;
  std::vector<PendingDiagnostic> entity_pending_;

 public:
  bool missing_ports_ok_ = false;  // InstantiateForDocumentation
  bool canonical_ = true;          // rules put in canonical form
};

std::vector<ir::PolicyRule> CanonicalRules(std::vector<ir::PolicyRule> rules) {
  // Each peer of each rule, sorted by peer: the uses of one peer stay in the
  // rules' order.
  struct Use {
    ir::Peer* peer;
    const ir::PolicyRule* rule;
  };
  std::vector<Use> uses;
  for (ir::PolicyRule& rule : rules) {
    for (ir::Peer& peer : rule.peers) uses.push_back({&peer, &rule});
  }
  std::stable_sort(uses.begin(), uses.end(),
                   [](const Use& a, const Use& b) { return *a.peer < *b.peer; });
  // Each distinct peer, in order, with the ports (merged), named ports
  // (sorted, unique) and sources of every rule it is in.
  struct Group {
    ir::Peer* peer;  // the first of its uses: its rule is this function's own
    std::vector<ir::PortRange> ports;
    std::vector<ir::NamedPort> named;
    std::vector<SourceLoc> sources;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < uses.size();) {
    Group group{uses[i].peer, {}, {}, {}};
    size_t j = i;
    // Sorted: a later use is of the same peer when not greater.
    for (; j < uses.size() && (j == i || !(*uses[i].peer < *uses[j].peer)); ++j) {
      const ir::PolicyRule& rule = *uses[j].rule;
      group.ports.insert(group.ports.end(), rule.ports.begin(), rule.ports.end());
      group.named.insert(group.named.end(), rule.named_ports.begin(), rule.named_ports.end());
      group.sources.insert(group.sources.end(), rule.sources.begin(), rule.sources.end());
    }
    group.ports = NormalisePorts(std::move(group.ports));
    std::sort(group.named.begin(), group.named.end());
    group.named.erase(std::unique(group.named.begin(), group.named.end()), group.named.end());
    groups.push_back(std::move(group));
    i = j;
  }
  // One rule per (ports, named ports), in that order; its peers in peer
  // order.
  std::vector<Group*> order;
  order.reserve(groups.size());
  for (Group& group : groups) order.push_back(&group);
  auto same_ports = [](const Group* a, const Group* b) {
    return a->ports == b->ports && a->named == b->named;
  };
  std::stable_sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    if (a->ports != b->ports) return a->ports < b->ports;
    return a->named < b->named;
  });
  std::vector<ir::PolicyRule> out;
  for (size_t i = 0; i < order.size();) {
    ir::PolicyRule rule;
    size_t j = i;
    for (; j < order.size() && (j == i || same_ports(order[i], order[j])); ++j) {
      rule.peers.push_back(std::move(*order[j]->peer));
      rule.sources.insert(rule.sources.end(), order[j]->sources.begin(), order[j]->sources.end());
    }
    rule.ports = std::move(order[i]->ports);
    rule.named_ports = std::move(order[i]->named);
    std::sort(rule.sources.begin(), rule.sources.end());
    rule.sources.erase(std::unique(rule.sources.begin(), rule.sources.end()), rule.sources.end());
    out.push_back(std::move(rule));
    i = j;
  }
  return out;
}

std::optional<ir::PolicySet> Instantiate(const ir::Module& module, const ir::Config& config,
                                         Diagnostics& diagnostics) {
  return Instantiator(module, config, diagnostics).Run();
}

std::optional<ir::PolicySet> InstantiateForDocumentation(const ir::Module& module,
                                                         const ir::Config& config,
                                                         Diagnostics& diagnostics) {
  Instantiator instantiator(module, config, diagnostics);
  instantiator.missing_ports_ok_ = true;
  return instantiator.Run();
}

PolicyBatches::PolicyBatches(const ir::Module& module, const ir::Config& config,
                             Diagnostics& diagnostics, Mode mode)
    : impl_(std::make_unique<Instantiator>(module, config, diagnostics)) {
  impl_->missing_ports_ok_ = mode == Mode::kDocumentation || mode == Mode::kDocumentationChecks;
  impl_->canonical_ = mode == Mode::kDeploy || mode == Mode::kDocumentation;
  impl_->Plan();
}

PolicyBatches::~PolicyBatches() = default;

const ir::PolicySet& PolicyBatches::shared() const { return impl_->shared(); }

size_t PolicyBatches::size() const { return impl_->size(); }

size_t PolicyBatches::BatchSize() { return std::max<size_t>(256, 64 * ThreadCount()); }

std::vector<ir::Policy> PolicyBatches::Make(size_t first, size_t count) {
  return impl_->Make(first, count);
}

std::vector<uint32_t> PolicyBatches::Components(size_t first, size_t count) const {
  return impl_->Components(first, count);
}

bool PolicyBatches::Finish() { return impl_->Finish(); }

}  // namespace netpolc
