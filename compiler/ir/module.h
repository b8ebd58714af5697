// The module: a checked, name-resolved rules file, still symbolic (conditions
// and parameters unevaluated). Produced by Lower (compiler/frontend/lower.h); the
// documentation backends read it, and Instantiate (compiler/semantics/instantiate.h)
// evaluates it for one configuration into a PolicySet (policy.h).
//
// Plain value types: indices refer into the vectors of Module.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/types.h"
#include "compiler/source.h"

namespace netpolc::ir {

// A string that is either written literally or taken from a parameter.
struct ValueRef {
  enum class Kind : uint8_t { kLiteral, kParam };
  Kind kind = Kind::kLiteral;
  std::string literal;
  uint32_t param = 0;
  SourceLoc loc;
};

struct LabelRef {
  std::string key;
  ValueRef value;
  SourceLoc loc;
};

// A selector requirement as written: `"key": in ["a", $b]`.
struct RequirementRef {
  std::string key;
  Requirement::Op op = Requirement::Op::kExists;
  std::vector<ValueRef> values;
  SourceLoc loc;
};

// A port or range given (at least in part) by int parameters: `$port`,
// `$first-$last`, `8000-$last`. Literal ends hold their digits.
struct PortRef {
  Protocol protocol = Protocol::kTcp;
  ValueRef first;
  ValueRef last;
  SourceLoc loc;
};

// A boolean expression over flags, stored as a flat list of nodes; operands
// precede the nodes that use them and the root is the last node. An empty
// condition is `true`.
struct Condition {
  enum class Op : uint8_t { kTrue, kFalse, kFlag, kNot, kAnd, kOr };
  struct Node {
    Op op = Op::kTrue;
    uint32_t flag = 0;                // kFlag
    std::vector<uint32_t> operands;   // kNot, kAnd, kOr: node indices
  };
  std::vector<Node> nodes;
  SourceLoc loc;

