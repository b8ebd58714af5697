#include <algorithm>

#include "compiler/ir/module.h"
#include "compiler/ir/types.h"

namespace netpolc::ir {

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
  }
  return "TCP";
}

std::vector<PortRange> NormalisePorts(std::vector<PortRange> ports) {
  std::sort(ports.begin(), ports.end());
  std::vector<PortRange> out;
  for (const PortRange& p : ports) {
    if (!out.empty() && out.back().protocol == p.protocol && out.back().last >= p.first) {
      out.back().last = std::max(out.back().last, p.last);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::string_view RequirementOpName(Requirement::Op op) {
  switch (op) {
    case Requirement::Op::kIn:
      return "In";
    case Requirement::Op::kNotIn:
      return "NotIn";
    case Requirement::Op::kExists:
      return "Exists";
    case Requirement::Op::kDoesNotExist:
      return "DoesNotExist";
  }
  return "Exists";
}

bool Condition::Evaluate(const std::vector<bool>& flags) const {
  if (nodes.empty()) return true;
  // Operands precede their users, so one forward pass evaluates every node.
  std::vector<bool> values(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    switch (node.op) {
      case Op::kTrue:
        values[i] = true;
        break;
      case Op::kFalse:
        values[i] = false;
        break;
      case Op::kFlag:
        values[i] = node.flag < flags.size() && flags[node.flag];
        break;
      case Op::kNot:
        values[i] = !values[node.operands.at(0)];
        break;
      case Op::kAnd:
        values[i] = std::all_of(node.operands.begin(), node.operands.end(),
                                [&](uint32_t o) { return values[o]; });
        break;
      case Op::kOr:
        values[i] = std::any_of(node.operands.begin(), node.operands.end(),
                                [&](uint32_t o) { return values[o]; });
        break;
    }
  }
  return values.back();
}

bool Component::has_ingress() const {
  if (dropped_rules) return dropped_rules->ingress;
  return std::any_of(rules.begin(), rules.end(), [](const Rule& r) {
    return r.direction == Direction::kIngress;
  });
}

bool Component::has_egress() const {
  if (dropped_rules) return dropped_rules->egress;
  return std::any_of(rules.begin(), rules.end(), [](const Rule& r) {
    return r.direction == Direction::kEgress;
  });
}

bool Component::IsolatesIngress(const std::vector<bool>& flags) const {
  return isolate_ingress ? isolate_ingress->Evaluate(flags) : has_ingress();
}

bool Component::IsolatesEgress(const std::vector<bool>& flags) const {
  return isolate_egress ? isolate_egress->Evaluate(flags) : has_egress();
}

bool Component::HasPolicy(const std::vector<bool>& flags) const {
  return policy_when.Evaluate(flags) && (IsolatesIngress(flags) || IsolatesEgress(flags));
}

Condition AndConditions(const Condition& a, const Condition& b) {
  if (a.always()) return b;
  if (b.always()) return a;
  Condition out = a;
  uint32_t offset = static_cast<uint32_t>(a.nodes.size());
  for (Condition::Node node : b.nodes) {
    for (uint32_t& o : node.operands) o += offset;
    out.nodes.push_back(std::move(node));
  }
  Condition::Node both;
  both.op = Condition::Op::kAnd;
  both.operands = {offset - 1, static_cast<uint32_t>(out.nodes.size() - 1)};
  out.nodes.push_back(std::move(both));
  return out;
}

Condition SideCondition(const Component& component, Direction direction) {
  const std::optional<Condition>& isolate =
      direction == Direction::kIngress ? component.isolate_ingress : component.isolate_egress;
  Condition side;
  if (isolate) {
    side = *isolate;
  } else if (!(direction == Direction::kIngress ? component.has_ingress()
                                                : component.has_egress())) {
    side.nodes.push_back({Condition::Op::kFalse, 0, {}});
  }
  return AndConditions(component.policy_when, side);
}

namespace {
template <typename T>
std::optional<uint32_t> FindByName(const std::vector<T>& items,
                                   std::string_view name,
                                   std::string T::*field) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].*field == name) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}
}  // namespace

std::optional<uint32_t> Module::FindParam(std::string_view name) const {
  return FindByName(params, name, &Param::name);
}
std::optional<uint32_t> Module::FindFlag(std::string_view name) const {
  return FindByName(flags, name, &Flag::name);
}
std::optional<uint32_t> Module::FindComponent(std::string_view name) const {
  return FindByName(components, name, &Component::id);
}

Config Config::Defaults(const Module& module) {
  Config config;
  for (const Flag& flag : module.flags) config.flags.push_back(flag.default_value);
  for (const Param& param : module.params) config.params.push_back(param.default_value);
  return config;
}

}  // namespace netpolc::ir
