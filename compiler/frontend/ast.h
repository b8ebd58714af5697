// The abstract syntax tree of a rules file: what the user wrote, with
// positions, before any name is resolved. Built by Parse (parse.h), consumed
// by Lower (lower.h). Plain value types; no ANTLR types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/source.h"

namespace netpolc::ast {

// An identifier or a decoded string literal, with its position.
struct Text {
  std::string value;
  SourceLoc loc;
};

struct Value {
  enum class Kind : uint8_t { kString, kInt, kParam, kBool };
  Kind kind = Kind::kString;
  std::string text;   // string contents, parameter name or the integer digits
  bool boolean = false;
  SourceLoc loc;
};

struct LabelEntry {
  Text key;
  Value value;  // kEquals
  // A requirement instead of `key: value` (selectors of peers only):
  // `in [...]`, `not in [...]`, `exists`, `not exists`.
  enum class Op : uint8_t { kEquals, kIn, kNotIn, kExists, kDoesNotExist };
  Op op = Op::kEquals;
  std::vector<Value> values;  // kIn, kNotIn
  SourceLoc op_loc;           // the operator (`in`, `not`, `exists`)
};

struct LabelMap {
  std::vector<LabelEntry> entries;
  SourceLoc loc;
};

enum class Protocol : uint8_t { kTcp, kUdp, kSctp };

struct PortItem {
  Protocol protocol = Protocol::kTcp;
  uint64_t first = 0;  // saturated at UINT32_MAX for absurd literals
  uint64_t last = 0;   // == first when no range was written
  std::string first_text, last_text;  // the digits as written
  SourceLoc loc;
  SourceLoc first_loc, last_loc;
  // `$param` in place of the first or last port (first_text / last_text
  // then hold the parameter's name).
  bool first_param = false, last_param = false;
  // A container port's name (`https`, `"http-metrics"`) instead of numbers.
  std::optional<Text> name;
};

struct Peer {
  enum class Kind : uint8_t {
    kAnywhere,
    kInstance,
    kExternal,
    kCidr,
    kPods,
    kParam,
    kComponent,
    kKubeApiserver,  // the Kubernetes API server
    kNodes,          // the cluster's nodes and host-network pods
  };
  enum class Namespace : uint8_t { kDefault, kAny, kNamed, kLabels };
  Kind kind = Kind::kAnywhere;
  Text name;                  // kParam, kComponent
  Text cidr;                  // kCidr
  std::vector<Text> except;   // kCidr
  LabelMap pods;              // kPods
  Namespace ns = Namespace::kDefault;  // kPods
  Value ns_name;              // kPods, Namespace::kNamed
  LabelMap ns_labels;         // kPods, Namespace::kLabels
  SourceLoc loc;
  // The product (`import ... as NAME`) whose instance a kInstance peer, or
  // a kPods peer in the instance's namespace, means: "" for the file being
  // compiled, else the alias path with a trailing dot ("gw.").
  std::string product;
};

// A condition: `flag`, `not c`, `a and b`, `a or b`, `true`, `false`.
struct Condition {
  enum class Kind : uint8_t { kTrue, kFalse, kFlag, kNot, kAnd, kOr };
  Kind kind = Kind::kTrue;
  Text flag;                        // kFlag
  std::vector<Condition> operands;  // kNot (1), kAnd / kOr (2 or more)
  SourceLoc loc;
};

struct Property {
  Text key;
  Text value;
};

enum class Direction : uint8_t { kIngress, kEgress };

struct Rule {
  Direction direction = Direction::kIngress;
  std::vector<PortItem> ports;
  std::vector<Peer> peers;
  std::optional<Condition> when;
  std::vector<Property> properties;
  SourceLoc loc;  // the `ingress` / `egress` keyword
};

struct Note {
  Direction direction = Direction::kIngress;
  Text text;
  SourceLoc loc;
};

struct Component {
  Text name;
  std::optional<Condition> when;
  std::optional<LabelMap> labels;
  std::vector<LabelMap> extra_labels;  // repeated `labels` items (an error)
  enum class Scope : uint8_t { kInstance, kCluster, kNamespace };
  std::optional<Scope> scope;
  SourceLoc scope_loc;
  std::vector<Value> namespaces;  // more than one is an error
  std::vector<Rule> rules;
  std::vector<Note> notes;
  std::vector<Property> properties;
  SourceLoc loc;
  // `policy ["name"] [when COND];` items (more than one is an error).
  struct PolicyItem {
    std::optional<Value> name;
    std::optional<Condition> when;
    SourceLoc loc;
  };
  std::vector<PolicyItem> policies;
  // `isolate ingress|egress [when COND];` items.
  struct Isolate {
    Direction direction = Direction::kIngress;
    std::optional<Condition> when;
    SourceLoc loc;
  };
  std::vector<Isolate> isolates;
  std::string product;  // see Peer::product
  // `labels any;` items: the component is every pod of its scope (the first
  // one counts; more, or beside `labels {...}`, are errors).
  std::vector<SourceLoc> labels_any;
};

struct Param {
  Text name;
  Text type;
  std::optional<Value> default_value;        // scalar default
  std::optional<std::vector<Peer>> default_peers;  // peer-list default
  SourceLoc loc;
};

struct Flag {
  Text name;
  std::optional<bool> default_value;
  std::vector<Property> properties;
  SourceLoc loc;
};

struct Setting {
  Text key;
  Value value;
};

struct Instance {
  std::vector<Value> namespaces;
  std::vector<LabelMap> labels;
  std::vector<Setting> settings;  // prefix $instance; name "...";
  SourceLoc loc;
  std::string product;  // see Peer::product
};

struct Dns {
  bool off = false;
  std::vector<PortItem> ports;
  std::vector<Peer> peers;
  SourceLoc loc;
};

struct File {
  uint32_t file_id = SourceLoc::kNoFile;
  std::vector<Param> params;
  std::vector<Flag> flags;
  std::vector<Instance> instances;  // more than one is an error
  std::vector<Dns> dns;             // more than one is an error
  std::vector<Component> components;
  // `import "path";` (resolved by the front end, which merges the files).
  std::vector<Text> imports;
  std::vector<Text> import_aliases;  // parallel to imports; empty value: none
  // `kube_apiserver = PEERS;` / `nodes = PEERS;`
  struct EntityPeers {
    Peer::Kind entity = Peer::Kind::kKubeApiserver;  // kKubeApiserver or kNodes
    std::vector<Peer> peers;
    SourceLoc loc;
  };
  std::vector<EntityPeers> entity_peers;
};

}  // namespace netpolc::ast