  bool always() const { return nodes.empty(); }
  // Evaluates against flag values indexed like Module::flags.
  bool Evaluate(const std::vector<bool>& flags) const;
};

// `a and b` (either may be `true`, the empty condition).
Condition AndConditions(const Condition& a, const Condition& b);

// When a component's policy is deployed and isolates the side `direction`
// (so that its rules of that direction are in force): `policy when` and the
// side's `isolate` condition (without one, `true` when the component has
// rules of that direction, else `false`). Its own `when` is not included.
struct Component;
Condition SideCondition(const Component& component, Direction direction);

// A peer as written: resolved to components and parameters, not yet to
// selectors.
struct PeerRef {
  enum class Kind : uint8_t {
    kAnywhere,   // every source or destination, in or outside the cluster
    kInstance,   // every pod of the instance
    kExternal,   // every address (0.0.0.0/0 and ::/0)
    kCidr,       // an address block
    kPods,       // pods by labels, in a namespace scope
    kComponent,  // a component of this module
    kParam,      // a peers parameter
    kKubeApiserver,  // the Kubernetes API server
    kNodes,          // the cluster's nodes and the pods on their host network
  };
  enum class Namespace : uint8_t {
    kInstance,  // the instance's namespace (default for kPods)
    kAny,
    kNamed,
    kLabels,
  };
  Kind kind = Kind::kAnywhere;
  uint32_t index = 0;  // kComponent: component; kParam: parameter
  std::string cidr;
  std::vector<std::string> except;
  std::vector<LabelRef> pod_labels;
  Namespace ns = Namespace::kInstance;
  ValueRef ns_name;
  std::vector<LabelRef> ns_labels;
  std::vector<RequirementRef> pod_exprs;  // kPods: requirements beside pod_labels
  std::vector<RequirementRef> ns_exprs;   // kPods, Namespace::kLabels
  SourceLoc loc;
  // The product whose instance kInstance means, and whose namespace kPods
  // with Namespace::kInstance means: 0 for the file being compiled, i for
  // Module::products[i - 1].
  uint32_t product = 0;
};

struct Rule {
  Direction direction = Direction::kIngress;
  std::vector<PortRange> ports;  // canonical: sorted, merged
  std::vector<PeerRef> peers;
  Condition when;
  std::string reason;  // documentation: why the connection exists
  std::string doc;     // documentation: wording of the peers, overriding the default
  SourceLoc loc;
  // Documentation: the whole Origin (ingress) or Destination (egress) cell,
  // and the Pod Label cell (egress), overriding the layout's wording.
  std::string peer_cell;
  std::string label_cell;
  std::vector<PortRef> port_refs;      // ports from parameters, resolved per configuration
  std::vector<NamedPort> named_ports;  // container port names
  std::string port_doc;  // documentation: wording of the ports (e.g. "User Supplied")
};

struct Note {
  Direction direction = Direction::kIngress;
  std::string text;
  SourceLoc loc;
};

enum class Scope : uint8_t {
  kInstance,  // part of the instance: carries the instance labels, lives in its namespace
  kCluster,   // one per cluster, may run in any namespace
  kNamespace,  // outside the instance: its own labels only, in its namespace
};

struct Component {
  std::string id;
  std::string name;  // display name (headings, tables); defaults to id
  std::vector<LabelRef> labels;
  Scope scope = Scope::kInstance;
  std::optional<ValueRef> ns;  // where its pods and its policy live
  Condition when;
  std::vector<Rule> rules;
  std::vector<Note> notes;
  SourceLoc loc;
  // Documentation: how the component's pods read in Pod Label cells (default:
  // its first label, key=value).
  std::string pod_label;
  bool has_ingress() const;
  bool has_egress() const;
  // `policy "NAME" when COND;`: the policy's name (a template in which
  // {param} stands for a string parameter's value; empty for PREFIX-ID) and
  // the configurations in which the policy is deployed (the pods exist
  // whatever it says).
  std::string policy_name;
  SourceLoc policy_name_loc;
  Condition policy_when;
  // `isolate ingress|egress [when COND];`: when the policy isolates each
  // side. Without it a side is isolated when the component has rules of
  // that direction.
  std::optional<Condition> isolate_ingress;
  std::optional<Condition> isolate_egress;
  // The product it belongs to (see PeerRef::product): its instance's labels,
  // namespace and policy-name prefix apply.
  uint32_t product = 0;
  // Set when the component's rules and notes are not held (a build that
  // streams a large file, compile_pieces.h): whether it has rules of each
  // direction. Its other fields are all there.
  struct DroppedRules {
    bool ingress = false;
    bool egress = false;
  };
  std::optional<DroppedRules> dropped_rules;
  // Whether the policy isolates each side, and whether it exists at all
  // (it does when it isolates a side and policy_when holds), for flag
  // values indexed like Module::flags. The component's own `when` is not
  // included.
  bool IsolatesIngress(const std::vector<bool>& flags) const;
  bool IsolatesEgress(const std::vector<bool>& flags) const;
  bool HasPolicy(const std::vector<bool>& flags) const;
};

struct Flag {
  std::string name;
  bool default_value = false;
  std::string doc;       // wording in documentation, e.g. "internal TLS"
  std::string link;      // documentation link
  std::string enabled;   // sentence template when on;  "{doc}" is the linked doc
  std::string disabled;  // sentence template when off
  SourceLoc loc;
};

// kCidrs: a list of address blocks (`param pod_networks: cidrs = "10.128.0.0/14";`).
enum class ParamType : uint8_t { kString, kInt, kPeers, kCidrs };

struct ParamValue {
  std::string text;  // kString; kInt in decimal
  int64_t integer = 0;
  std::vector<PeerRef> peers;  // kPeers
  std::vector<std::string> cidrs;  // kCidrs: canonical CIDR texts, sorted, none inside another
  // No value: an int parameter declared without a default and not set. Using
  // it is an error (param-not-set).
  bool missing = false;
};

struct Param {
  std::string name;
  ParamType type = ParamType::kString;
  ParamValue default_value;
  SourceLoc loc;
};

struct Instance {
  std::optional<ValueRef> ns;      // default namespace "default"
  std::optional<ValueRef> prefix;  // policy-name prefix
  std::vector<LabelRef> labels;    // carried by every pod of the instance
  std::string name;                // display name in documentation
  SourceLoc loc;
};

struct Dns {
  bool enabled = true;
  std::vector<PortRange> ports;
  std::vector<PeerRef> peers;
  SourceLoc loc;  // invalid for the built-in default
  std::vector<PortRef> port_refs;
  std::vector<NamedPort> named_ports;
};

struct Module {
  std::vector<Param> params;
  std::vector<Flag> flags;
  Instance instance;
  Dns dns;
  std::vector<Component> components;
  // `kube_apiserver = PEERS;` and `nodes = PEERS;`: what targets without
  // these identities (k8s, calico) write for them.
  struct EntityPeers {
    bool declared = false;
    std::vector<PeerRef> peers;
    SourceLoc loc;
  };
  EntityPeers kube_apiserver;
  EntityPeers nodes;
  // Products imported `as NAME`: their declarations are named NAME.x; each
  // has its own instance.
  struct Product {
    std::string name;  // "gw" (nested: "gw.sub")
    Instance instance;
  };
  std::vector<Product> products;
  // The instance of product `p` (0: the file being compiled).
  const Instance& InstanceOf(uint32_t p) const {
    return p == 0 || p > products.size() ? instance : products[p - 1].instance;
  }

  std::optional<uint32_t> FindParam(std::string_view name) const;
  std::optional<uint32_t> FindFlag(std::string_view name) const;
  std::optional<uint32_t> FindComponent(std::string_view name) const;
};

// Values for one configuration: flags and parameters by index.
struct Config {
  std::vector<bool> flags;
  std::vector<ParamValue> params;
  // The defaults of a module.
  static Config Defaults(const Module& module);
};

}  // namespace netpolc::ir
