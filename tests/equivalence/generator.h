// A generator of random, valid rules files for the equivalence tests:
// components (instance- or cluster-scoped, with conditions), ingress and
// egress rules over random TCP/UDP/SCTP ports and ranges, and peers of every
// kind (anywhere, instance, external, CIDRs with except, pods in the
// instance's, a named, any or labelled namespaces, components, a peers
// parameter, the API server and nodes with their declarations for k8s and
// Calico), components outside the instance (`scope namespace`), policy
// names, `policy when` and `isolate ingress|egress when`, a random DNS
// declaration, the cluster's pod networks (a `pod_networks` parameter,
// overlapping the address blocks, sometimes overridden, sometimes not
// declared at all), and random flag values for the build. Deterministic: the
// same seed gives the same case.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netpolc::equivalence {

struct GeneratedCase {
  std::string text;                                  // the rules file
  std::vector<std::pair<std::string, bool>> flags;   // values to build with
  std::string clients;  // when not empty, --set clients=<this>
  bool declares_pod_networks = false;  // the text declares `param pod_networks: cidrs`
  std::string pod_networks;  // when not empty, --set pod_networks=<this>
};

GeneratedCase Generate(uint64_t seed);

}  // namespace netpolc::equivalence
