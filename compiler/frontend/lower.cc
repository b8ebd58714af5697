#include "compiler/frontend/lower.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "compiler/semantics/k8s_names.h"
#include "compiler/semantics/pod_networks.h"

namespace netpolc {
namespace {

using ir::Direction;
using ir::PeerRef;

// Edit distance with adjacent transpositions (optimal string alignment),
// for "did you mean" suggestions; gives up on long names.
size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64) return SIZE_MAX;
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean 'x'?)" for the closest name, or "".
template <typename Names>
std::string Suggest(std::string_view wrong, const Names& names) {
  std::string_view best;
  size_t best_distance = std::max<size_t>(1, wrong.size() / 3) + 1;  // exclusive bound
  for (const auto& [name, index] : names) {
    // The distance is at least the difference of the lengths.
    size_t gap = name.size() > wrong.size() ? name.size() - wrong.size() : wrong.size() - name.size();
    if (gap > best_distance) continue;
    size_t d = EditDistance(wrong, name);
    if (d < best_distance || (d == best_distance && !best.empty() && name < best)) {
      best_distance = d;
      best = name;
    }
  }
  if (best.empty()) return {};
  return " (did you mean '" + std::string(best) + "'?)";
}

std::string_view ParamTypeName(ir::ParamType type) {
  switch (type) {
    case ir::ParamType::kString:
      return "string";
    case ir::ParamType::kInt:
      return "int";
    case ir::ParamType::kPeers:
      return "peers";
    case ir::ParamType::kCidrs:
      return "cidrs";
  }
  return "string";
}

std::string_view ValueKindName(ast::Value::Kind kind) {
  switch (kind) {
    case ast::Value::Kind::kString:
      return "a string";
    case ast::Value::Kind::kInt:
      return "a number";
    case ast::Value::Kind::kParam:
      return "a parameter";
    case ast::Value::Kind::kBool:
      return "a boolean";
  }
  return "a value";
}

ir::Protocol ProtocolOf(ast::Protocol p) {
  switch (p) {
    case ast::Protocol::kTcp:
      return ir::Protocol::kTcp;
    case ast::Protocol::kUdp:
      return ir::Protocol::kUdp;
    case ast::Protocol::kSctp:
      return ir::Protocol::kSctp;
  }
  return ir::Protocol::kTcp;
}

}  // namespace

