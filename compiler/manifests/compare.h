// `netpolc verify`: what existing manifests admit against what a rules file
// admits in one configuration.
//
// Both are evaluated over one universe of endpoints: a pod for every
// component of the rules (the labels its policy selects, in its namespace),
// a pod for every pod peer of the rules, a pod for every workload of the
// manifests, and external addresses (fixed ones, and one inside every address
// block of the rules and of the manifests' NetworkPolicies). The rules are
// evaluated by the policy IR's evaluator (compiler/verify/ir_eval.h); the
// manifests by the evaluators of their kinds (k8s_eval for NetworkPolicies,
// cilium_eval, calico_eval), a side admitting what every kind present admits.
// The pods of the manifests' workloads have their container ports; the pods
// standing for the rules' components and peers have one container port for
// every port name that the rules or the manifests' NetworkPolicies use, so
// that a named port admits the same port on both sides (docs/manifests.md).
// For every ordered pair of endpoints (not both external), the connection's
// ports are those both sides admit (the source's egress, the destination's
// ingress); each port admitted by one side only is reported, located: the
// rule (file:line:column) that admits it on the rules side, the policy
// (kind and name) that admits it on the manifests side.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/policy.h"
#include "compiler/manifests/reader.h"
#include "compiler/source.h"
#include "compiler/verify/model.h"

namespace netpolc::manifests {

struct Discrepancy {
  bool rules_only = false;  // admitted by the rules, not by the manifests
  std::string src;
  std::string dst;
  verify::PortSet ports;
  std::string where;  // "rules/x.netpol:12:5" or "NetworkPolicy ns/name"
};

struct Comparison {
  std::vector<Discrepancy> discrepancies;  // sorted
  size_t pods = 0;
  size_t externals = 0;
  // The container ports given to the pods that stand for the rules'
  // components and peers: one for every port name used by either side (its
  // first protocol), numbered from 49152, so that named ports are compared.
  std::vector<ContainerPort> port_names;
};

// Throws verify::Error when an evaluator cannot read the manifests.
Comparison CompareWithRules(const ir::PolicySet& rules, const SourceManager& sources,
                            const Manifests& manifests);

std::string FormatComparison(const Comparison& comparison);

}  // namespace netpolc::manifests
