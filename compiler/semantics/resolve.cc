#include "compiler/semantics/resolve.h"

#include <algorithm>

namespace netpolc {

using ir::PeerRef;

Resolver::Resolver(const ir::Module& module, const ir::Config& config, Check check)
    : module_(module), config_(config), check_(std::move(check)) {
  instance_ns_ = module_.instance.ns ? Namespace(*module_.instance.ns) : "default";
  instance_labels_ = Labels(module_.instance.labels);
  product_ns_.push_back(instance_ns_);
  product_labels_.push_back(instance_labels_);
  for (const ir::Module::Product& product : module_.products) {
    product_ns_.push_back(product.instance.ns ? Namespace(*product.instance.ns) : "default");
    product_labels_.push_back(Labels(product.instance.labels));
  }
  size_t n = module_.components.size();
  selectors_.resize(n);
  namespaces_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const ir::Component& c = module_.components[i];
    selectors_[i] = Labels(c.labels);
    if (c.scope == ir::Scope::kInstance) {
      const std::vector<ir::Label>& shared = ProductLabels(c.product);
      selectors_[i].insert(selectors_[i].end(), shared.begin(), shared.end());
      std::sort(selectors_[i].begin(), selectors_[i].end());
    }
    namespaces_[i] = c.ns ? Namespace(*c.ns) : ProductNamespace(c.product);
  }
}

std::string Resolver::Value(const ir::ValueRef& ref) const {
  if (ref.kind == ir::ValueRef::Kind::kLiteral) return ref.literal;
  if (ref.param >= config_.params.size()) return {};
  return config_.params[ref.param].text;
}

std::string Resolver::Namespace(const ir::ValueRef& ref) const {
  std::string ns = Value(ref);
  if (check_ && ref.kind == ir::ValueRef::Kind::kParam) check_(ref, ns, Use::kNamespace);
  return ns;
}

std::vector<ir::Label> Resolver::Labels(const std::vector<ir::LabelRef>& refs) const {
  std::vector<ir::Label> labels;
  labels.reserve(refs.size());
  for (const ir::LabelRef& ref : refs) {
    std::string value = Value(ref.value);
    if (check_ && ref.value.kind == ir::ValueRef::Kind::kParam) {
      check_(ref.value, value, Use::kLabelValue);
    }
    labels.push_back({ref.key, std::move(value)});
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::vector<ir::Requirement> Resolver::Requirements(
    const std::vector<ir::RequirementRef>& refs) const {
  std::vector<ir::Requirement> out;
  out.reserve(refs.size());
  for (const ir::RequirementRef& ref : refs) {
    ir::Requirement r;
    r.key = ref.key;
    r.op = ref.op;
    for (const ir::ValueRef& v : ref.values) {
      std::string value = Value(v);
      if (check_ && v.kind == ir::ValueRef::Kind::kParam) check_(v, value, Use::kLabelValue);
      r.values.push_back(std::move(value));
    }
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<ir::PortRange> Resolver::Port(const ir::PortRef& ref, PortProblem* problem) const {
  PortProblem local;
  PortProblem& p = problem != nullptr ? *problem : local;
  int64_t ends[2] = {0, 0};
  const ir::ValueRef* refs[2] = {&ref.first, &ref.last};
  for (int i = 0; i < 2; ++i) {
    const ir::ValueRef& v = *refs[i];
    int64_t n = 0;
    if (v.kind == ir::ValueRef::Kind::kLiteral) {
      n = v.literal.size() > 6 ? 0 : std::stoll(v.literal.empty() ? "0" : v.literal);
    } else {
      if (v.param >= config_.params.size() || config_.params[v.param].missing) {
        p = {PortProblem::Kind::kMissing, &v, 0, 0, 0};
        return std::nullopt;
      }
      n = config_.params[v.param].integer;
    }
    if (n < 1 || n > 65535) {
      p = {PortProblem::Kind::kOutOfRange, &v, n, 0, 0};
      return std::nullopt;
    }
    ends[i] = n;
  }
  if (ends[0] > ends[1]) {
    p = {PortProblem::Kind::kEmpty, nullptr, 0, ends[0], ends[1]};
    return std::nullopt;
  }
  return ir::PortRange{ref.protocol, static_cast<uint16_t>(ends[0]), static_cast<uint16_t>(ends[1])};
}

void Resolver::AppendPeers(const PeerRef& ref, std::vector<ir::Peer>& out) const {
  ir::Peer peer;
  switch (ref.kind) {
    case PeerRef::Kind::kAnywhere:
      peer.kind = ir::Peer::Kind::kAnywhere;
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kInstance:
      peer.kind = ir::Peer::Kind::kPods;
      peer.ns_match = ir::NamespaceMatch::kNamed;
      peer.ns = ProductNamespace(ref.product);
      peer.pod_labels = ProductLabels(ref.product);
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kExternal:
      peer.kind = ir::Peer::Kind::kIpBlock;
      peer.cidr = "0.0.0.0/0";
      out.push_back(peer);
      peer.cidr = "::/0";
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kCidr:
      peer.kind = ir::Peer::Kind::kIpBlock;
      peer.cidr = ref.cidr;
      peer.except = ref.except;
      std::sort(peer.except.begin(), peer.except.end());
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kPods:
      peer.kind = ir::Peer::Kind::kPods;
      peer.pod_labels = Labels(ref.pod_labels);
      peer.pod_exprs = Requirements(ref.pod_exprs);
      switch (ref.ns) {
        case PeerRef::Namespace::kInstance:
          peer.ns_match = ir::NamespaceMatch::kNamed;
          peer.ns = ProductNamespace(ref.product);
          break;
        case PeerRef::Namespace::kNamed:
          peer.ns_match = ir::NamespaceMatch::kNamed;
          peer.ns = Namespace(ref.ns_name);
          break;
        case PeerRef::Namespace::kAny:
          peer.ns_match = ir::NamespaceMatch::kAny;
          break;
        case PeerRef::Namespace::kLabels:
          peer.ns_match = ir::NamespaceMatch::kLabels;
          peer.ns_labels = Labels(ref.ns_labels);
          peer.ns_exprs = Requirements(ref.ns_exprs);
          break;
      }
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kComponent: {
      if (ref.index >= module_.components.size()) return;
      peer.kind = ir::Peer::Kind::kPods;
      peer.pod_labels = selectors_[ref.index];
      if (module_.components[ref.index].scope == ir::Scope::kCluster) {
        peer.ns_match = ir::NamespaceMatch::kAny;
      } else {
        peer.ns_match = ir::NamespaceMatch::kNamed;
        peer.ns = namespaces_[ref.index];
      }
      out.push_back(std::move(peer));
      return;
    }
    case PeerRef::Kind::kParam:
      return;
    case PeerRef::Kind::kKubeApiserver:
      peer.kind = ir::Peer::Kind::kKubeApiserver;
      out.push_back(std::move(peer));
      return;
    case PeerRef::Kind::kNodes:
      peer.kind = ir::Peer::Kind::kNodes;
      out.push_back(std::move(peer));
      return;
  }
}

}  // namespace netpolc