class Lowerer {
 public:
  explicit Lowerer(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  // A worker for component bodies (PieceLowerer): the names and the module
  // of `main` as they are after LowerHeader, but no components' bodies.
  Lowerer(const Lowerer& main, Diagnostics& diagnostics)
      : diagnostics_(diagnostics),
        params_(main.params_),
        flags_(main.flags_),
        components_(main.components_),
        products_(main.products_) {
    module_.params = main.module_.params;
    module_.flags = main.module_.flags;
    module_.instance = main.module_.instance;
    module_.products = main.module_.products;
  }

  // Indexes the names of an already lowered module (for LowerPeerList).
  void IndexModule(const ir::Module& module) {
    module_ = module;
    for (uint32_t i = 0; i < module.params.size(); ++i) params_[module.params[i].name] = i;
    for (uint32_t i = 0; i < module.flags.size(); ++i) flags_[module.flags[i].name] = i;
    for (uint32_t i = 0; i < module.components.size(); ++i) components_[module.components[i].id] = i;
  }

  std::optional<ir::Module> LowerFile(const ast::File& file) {
    size_t errors_before = diagnostics_.error_count();
    DeclareParams(file);
    LowerFlags(file);
    DeclareComponents(file);
    LowerInstance(file);
    LowerParamDefaults(file);
    LowerDns(file);
    LowerEntityPeers(file);
    for (size_t i = 0; i < file.components.size(); ++i) {
      if (component_ast_index_[i] >= 0) {
        LowerComponent(file.components[i], module_.components[component_ast_index_[i]]);
      }
    }
    if (diagnostics_.error_count() > errors_before) return std::nullopt;
    return std::move(module_);
  }

  // Piece by piece (PieceLowerer): what LowerFile does before the
  // components' bodies, with the components known by name only.
  bool LowerHeader(const ast::File& header, const std::vector<std::string>& component_names,
                   const std::vector<PieceLowerer::DuplicateComponent>* duplicates) {
    DeclareParams(header);
    LowerFlags(header);
    // Exactly the room needed: a component is some hundreds of bytes, and a
    // vector grown by doubling would hold up to twice that.
    module_.components.reserve(module_.components.size() + component_names.size());
    for (const std::string& name : component_names) {
      if (!components_.emplace(name, module_.components.size()).second) return false;
      ir::Component component;
      component.id = name;
      component.name = name;
      component.product = 0;
      module_.components.push_back(std::move(component));
    }
    if (duplicates != nullptr) {
      for (const PieceLowerer::DuplicateComponent& d : *duplicates) {
        Error(DiagnosticKind::kDuplicateComponent, d.loc, d.name);
        Previous(d.previous);
      }
    }
    LowerInstance(header);
    LowerParamDefaults(header);
    LowerDns(header);
    LowerEntityPeers(header);
    return true;
  }

  // The body of a component into `out`, which is made as LowerHeader made
  // it (its name checked by the caller). Reads only what LowerHeader wrote.
  void LowerComponentInto(const ast::Component& c, ir::Component& out) {
    out = ir::Component{};
    out.id = c.name.value;
    out.name = c.name.value;
    out.loc = c.name.loc;
    out.product = 0;
    LowerComponent(c, out);
  }

  void SetComponent(size_t index, ir::Component&& component) {
    module_.components[index] = std::move(component);
  }

  ir::Module TakeModule() { return std::move(module_); }
  ir::Module& module() { return module_; }

  std::optional<std::vector<PeerRef>> LowerPeers(const std::vector<ast::Peer>& peers) {
    size_t errors_before = diagnostics_.error_count();
    in_setting_ = true;
    std::vector<PeerRef> out = LowerPeerList(peers, /*in_default=*/true);
    in_setting_ = false;
    if (diagnostics_.error_count() > errors_before) return std::nullopt;
    return out;
  }

 private:
  template <typename... Args>
  void Error(DiagnosticKind kind, SourceLoc loc, const Args&... args) {
    diagnostics_.Emit(kind, loc, args...);
  }

  void Previous(SourceLoc loc) { Error(DiagnosticKind::kPreviousDeclaration, loc); }

  // Suggest(), for an error that will be shown: past the error limit the
  // search (every declared name) would be spent on a dropped message, once
  // per unknown name, which is quadratic in a file full of them.
  template <typename Names>
  std::string SuggestIfKept(std::string_view wrong, const Names& names) const {
    return diagnostics_.keeps_errors() ? Suggest(wrong, names) : std::string();
  }

  // --- Declarations ------------------------------------------------------

  void DeclareParams(const ast::File& file) {
    for (const ast::Param& p : file.params) {
      auto [it, inserted] = params_.emplace(p.name.value, module_.params.size());
      if (!inserted) {
        Error(DiagnosticKind::kDuplicateParam, p.name.loc, p.name.value);
        Previous(module_.params[it->second].loc);
        continue;
      }
      ir::Param param;
      param.name = p.name.value;
      param.loc = p.name.loc;
      if (p.type.value == "string") {
        param.type = ir::ParamType::kString;
      } else if (p.type.value == "int") {
        param.type = ir::ParamType::kInt;
      } else if (p.type.value == "peers") {
        param.type = ir::ParamType::kPeers;
      } else if (p.type.value == "cidrs") {
        param.type = ir::ParamType::kCidrs;
      } else {
        Error(DiagnosticKind::kUnknownParamType, p.type.loc, p.type.value);
      }
      if (p.name.value == kPodNetworksParam && param.type != ir::ParamType::kCidrs) {
        Error(DiagnosticKind::kPodNetworksNotCidrs, p.type.loc, ParamTypeName(param.type));
      }
      if (!p.default_value && !p.default_peers && param.type == ir::ParamType::kInt) {
        // A deploy-time value (a port the user chooses): using it without
        // --set or --values is an error where it is used.
        param.default_value.missing = true;
      } else if (!p.default_value && !p.default_peers) {
        Error(DiagnosticKind::kParamWithoutDefault, p.name.loc, p.name.value);
      } else if (p.default_value && param.type != ir::ParamType::kPeers &&
                 p.default_value->kind != ast::Value::Kind::kParam) {
        const ast::Value& v = *p.default_value;
        bool ok = (param.type == ir::ParamType::kString && v.kind == ast::Value::Kind::kString) ||
                  (param.type == ir::ParamType::kInt && v.kind == ast::Value::Kind::kInt) ||
                  (param.type == ir::ParamType::kCidrs && v.kind == ast::Value::Kind::kString);
        if (!ok) {
          Error(DiagnosticKind::kParamTypeMismatch, v.loc, p.name.value,
                ParamTypeName(param.type), ValueKindName(v.kind));
        }
        param.default_value.text = v.text;
        if (param.type == ir::ParamType::kCidrs && ok) {
          // A list of CIDRs is written as a string, as on the command line:
          // "10.128.0.0/14, 192.168.0.0/16".
          std::string error;
          std::optional<std::vector<std::string>> cidrs = ParseCidrList(v.text, error);
          if (cidrs) {
            param.default_value.cidrs = std::move(*cidrs);
          } else {
            Error(DiagnosticKind::kInvalidCidrList, v.loc, p.name.value, error);
          }
        }
        if (param.type == ir::ParamType::kInt && ok) {
          param.default_value.integer = std::stoll(v.text.size() > 18 ? "0" : v.text);
        }
      } else if (p.default_value && p.default_value->kind == ast::Value::Kind::kParam) {
        SourceLoc loc = p.default_value->loc;
        loc.length = static_cast<uint32_t>(p.default_value->text.size()) + 1;
        Error(DiagnosticKind::kParamInDefault, loc, p.default_value->text);
      } else if (p.default_value && param.type == ir::ParamType::kPeers) {
        // A peers parameter whose default parsed as a scalar value: a bare
        // name is a component; anything else is a type error.
        Error(DiagnosticKind::kParamTypeMismatch, p.default_value->loc, p.name.value,
              "peers", ValueKindName(p.default_value->kind));
      } else if (p.default_peers && param.type != ir::ParamType::kPeers) {
        Error(DiagnosticKind::kParamTypeMismatch, p.default_peers->front().loc, p.name.value,
              ParamTypeName(param.type), "a peer list");
      }
      module_.params.push_back(std::move(param));
    }
  }

  void LowerParamDefaults(const ast::File& file) {
    for (const ast::Param& p : file.params) {
      auto it = params_.find(p.name.value);
      if (it == params_.end() || module_.params[it->second].loc != p.name.loc) continue;
      ir::Param& param = module_.params[it->second];
      if (param.type == ir::ParamType::kPeers && p.default_peers) {
        param.default_value.peers = LowerPeerList(*p.default_peers, /*in_default=*/true);
      }
    }
  }

  void LowerFlags(const ast::File& file) {
    for (const ast::Flag& f : file.flags) {
      auto [it, inserted] = flags_.emplace(f.name.value, module_.flags.size());
      if (!inserted) {
        Error(DiagnosticKind::kDuplicateFlag, f.name.loc, f.name.value);
        Previous(module_.flags[it->second].loc);
        continue;
      }
      ir::Flag flag;
      flag.name = f.name.value;
      flag.loc = f.name.loc;
      flag.default_value = f.default_value.value_or(false);
      PropertyReader props(*this, "a flag", {"doc", "link", "enabled", "disabled"});
      for (const ast::Property& p : f.properties) {
        if (std::string* slot = props.Slot(p, {&flag.doc, &flag.link, &flag.enabled, &flag.disabled})) {
          *slot = p.value.value;
        }
      }
      if (flag.doc.empty()) flag.doc = flag.name;
      if (flag.enabled.empty()) flag.enabled = "If {doc} is enabled";
      if (flag.disabled.empty()) flag.disabled = "If {doc} is disabled";
      module_.flags.push_back(std::move(flag));
    }
  }

  void DeclareComponents(const ast::File& file) {
    component_ast_index_.assign(file.components.size(), -1);
    module_.components.reserve(module_.components.size() + file.components.size());
    for (size_t i = 0; i < file.components.size(); ++i) {
      const ast::Component& c = file.components[i];
      auto [it, inserted] = components_.emplace(c.name.value, module_.components.size());
      if (!inserted) {
        Error(DiagnosticKind::kDuplicateComponent, c.name.loc, c.name.value);
        Previous(module_.components[it->second].loc);
        continue;
      }
      component_ast_index_[i] = static_cast<int64_t>(module_.components.size());
      ir::Component component;
      component.id = c.name.value;
      component.name = c.name.value;
      component.loc = c.name.loc;
      component.product = ProductIndex(c.product);
      module_.components.push_back(std::move(component));
    }
  }

  // The index of a product ("" for the file being compiled, "gw." for one
  // imported `as gw`), created when first seen.
  uint32_t ProductIndex(const std::string& key) {
    if (key.empty()) return 0;
    auto [it, inserted] = products_.emplace(key, static_cast<uint32_t>(module_.products.size() + 1));
    if (inserted) module_.products.push_back({key.substr(0, key.size() - 1), {}});
    return it->second;
  }

  void LowerInstance(const ast::File& file) {
    // One instance per product: the file's own, and one for each product
    // imported `as` a name.
    std::map<std::string, std::vector<const ast::Instance*>> by_product;
    for (const ast::Instance& in : file.instances) by_product[in.product].push_back(&in);
    for (const auto& [product, list] : by_product) {
      for (size_t i = 1; i < list.size(); ++i) {
        Error(DiagnosticKind::kDuplicateDeclaration, list[i]->loc, "instance");
        Previous(list[0]->loc);
      }
      uint32_t p = ProductIndex(product);
      LowerOneInstance(*list[0], p == 0 ? module_.instance : module_.products[p - 1].instance);
    }
  }

  void LowerOneInstance(const ast::Instance& in, ir::Instance& out) {
    out.loc = in.loc;
    for (size_t i = 0; i < in.namespaces.size(); ++i) {
      if (i > 0) {
        Error(DiagnosticKind::kDuplicateSetting, in.namespaces[i].loc, "namespace", "instance");
        continue;
      }
      out.ns = LowerNamespaceValue(in.namespaces[i]);
    }
    for (size_t i = 0; i < in.labels.size(); ++i) {
      if (i > 0) {
        Error(DiagnosticKind::kDuplicateSetting, in.labels[i].loc, "labels", "instance");
        continue;
      }
      out.labels = LowerLabels(in.labels[i]);
    }
    std::unordered_set<std::string> seen;
    for (const ast::Setting& s : in.settings) {
      if (!seen.insert(s.key.value).second) {
        Error(DiagnosticKind::kDuplicateProperty, s.key.loc, s.key.value);
        continue;
      }
      if (s.key.value == "prefix") {
        out.prefix = LowerScalar(s.value);
      } else if (s.key.value == "name") {
        if (s.value.kind != ast::Value::Kind::kString) {
          Error(DiagnosticKind::kParamTypeMismatch, s.value.loc, "name", "string",
                ValueKindName(s.value.kind));
        }
        out.name = s.value.text;
      } else {
        Error(DiagnosticKind::kUnknownProperty, s.key.loc, s.key.value, "the instance",
              "namespace, labels, prefix or name");
      }
    }
  }

  void LowerDns(const ast::File& file) {
    for (size_t i = 1; i < file.dns.size(); ++i) {
      Error(DiagnosticKind::kDuplicateDeclaration, file.dns[i].loc, "dns");
      Previous(file.dns[0].loc);
    }
    ir::Dns& dns = module_.dns;
    if (file.dns.empty()) {
      // Default: kube-dns in kube-system, UDP and TCP 53.
      dns.enabled = true;
      dns.ports = {{ir::Protocol::kTcp, 53, 53}, {ir::Protocol::kUdp, 53, 53}};
      PeerRef peer;
      peer.kind = PeerRef::Kind::kPods;
      peer.pod_labels.push_back({"k8s-app", {ir::ValueRef::Kind::kLiteral, "kube-dns", 0, {}}, {}});
      peer.ns = PeerRef::Namespace::kNamed;
      peer.ns_name = {ir::ValueRef::Kind::kLiteral, "kube-system", 0, {}};
      dns.peers.push_back(std::move(peer));
      return;
    }
    const ast::Dns& in = file.dns[0];
    dns.loc = in.loc;
    dns.enabled = !in.off;
    if (in.off) return;
    dns.ports = LowerPorts(in.ports);
    LowerPortExtras(in.ports, dns.port_refs, dns.named_ports);
    dns.peers = LowerPeerList(in.peers, /*in_default=*/false);
  }

  // --- Components ---------------------------------------------------------

  void LowerComponent(const ast::Component& c, ir::Component& out) {
    if (c.when) out.when = LowerCondition(*c.when);
    if (c.labels) {
      out.labels = LowerLabels(*c.labels);
    }
    for (const ast::LabelMap& extra : c.extra_labels) {
      Error(DiagnosticKind::kDuplicateSetting, extra.loc, "labels", "component");
    }
    if (c.scope) out.scope = *c.scope == ast::Component::Scope::kCluster ? ir::Scope::kCluster
                                                                         : ir::Scope::kInstance;
    if (c.scope && *c.scope == ast::Component::Scope::kNamespace) out.scope = ir::Scope::kNamespace;
    for (size_t i = 0; i < c.namespaces.size(); ++i) {
      if (i > 0) {
        Error(DiagnosticKind::kDuplicateSetting, c.namespaces[i].loc, "namespace", "component");
        continue;
      }
      out.ns = LowerNamespaceValue(c.namespaces[i]);
    }
    // `labels any;`: every pod of the instance (scope instance) or of the
    // component's namespace (scope namespace). A cluster-scoped component
    // would be every pod of every namespace: still an error.
    bool labels_any = !c.labels_any.empty();
    for (size_t i = 0; i < c.labels_any.size(); ++i) {
      if (i > 0 || c.labels) {
        Error(DiagnosticKind::kDuplicateSetting, c.labels_any[i], "labels", "component");
      }
    }
    if (labels_any && out.scope != ir::Scope::kCluster) {
      // No labels of its own: its selector is the instance's labels (scope
      // instance) or empty (scope namespace).
    } else if (!c.labels || c.labels->entries.empty()) {
      Error(DiagnosticKind::kEmptySelector, c.name.loc, c.name.value,
            out.scope == ir::Scope::kInstance    ? " of the instance"
            : out.scope == ir::Scope::kNamespace ? " of its namespace"
                                                 : " in every namespace");
    } else if (out.scope == ir::Scope::kInstance) {
      for (const ir::LabelRef& own : out.labels) {
        for (const ir::LabelRef& shared : module_.InstanceOf(out.product).labels) {
          if (own.key == shared.key) {
            Error(DiagnosticKind::kInstanceLabelClash, own.loc, own.key);
            Error(DiagnosticKind::kInstanceLabelHere, shared.loc, shared.key);
          }
        }
      }
    }
    LowerPolicyItems(c, out);
    PropertyReader props(*this, "a component", {"name", "pod_label"});
    for (const ast::Property& p : c.properties) {
      if (std::string* slot = props.Slot(p, {&out.name, &out.pod_label})) *slot = p.value.value;
    }
    for (const ast::Note& n : c.notes) {
      out.notes.push_back({n.direction == ast::Direction::kEgress ? Direction::kEgress
                                                                  : Direction::kIngress,
                           n.text.value, n.loc});
    }
    std::unordered_map<std::string, SourceLoc> seen_rules;
    for (const ast::Rule& r : c.rules) {
      ir::Rule rule = LowerRule(r);
      // Rules with errors in their ports or peers are not compared.
      if (rule.ports.size() + rule.port_refs.size() + rule.named_ports.size() != r.ports.size() || rule.peers.size() != r.peers.size()) {
        out.rules.push_back(std::move(rule));
        continue;
      }
      std::string key = RuleKey(rule, r);
      auto [it, inserted] = seen_rules.emplace(std::move(key), rule.loc);
      if (!inserted) {
        Error(DiagnosticKind::kDuplicateRule, rule.loc,
              rule.direction == Direction::kIngress ? "ingress" : "egress", out.id);
        Error(DiagnosticKind::kPreviousRule, it->second);
      }
      out.rules.push_back(std::move(rule));
    }
  }

  ir::Rule LowerRule(const ast::Rule& r) {
    ir::Rule rule;
    rule.direction = r.direction == ast::Direction::kEgress ? Direction::kEgress : Direction::kIngress;
    rule.loc = r.loc;
    rule.loc.length = rule.direction == Direction::kIngress ? 7 : 6;
    rule.ports = LowerPorts(r.ports);
    LowerPortExtras(r.ports, rule.port_refs, rule.named_ports);
    rule.peers = LowerPeerList(r.peers, /*in_default=*/false);
    if (r.when) rule.when = LowerCondition(*r.when);
    // Documentation cells: `origin` for an ingress rule, `destination` and
    // `pod_label` for an egress rule (docs/markdown.md); `port_doc` words the
    // ports of either.
    bool ingress = rule.direction == Direction::kIngress;
    PropertyReader props(*this, ingress ? "an ingress rule" : "an egress rule",
                         ingress ? std::vector<std::string_view>{"reason", "doc", "origin", "port_doc"}
                                 : std::vector<std::string_view>{"reason", "doc", "destination",
                                                                 "pod_label", "port_doc"});
    std::vector<std::string*> slots =
        ingress ? std::vector<std::string*>{&rule.reason, &rule.doc, &rule.peer_cell, &rule.port_doc}
                : std::vector<std::string*>{&rule.reason, &rule.doc, &rule.peer_cell, &rule.label_cell,
                                            &rule.port_doc};
    for (const ast::Property& p : r.properties) {
      if (std::string* slot = props.Slot(p, slots)) {
        *slot = p.value.value;
      }
    }
    return rule;
  }

  // A key identifying what a rule admits under which condition, for
  // duplicate detection.
  static std::string RuleKey(const ir::Rule& rule, const ast::Rule& r) {
    std::string key = rule.direction == Direction::kIngress ? "I|" : "E|";
    for (const ir::PortRange& p : rule.ports) {
      fmt::format_to(std::back_inserter(key), "{}:{}-{},", static_cast<int>(p.protocol), p.first,
                     p.last);
    }
    std::vector<std::string> extras;
    for (const ir::PortRef& p : rule.port_refs) {
      auto end = [](const ir::ValueRef& v) {
        return v.kind == ir::ValueRef::Kind::kParam ? "$" + std::to_string(v.param) : v.literal;
      };
      extras.push_back(std::to_string(static_cast<int>(p.protocol)) + ":" + end(p.first) + "-" +
                       end(p.last));
    }
    for (const ir::NamedPort& p : rule.named_ports) {
      extras.push_back(std::to_string(static_cast<int>(p.protocol)) + ":'" + p.name);
    }
    std::sort(extras.begin(), extras.end());
    for (const std::string& e : extras) key += e + ",";
    key += "|";
    if (r.peers.size() == 1) {
      key += PeerKey(r.peers[0]);
      key += ',';
    } else {
      std::vector<std::string> peers;
      peers.reserve(r.peers.size());
      for (const ast::Peer& p : r.peers) peers.push_back(PeerKey(p));
      std::sort(peers.begin(), peers.end());
      peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
      for (const std::string& p : peers) {
        key += p;
        key += ',';
      }
    }
    key += "|";
    if (r.when) key += ConditionKey(*r.when);
    return key;
  }

  static std::string LabelMapKey(const ast::LabelMap& map) {
    std::vector<std::string> entries;
    for (const auto& e : map.entries) {
      if (e.op != ast::LabelEntry::Op::kEquals) {
        std::vector<std::string> values;
        for (const ast::Value& v : e.values) {
          values.push_back((v.kind == ast::Value::Kind::kParam ? "$" : "") + v.text);
        }
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        std::string entry = e.key.value + "?" + std::to_string(static_cast<int>(e.op));
        for (const std::string& v : values) entry += "'" + v;
        entries.push_back(std::move(entry));
        continue;
      }
      entries.push_back(e.key.value + "=" + (e.value.kind == ast::Value::Kind::kParam ? "$" : "") +
                        e.value.text);
    }
    std::sort(entries.begin(), entries.end());
    std::string key = "{";
    for (const auto& e : entries) key += e + ";";
    return key + "}";
  }

  static std::string PeerKey(const ast::Peer& p) {
    switch (p.kind) {
      case ast::Peer::Kind::kAnywhere:
        return "anywhere";
      case ast::Peer::Kind::kInstance:
        return "instance";
      case ast::Peer::Kind::kExternal:
        return "external";
      case ast::Peer::Kind::kCidr: {
        std::string key = "cidr:" + p.cidr.value;
        for (const auto& e : p.except) key += "!" + e.value;
        return key;
      }
      case ast::Peer::Kind::kPods: {
        std::string key = "pods:" + LabelMapKey(p.pods) + ":" + std::to_string(static_cast<int>(p.ns));
        if (p.ns == ast::Peer::Namespace::kNamed) key += ":" + p.ns_name.text;
        if (p.ns == ast::Peer::Namespace::kLabels) key += ":" + LabelMapKey(p.ns_labels);
        return key;
      }
      case ast::Peer::Kind::kParam:
        return "$" + p.name.value;
      case ast::Peer::Kind::kComponent:
        return "c:" + p.name.value;
      case ast::Peer::Kind::kKubeApiserver:
        return "kube_apiserver";
      case ast::Peer::Kind::kNodes:
        return "nodes";
    }
    return {};
  }

  // Bounded by the parser's nesting limit.
  static std::string ConditionKey(const ast::Condition& c) {
    switch (c.kind) {
      case ast::Condition::Kind::kTrue:
        return "T";
      case ast::Condition::Kind::kFalse:
        return "F";
      case ast::Condition::Kind::kFlag:
        return c.flag.value;
      case ast::Condition::Kind::kNot:
        return "!(" + ConditionKey(c.operands[0]) + ")";
      case ast::Condition::Kind::kAnd:
      case ast::Condition::Kind::kOr: {
        std::string key = c.kind == ast::Condition::Kind::kAnd ? "&(" : "|(";
        for (const auto& o : c.operands) key += ConditionKey(o) + ",";
        return key + ")";
      }
    }
    return {};
  }

  // --- Pieces ---------------------------------------------------------------

  std::vector<ir::PortRange> LowerPorts(const std::vector<ast::PortItem>& items) {
    std::vector<ir::PortRange> ports;
    for (const ast::PortItem& item : items) {
      if (item.name || item.first_param || item.last_param) continue;  // LowerPortExtras
      bool ok = true;
      if (item.first < 1 || item.first > 65535) {
        Error(DiagnosticKind::kPortOutOfRange, item.first_loc, item.first_text);
        ok = false;
      }
      if (item.last != item.first || item.last_loc != item.first_loc) {
        if (item.last < 1 || item.last > 65535) {
          Error(DiagnosticKind::kPortOutOfRange, item.last_loc, item.last_text);
          ok = false;
        } else if (ok && item.first > item.last) {
          Error(DiagnosticKind::kInvalidPortRange, item.loc, item.first, item.last);
          ok = false;
        }
      }
      if (ok) {
        ports.push_back({ProtocolOf(item.protocol), static_cast<uint16_t>(item.first),
                         static_cast<uint16_t>(item.last)});
      }
    }
    return ports;
  }

  // The ports of `items` that are named or use parameters.
  void LowerPortExtras(const std::vector<ast::PortItem>& items, std::vector<ir::PortRef>& refs,
                       std::vector<ir::NamedPort>& named) {
    for (const ast::PortItem& item : items) {
      if (item.name) {
        std::string error = CheckPortName(item.name->value);
        if (!error.empty()) {
          Error(DiagnosticKind::kInvalidPortName, item.name->loc, item.name->value, error);
          continue;
        }
        ir::NamedPort port{ProtocolOf(item.protocol), item.name->value};
        if (std::find(named.begin(), named.end(), port) == named.end()) named.push_back(port);
        continue;
      }
      if (!item.first_param && !item.last_param) continue;  // LowerPorts
      ir::PortRef ref;
      ref.protocol = ProtocolOf(item.protocol);
      ref.loc = item.loc;
      bool ok = true;
      auto end = [&](bool is_param, const std::string& text, uint64_t number, SourceLoc loc) {
        ir::ValueRef v;
        v.loc = loc;
        if (!is_param) {
          if (number < 1 || number > 65535) {
            Error(DiagnosticKind::kPortOutOfRange, loc, text);
            ok = false;
          }
          v.literal = text;
          return v;
        }
        v.kind = ir::ValueRef::Kind::kParam;
        auto it = params_.find(text);
        if (it == params_.end()) {
          Error(DiagnosticKind::kUnknownParam, loc, text, SuggestIfKept(text, params_));
          ok = false;
        } else if (module_.params[it->second].type != ir::ParamType::kInt) {
          Error(DiagnosticKind::kParamNotPort, loc, text,
                ParamTypeName(module_.params[it->second].type));
          ok = false;
        } else {
          v.param = it->second;
        }
        return v;
      };
      ref.first = end(item.first_param, item.first_text, item.first, item.first_loc);
      bool single = item.last_loc == item.first_loc;  // no range written
      ref.last = single ? ref.first : end(item.last_param, item.last_text, item.last, item.last_loc);
      if (ok) refs.push_back(std::move(ref));
    }
  }

  std::vector<PeerRef> LowerPeerList(const std::vector<ast::Peer>& peers, bool in_default) {
    std::vector<PeerRef> out;
    out.reserve(peers.size());
    for (const ast::Peer& p : peers) {
      if (std::optional<PeerRef> peer = LowerPeer(p, in_default)) out.push_back(std::move(*peer));
    }
    return out;
  }

  std::optional<PeerRef> LowerPeer(const ast::Peer& p, bool in_default) {
    SelectorScope selector(in_peer_);  // label maps here may hold requirements
    PeerRef peer;
    peer.loc = p.loc;
    switch (p.kind) {
      case ast::Peer::Kind::kAnywhere:
        peer.kind = PeerRef::Kind::kAnywhere;
        peer.loc.length = 8;
        break;
      case ast::Peer::Kind::kInstance:
        peer.kind = PeerRef::Kind::kInstance;
        peer.loc.length = 8;
        peer.product = ProductIndex(p.product);
        if (!p.product.empty()) peer.loc.length = static_cast<uint32_t>(p.product.size()) + 8;
        if (module_.InstanceOf(peer.product).labels.empty()) {
          Error(DiagnosticKind::kInstanceWithoutLabels, peer.loc);
          return std::nullopt;
        }
        break;
      case ast::Peer::Kind::kExternal:
        peer.kind = PeerRef::Kind::kExternal;
        peer.loc.length = 8;
        break;
      case ast::Peer::Kind::kCidr: {
        peer.kind = PeerRef::Kind::kCidr;
        std::string error;
        std::optional<Cidr> cidr = ParseCidr(p.cidr.value, error);
        if (!cidr) {
          Error(DiagnosticKind::kInvalidCidr, p.cidr.loc, p.cidr.value, error);
          return std::nullopt;
        }
        peer.cidr = cidr->text;
        for (const ast::Text& e : p.except) {
          std::optional<Cidr> inner = ParseCidr(e.value, error);
          if (!inner) {
            Error(DiagnosticKind::kInvalidCidr, e.loc, e.value, error);
            return std::nullopt;
          }
          if (!StrictlyInside(*inner, *cidr)) {
            Error(DiagnosticKind::kInvalidExcept, e.loc, e.value, p.cidr.value);
            return std::nullopt;
          }
          peer.except.push_back(inner->text);
        }
        break;
      }
      case ast::Peer::Kind::kPods:
        peer.kind = PeerRef::Kind::kPods;
        peer.product = ProductIndex(p.product);
        peer.pod_labels = LowerLabels(p.pods);
        switch (p.ns) {
          case ast::Peer::Namespace::kDefault:
            peer.ns = PeerRef::Namespace::kInstance;
            break;
          case ast::Peer::Namespace::kAny:
            peer.ns = PeerRef::Namespace::kAny;
            break;
          case ast::Peer::Namespace::kNamed:
            peer.ns = PeerRef::Namespace::kNamed;
            peer.ns_name = in_default ? LowerLiteralNamespace(p.ns_name)
                                      : LowerNamespaceValue(p.ns_name);
            break;
          case ast::Peer::Namespace::kLabels:
            peer.ns = PeerRef::Namespace::kLabels;
            peer.ns_labels = LowerLabels(p.ns_labels);
            peer.ns_exprs = LowerRequirements(p.ns_labels, in_default);
            break;
        }
        peer.pod_exprs = LowerRequirements(p.pods, in_default);
        break;
      case ast::Peer::Kind::kParam: {
        peer.kind = PeerRef::Kind::kParam;
        peer.loc = p.name.loc;  // the whole `$name` token
        if (in_default) {
          Error(in_setting_ ? DiagnosticKind::kParamInSetting : DiagnosticKind::kParamInDefault,
                peer.loc, p.name.value);
          return std::nullopt;
        }
        auto it = params_.find(p.name.value);
        if (it == params_.end()) {
          Error(DiagnosticKind::kUnknownParam, peer.loc, p.name.value, SuggestIfKept(p.name.value, params_));
          return std::nullopt;
        }
        const ir::Param& param = module_.params[it->second];
        if (param.type != ir::ParamType::kPeers) {
          Error(DiagnosticKind::kParamNotPeers, peer.loc, p.name.value, ParamTypeName(param.type));
          return std::nullopt;
        }
        peer.index = it->second;
        break;
      }
      case ast::Peer::Kind::kComponent: {
        peer.kind = PeerRef::Kind::kComponent;
        peer.loc = p.name.loc;
        auto it = components_.find(p.name.value);
        if (it == components_.end()) {
          Error(DiagnosticKind::kUnknownComponent, p.name.loc, p.name.value,
                SuggestIfKept(p.name.value, components_));
          return std::nullopt;
        }
        peer.index = it->second;
        break;
      }
      case ast::Peer::Kind::kKubeApiserver:
        peer.kind = PeerRef::Kind::kKubeApiserver;
        peer.loc.length = 14;
        break;
      case ast::Peer::Kind::kNodes:
        peer.kind = PeerRef::Kind::kNodes;
        peer.loc.length = 5;
        break;
    }
    return peer;
  }

  // --- Entities, policies, isolation -------------------------------------

  void LowerEntityPeers(const ast::File& file) {
    for (const ast::File::EntityPeers& e : file.entity_peers) {
      bool nodes = e.entity == ast::Peer::Kind::kNodes;
      const char* name = nodes ? "nodes" : "kube_apiserver";
      ir::Module::EntityPeers& out = nodes ? module_.nodes : module_.kube_apiserver;
      if (out.declared) {
        Error(DiagnosticKind::kDuplicateDeclaration, e.loc, name);
        Previous(out.loc);
        continue;
      }
      out.declared = true;
      out.loc = e.loc;
      out.loc.length = nodes ? 5 : 14;
      for (const ast::Peer& p : e.peers) {
        std::string_view what;
        switch (p.kind) {
          case ast::Peer::Kind::kCidr:
          case ast::Peer::Kind::kPods:
          case ast::Peer::Kind::kParam:
            break;
          case ast::Peer::Kind::kAnywhere:
            what = "'anywhere'";
            break;
          case ast::Peer::Kind::kInstance:
            what = "'instance'";
            break;
          case ast::Peer::Kind::kExternal:
            what = "'external'";
            break;
          case ast::Peer::Kind::kComponent:
            what = "a component";
            break;
          case ast::Peer::Kind::kKubeApiserver:
          case ast::Peer::Kind::kNodes:
            what = "another such peer";
            break;
        }
        if (!what.empty()) {
          Error(DiagnosticKind::kInvalidEntityPeer, p.kind == ast::Peer::Kind::kComponent ? p.name.loc : p.loc,
                name, what);
          continue;
        }
        if (std::optional<PeerRef> peer = LowerPeer(p, /*in_default=*/false)) {
          out.peers.push_back(std::move(*peer));
        }
      }
    }
  }

  void LowerPolicyItems(const ast::Component& c, ir::Component& out) {
    for (size_t i = 0; i < c.policies.size(); ++i) {
      const ast::Component::PolicyItem& p = c.policies[i];
      if (i > 0) {
        Error(DiagnosticKind::kDuplicateSetting, p.loc, "policy", "component");
        continue;
      }
      if (p.when) out.policy_when = LowerCondition(*p.when);
      if (!p.name) continue;
      out.policy_name_loc = p.name->loc;
      if (p.name->kind != ast::Value::Kind::kString) {
        Error(DiagnosticKind::kInvalidPolicyTemplate, p.name->loc, p.name->text,
              "a policy name is a string, in which {param} stands for a parameter's value");
        continue;
      }
      // Check the template: {param} names a string or int parameter.
      const std::string& text = p.name->text;
      bool ok = true;
      for (size_t k = 0; k < text.size() && ok; ++k) {
        if (text[k] == '}') {
          Error(DiagnosticKind::kInvalidPolicyTemplate, p.name->loc, text, "'}' without '{'");
          ok = false;
        } else if (text[k] == '{') {
          size_t close = text.find('}', k);
          if (close == std::string::npos) {
            Error(DiagnosticKind::kInvalidPolicyTemplate, p.name->loc, text, "'{' without '}'");
            ok = false;
            break;
          }
          std::string name = text.substr(k + 1, close - k - 1);
          auto it = params_.find(name);
          if (it == params_.end()) {
            Error(DiagnosticKind::kUnknownParam, p.name->loc, name, SuggestIfKept(name, params_));
            ok = false;
          } else if (module_.params[it->second].type == ir::ParamType::kPeers ||
                     module_.params[it->second].type == ir::ParamType::kCidrs) {
            Error(DiagnosticKind::kParamNotScalar, p.name->loc, name,
                  ParamTypeName(module_.params[it->second].type));
            ok = false;
          }
          k = close;
        }
      }
      if (ok) out.policy_name = text;
    }
    for (const ast::Component::Isolate& iso : c.isolates) {
      std::optional<ir::Condition>& slot =
          iso.direction == ast::Direction::kEgress ? out.isolate_egress : out.isolate_ingress;
      if (slot) {
        Error(DiagnosticKind::kDuplicateSetting, iso.loc,
              iso.direction == ast::Direction::kEgress ? "isolate egress" : "isolate ingress",
              "component");
        continue;
      }
      if (iso.when) {
        slot = LowerCondition(*iso.when);
      } else {
        slot = ir::Condition{};
        slot->loc = iso.loc;
      }
    }
  }

  ir::Condition LowerCondition(const ast::Condition& c) {
    ir::Condition out;
    out.loc = c.loc;
    AppendCondition(c, out);
    return out;
  }

  // Appends `c` (operands first) and returns its node index. Recursion depth
  // is bounded by the parser's nesting limit.
  uint32_t AppendCondition(const ast::Condition& c, ir::Condition& out) {
    ir::Condition::Node node;
    switch (c.kind) {
      case ast::Condition::Kind::kTrue:
        node.op = ir::Condition::Op::kTrue;
        break;
      case ast::Condition::Kind::kFalse:
        node.op = ir::Condition::Op::kFalse;
        break;
      case ast::Condition::Kind::kFlag: {
        node.op = ir::Condition::Op::kFlag;
        auto it = flags_.find(c.flag.value);
        if (it == flags_.end()) {
          Error(DiagnosticKind::kUnknownFlag, c.flag.loc, c.flag.value, SuggestIfKept(c.flag.value, flags_));
        } else {
          node.flag = it->second;
        }
        break;
      }
      case ast::Condition::Kind::kNot:
      case ast::Condition::Kind::kAnd:
      case ast::Condition::Kind::kOr:
        node.op = c.kind == ast::Condition::Kind::kNot   ? ir::Condition::Op::kNot
                  : c.kind == ast::Condition::Kind::kAnd ? ir::Condition::Op::kAnd
                                                         : ir::Condition::Op::kOr;
        for (const ast::Condition& operand : c.operands) {
          node.operands.push_back(AppendCondition(operand, out));
        }
        break;
    }
    out.nodes.push_back(std::move(node));
    return static_cast<uint32_t>(out.nodes.size() - 1);
  }

  static std::string_view RequirementText(ast::LabelEntry::Op op) {
    switch (op) {
      case ast::LabelEntry::Op::kIn:
        return "in";
      case ast::LabelEntry::Op::kNotIn:
        return "not in";
      case ast::LabelEntry::Op::kExists:
        return "exists";
      case ast::LabelEntry::Op::kDoesNotExist:
        return "not exists";
      case ast::LabelEntry::Op::kEquals:
        break;
    }
    return "";
  }

  // Set while lowering a peer, whose label maps select pods or namespaces
  // and so may hold requirements.
  struct SelectorScope {
    explicit SelectorScope(bool& flag) : flag_(flag), saved_(flag) { flag_ = true; }
    ~SelectorScope() { flag_ = saved_; }
    bool& flag_;
    bool saved_;
  };

  // The `key: value` entries of a label map. In a peer's selectors,
  // requirement entries are left to LowerRequirements; elsewhere (the labels
  // pods carry) they are errors.
  std::vector<ir::LabelRef> LowerLabels(const ast::LabelMap& map) {
    std::vector<ir::LabelRef> labels;
    std::unordered_set<std::string_view> keys;
    for (const ast::LabelEntry& e : map.entries) {
      std::string error = CheckLabelKey(e.key.value);
      if (!error.empty()) {
        Error(DiagnosticKind::kInvalidLabelKey, e.key.loc, e.key.value, error);
        continue;
      }
      if (!keys.insert(e.key.value).second) {
        Error(DiagnosticKind::kDuplicateLabel, e.key.loc, e.key.value);
        continue;
      }
      if (e.op != ast::LabelEntry::Op::kEquals) {
        if (!in_peer_) {
          Error(DiagnosticKind::kRequirementNotAllowed, e.op_loc, RequirementText(e.op),
                "component and instance");
        }
        continue;
      }
      ir::LabelRef label;
      label.key = e.key.value;
      label.loc = e.key.loc;
      label.value = LowerScalar(e.value);
      if (e.value.kind != ast::Value::Kind::kParam) {
        error = CheckLabelValue(e.value.text);
        if (!error.empty()) {
          Error(DiagnosticKind::kInvalidLabelValue, e.value.loc, e.value.text, error);
          continue;
        }
      }
      labels.push_back(std::move(label));
    }
    return labels;
  }

  // The requirement entries of a peer's label map (keys are checked by
  // LowerLabels). Values are label values, literal or from string parameters
  // (not in parameter defaults or --set values).
  std::vector<ir::RequirementRef> LowerRequirements(const ast::LabelMap& map, bool in_default) {
    std::vector<ir::RequirementRef> out;
    for (const ast::LabelEntry& e : map.entries) {
      if (e.op == ast::LabelEntry::Op::kEquals || !CheckLabelKey(e.key.value).empty()) continue;
      ir::RequirementRef r;
      r.key = e.key.value;
      r.loc = e.key.loc;
      switch (e.op) {
        case ast::LabelEntry::Op::kIn:
          r.op = ir::Requirement::Op::kIn;
          break;
        case ast::LabelEntry::Op::kNotIn:
          r.op = ir::Requirement::Op::kNotIn;
          break;
        case ast::LabelEntry::Op::kExists:
          r.op = ir::Requirement::Op::kExists;
          break;
        default:
          r.op = ir::Requirement::Op::kDoesNotExist;
          break;
      }
      for (const ast::Value& v : e.values) {
        if (v.kind == ast::Value::Kind::kParam && in_default) {
          SourceLoc loc = v.loc;
          loc.length = static_cast<uint32_t>(v.text.size()) + 1;
          Error(in_setting_ ? DiagnosticKind::kParamInSetting : DiagnosticKind::kParamInDefault, loc,
                v.text);
          continue;
        }
        if (v.kind != ast::Value::Kind::kParam) {
          std::string error = CheckLabelValue(v.text);
          if (!error.empty()) {
            Error(DiagnosticKind::kInvalidLabelValue, v.loc, v.text, error);
            continue;
          }
        }
        r.values.push_back(LowerScalar(v));
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  // A string, number, boolean or string/int parameter.
  ir::ValueRef LowerScalar(const ast::Value& v) {
    ir::ValueRef out;
    out.loc = v.loc;
    if (v.kind != ast::Value::Kind::kParam) {
      out.literal = v.text;
      return out;
    }
    out.kind = ir::ValueRef::Kind::kParam;
    out.loc.length = static_cast<uint32_t>(v.text.size()) + 1;
    auto it = params_.find(v.text);
    if (it == params_.end()) {
      Error(DiagnosticKind::kUnknownParam, out.loc, v.text, SuggestIfKept(v.text, params_));
    } else if (module_.params[it->second].type == ir::ParamType::kPeers ||
               module_.params[it->second].type == ir::ParamType::kCidrs) {
      Error(DiagnosticKind::kParamNotScalar, out.loc, v.text,
            ParamTypeName(module_.params[it->second].type));
    } else {
      out.param = it->second;
    }
    return out;
  }

  ir::ValueRef LowerNamespaceValue(const ast::Value& v) {
    ir::ValueRef out = LowerScalar(v);
    if (out.kind == ir::ValueRef::Kind::kLiteral) {
      std::string error = CheckDns1123Label(out.literal);
      if (!error.empty()) Error(DiagnosticKind::kInvalidNamespace, v.loc, out.literal, error);
    }
    return out;
  }

  ir::ValueRef LowerLiteralNamespace(const ast::Value& v) {
    if (v.kind == ast::Value::Kind::kParam) {
      SourceLoc loc = v.loc;
      loc.length = static_cast<uint32_t>(v.text.size()) + 1;
      Error(in_setting_ ? DiagnosticKind::kParamInSetting : DiagnosticKind::kParamInDefault, loc,
            v.text);
      return {};
    }
    return LowerNamespaceValue(v);
  }

  // Reads `key "value";` properties, reporting unknown and repeated keys.
  class PropertyReader {
   public:
    PropertyReader(Lowerer& lowerer, std::string_view what, std::vector<std::string_view> keys)
        : lowerer_(lowerer), what_(what), keys_(std::move(keys)) {}

    // The slot for p's key (slots are given in the order of `keys`), or
    // nullptr after reporting an error.
    std::string* Slot(const ast::Property& p, std::vector<std::string*> slots) {
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (p.key.value != keys_[i]) continue;
        if (!seen_.insert(keys_[i]).second) {
          lowerer_.Error(DiagnosticKind::kDuplicateProperty, p.key.loc, p.key.value);
          return nullptr;
        }
        return slots[i];
      }
      std::string expected;
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (i > 0) expected += i + 1 == keys_.size() ? " or " : ", ";
        expected += keys_[i];
      }
      lowerer_.Error(DiagnosticKind::kUnknownProperty, p.key.loc, p.key.value, what_, expected);
      return nullptr;
    }

   private:
    Lowerer& lowerer_;
    std::string_view what_;
    std::vector<std::string_view> keys_;
    std::unordered_set<std::string_view> seen_;
  };

  Diagnostics& diagnostics_;
  ir::Module module_;
  std::unordered_map<std::string, uint32_t> params_, flags_, components_, products_;
  std::vector<int64_t> component_ast_index_;
  bool in_setting_ = false;  // lowering a --set value
  bool in_peer_ = false;     // lowering a peer (SelectorScope)
};

std::optional<ir::Module> Lower(const ast::File& file, Diagnostics& diagnostics) {
  Lowerer lowerer(diagnostics);
  return lowerer.LowerFile(file);
}

// A Lowerer for component bodies on another thread, with its own
// diagnostics.
struct PieceLowerer::Worker {
  Diagnostics diagnostics;
  std::unique_ptr<Lowerer> lowerer;
};

PieceLowerer::PieceLowerer(Diagnostics& diagnostics)
    : lowerer_(std::make_unique<Lowerer>(diagnostics)) {}

PieceLowerer::~PieceLowerer() = default;

bool PieceLowerer::LowerHeader(const ast::File& header,
                               const std::vector<std::string>& component_names,
                               const std::vector<DuplicateComponent>* duplicates) {
  if (!lowerer_->LowerHeader(header, component_names, duplicates)) return false;
  names_ = &component_names;
  return true;
}

bool PieceLowerer::LowerComponentAside(size_t index, const ast::Component& component,
                                       ir::Component& out, Diagnostics* report) {
  if (names_ == nullptr || index >= names_->size() || (*names_)[index] != component.name.value ||
      !component.product.empty()) {
    return false;
  }
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      worker = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!worker) {
    worker = std::make_unique<Worker>();
    worker->lowerer = std::make_unique<Lowerer>(*lowerer_, worker->diagnostics);
  }
  worker->lowerer->LowerComponentInto(component, out);
  // Anything reported sends the file to the whole-file path, which reports
  // it in order.
  bool ok = worker->diagnostics.all().empty();
  if (!ok) {
    if (report != nullptr) report->Append(worker->diagnostics);
    worker->diagnostics = Diagnostics();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(worker));
  return ok;
}

void PieceLowerer::SetComponent(size_t index, ir::Component&& component) {
  lowerer_->SetComponent(index, std::move(component));
}

ir::Module PieceLowerer::TakeModule() { return lowerer_->TakeModule(); }

ir::Module& PieceLowerer::module() { return lowerer_->module(); }

std::optional<std::vector<ir::PeerRef>> LowerPeerList(const std::vector<ast::Peer>& peers,
                                                      const ir::Module& module,
                                                      Diagnostics& diagnostics) {
  Lowerer lowerer(diagnostics);
  lowerer.IndexModule(module);
  return lowerer.LowerPeers(peers);
}

}  // namespace netpolc
