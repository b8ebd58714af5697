// The allowed connections of a set of manifests, as np-guard's
// netpol-analyzer lists them (`netpolc connlist`):
//  * endpoints are workloads (one representative pod per owner; see reader.h)
//    and external address ranges. The external ranges are the pieces of
//    0.0.0.0/0 cut at every boundary of the ipBlocks of ingress rules (for
//    sources) and of egress rules (for destinations); with no ipBlock the
//    whole range 0.0.0.0-255.255.255.255 is one endpoint;
//  * pods are matched by selectors only, address ranges by ipBlocks only (an
//    ipBlock never selects a pod: it means addresses outside the pod network);
//  * a connection is allowed when the egress side of its source and the
//    ingress side of its destination both admit it (a side no policy selects
//    admits everything); named ports resolve against the destination's
//    container ports, with the rule's protocol;
//  * a workload's connections to itself and external-to-external pairs are
//    not listed.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/manifests/reader.h"
#include "compiler/verify/model.h"

namespace netpolc::manifests {

struct Connection {
  std::string src;  // "ns/name[Kind]" or "a.b.c.d-e.f.g.h[External]"
  std::string dst;
  verify::PortSet ports;
};

struct ConnList {
  std::vector<Connection> connections;  // sorted by (src, dst)
  std::vector<std::string> workloads;   // every workload's name
  bool has_virtual_machines = false;
};

ConnList ComputeConnList(const Manifests& manifests);

// "All Connections", or "SCTP 7070,TCP 8080-8081,UDP 9090".
std::string ConnString(const verify::PortSet& ports);

// txt, json, md, csv or dot. Every embedded name is escaped for the format.
std::string FormatConnList(const ConnList& list, std::string_view format);
bool IsConnListFormat(std::string_view format);


// The analysis behind ComputeConnList, one side at a time, for other users
// (verify): the ports that the egress side of workload `src` admits towards
// `dst` (a workload, or nullptr with `dst_range` an external range), and the
// ingress side of workload `dst` from `src` (likewise).
class Sides {
 public:
  explicit Sides(const Manifests& manifests);
  verify::PortSet Egress(const Workload& src, const Workload* dst, IpRange dst_range) const;
  verify::PortSet Ingress(const Workload& dst, const Workload* src, IpRange src_range) const;
  // The policies that select the workload on a side (indices into policies).
  std::vector<size_t> Selecting(const Workload& w, bool ingress) const;
  // The ports that policy `index` alone admits on a side of `subject` (which
  // it selects) from or to the peer.
  verify::PortSet PolicyPorts(size_t index, const Workload& subject, const Workload* peer,
                              IpRange peer_range, bool ingress) const;

 private:
  bool PeerMatches(const PolicyPeer& peer, const NetworkPolicy& policy, const Workload* w,
                   IpRange range) const;
  bool RuleSelects(const PolicyRule& rule, const NetworkPolicy& policy, const Workload* w,
                   IpRange range) const;
  verify::PortSet RulePorts(const PolicyRule& rule, const Workload* target) const;
  verify::PortSet Side(const Workload& subject, const Workload* peer, IpRange range,
                       bool ingress) const;

  const Manifests& m_;
  std::map<std::string, Labels> namespace_labels_;
};

}  // namespace netpolc::manifests
