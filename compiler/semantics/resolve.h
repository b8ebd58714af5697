// Resolution of a module's symbolic values for one configuration: parameter
// values, labels, namespaces, component selectors, and the policy-IR peers a
// peer stands for. Shared by instantiation (compiler/semantics/instantiate) and the
// analysis model (compiler/analysis) so that both mean the same by every
// peer.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/module.h"
#include "compiler/ir/policy.h"

namespace netpolc {

class Resolver {
 public:
  // How a value taken from a parameter is used, for validation.
  enum class Use { kLabelValue, kNamespace };
  // Called for every value taken from a parameter where it is used.
  using Check = std::function<void(const ir::ValueRef& ref, const std::string& value, Use use)>;

  Resolver(const ir::Module& module, const ir::Config& config, Check check = nullptr);

  std::string Value(const ir::ValueRef& ref) const;
  // Resolved and sorted by key.
  std::vector<ir::Label> Labels(const std::vector<ir::LabelRef>& refs) const;

  const std::string& instance_namespace() const { return instance_ns_; }
  const std::vector<ir::Label>& instance_labels() const { return instance_labels_; }
  // The namespace and labels of a product's instance (0: the file's own).
  const std::string& ProductNamespace(uint32_t product) const {
    return product < product_ns_.size() ? product_ns_[product] : instance_ns_;
  }
  const std::vector<ir::Label>& ProductLabels(uint32_t product) const {
    return product < product_labels_.size() ? product_labels_[product] : instance_labels_;
  }
  // A component's pod selector: its labels, plus the instance's labels when
  // it is part of the instance. Sorted by key.
  const std::vector<ir::Label>& Selector(uint32_t component) const { return selectors_[component]; }
  // Where a component's pods and policy live.
  const std::string& NamespaceOf(uint32_t component) const { return namespaces_[component]; }

  // Appends the policy-IR peers that `ref` stands for. A component peer
  // resolves to its pods whether or not the component is enabled (callers
  // decide); a parameter peer resolves to nothing (callers expand its value,
  // which never refers to parameters).
  void AppendPeers(const ir::PeerRef& ref, std::vector<ir::Peer>& out) const;

  // Resolved, values sorted and unique, sorted by key.
  std::vector<ir::Requirement> Requirements(const std::vector<ir::RequirementRef>& refs) const;

  // Why a port reference has no range in the configuration.
  struct PortProblem {
    enum class Kind { kNone, kMissing, kOutOfRange, kEmpty };
    Kind kind = Kind::kNone;
    const ir::ValueRef* at = nullptr;  // the end at fault (kMissing, kOutOfRange)
    int64_t value = 0;                 // kOutOfRange: the value
    int64_t first = 0, last = 0;       // kEmpty
  };
  // The range a port reference stands for in the configuration: nullopt when
  // a parameter has no value, a port is outside 1-65535 or the range is empty.
  std::optional<ir::PortRange> Port(const ir::PortRef& ref, PortProblem* problem = nullptr) const;

 private:
  std::string Namespace(const ir::ValueRef& ref) const;

  const ir::Module& module_;
  const ir::Config& config_;
  Check check_;
  std::string instance_ns_;
  std::vector<ir::Label> instance_labels_;
  std::vector<std::vector<ir::Label>> selectors_;
  std::vector<std::string> namespaces_;
  // Per product (index 0: the file's own instance, as above).
  std::vector<std::string> product_ns_;
  std::vector<std::vector<ir::Label>> product_labels_;
};

}  // namespace netpolc
