#include "compiler/manifests/connlist.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace netpolc::manifests {

using verify::PortSet;
using verify::Protocol;

Sides::Sides(const Manifests& manifests) : m_(manifests) {
  for (const Namespace& ns : m_.namespaces) namespace_labels_[ns.name] = ns.labels;
}

bool Sides::PeerMatches(const PolicyPeer& peer, const NetworkPolicy& policy, const Workload* w,
                        IpRange range) const {
  if (peer.ip_block) {
    if (w != nullptr || peer.ip_block->ipv6) return false;
    for (const IpRange& r : peer.ip_block->ranges) {
      if (r.first <= range.first && range.last <= r.last) return true;
    }
    return false;
  }
  if (w == nullptr) return false;
  if (peer.namespace_selector) {
    auto it = namespace_labels_.find(w->namespace_name);
    Labels implied{{"kubernetes.io/metadata.name", w->namespace_name}};
    if (!peer.namespace_selector->Matches(it == namespace_labels_.end() ? implied : it->second)) {
      return false;
    }
  } else if (w->namespace_name != policy.namespace_name) {
    return false;
  }
  return !peer.pod_selector || peer.pod_selector->Matches(w->labels);
}

bool Sides::RuleSelects(const PolicyRule& rule, const NetworkPolicy& policy, const Workload* w,
                        IpRange range) const {
  if (rule.peers.empty()) return true;
  return std::any_of(rule.peers.begin(), rule.peers.end(),
                     [&](const PolicyPeer& p) { return PeerMatches(p, policy, w, range); });
}

PortSet Sides::RulePorts(const PolicyRule& rule, const Workload* target) const {
  if (rule.ports.empty()) return PortSet::All();
  PortSet out;
  for (const PolicyPort& p : rule.ports) {
    if (!p.named_port.empty()) {
      if (target == nullptr) continue;  // a name means nothing for an address
      for (const ContainerPort& c : target->ports) {
        if (c.name == p.named_port) {
          if (c.protocol == p.protocol) out.Add(p.protocol, c.port, c.port);
          break;
        }
      }
    } else if (!p.port) {
      out.AddAll(p.protocol);
    } else {
      out.Add(p.protocol, *p.port, p.end_port.value_or(*p.port));
    }
  }
  return out;
}

std::vector<size_t> Sides::Selecting(const Workload& w, bool ingress) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < m_.policies.size(); ++i) {
    const NetworkPolicy& p = m_.policies[i];
    if (p.namespace_name != w.namespace_name) continue;
    if (ingress ? !p.affects_ingress : !p.affects_egress) continue;
    if (p.pod_selector.Matches(w.labels)) out.push_back(i);
  }
  return out;
}

PortSet Sides::Side(const Workload& subject, const Workload* peer, IpRange range,
                    bool ingress) const {
  std::vector<size_t> selecting = Selecting(subject, ingress);
  if (selecting.empty()) return PortSet::All();
  PortSet out;
  // Named ports resolve against the destination: the subject on ingress, the
  // peer on egress.
  const Workload* target = ingress ? &subject : peer;
  for (size_t i : selecting) {
    const NetworkPolicy& p = m_.policies[i];
    for (const PolicyRule& rule : ingress ? p.ingress : p.egress) {
      if (RuleSelects(rule, p, peer, range)) out.AddAll(RulePorts(rule, target));
    }
  }
  return out;
}

PortSet Sides::Egress(const Workload& src, const Workload* dst, IpRange dst_range) const {
  return Side(src, dst, dst_range, false);
}

PortSet Sides::Ingress(const Workload& dst, const Workload* src, IpRange src_range) const {
  return Side(dst, src, src_range, true);
}

PortSet Sides::PolicyPorts(size_t index, const Workload& subject, const Workload* peer,
                          IpRange range, bool ingress) const {
  const NetworkPolicy& p = m_.policies.at(index);
  const Workload* target = ingress ? &subject : peer;
  PortSet out;
  for (const PolicyRule& rule : ingress ? p.ingress : p.egress) {
    if (RuleSelects(rule, p, peer, range)) out.AddAll(RulePorts(rule, target));
  }
  return out;
}

namespace {

PortSet Intersect(const PortSet& a, const PortSet& b) { return a.Minus(a.Minus(b)); }

// The pieces of 0.0.0.0/0 cut at every boundary of the ipBlocks of one
// direction's rules.
std::vector<IpRange> Atoms(const Manifests& m, bool ingress) {
  std::set<std::uint64_t> cuts = {0, std::uint64_t{1} << 32};
  for (const NetworkPolicy& p : m.policies) {
    for (const PolicyRule& rule : ingress ? p.ingress : p.egress) {
      for (const PolicyPeer& peer : rule.peers) {
        if (!peer.ip_block) continue;
        for (const IpRange& r : peer.ip_block->ranges) {
          cuts.insert(r.first);
          cuts.insert(std::uint64_t{r.last} + 1);
        }
      }
    }
  }
  std::vector<IpRange> atoms;
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
    atoms.push_back({static_cast<std::uint32_t>(*it), static_cast<std::uint32_t>(*std::next(it) - 1)});
  }
  return atoms;
}

std::string ExternalName(IpRange r) {
  return FormatIp(r.first) + "-" + FormatIp(r.last) + "[External]";
}

std::string Ports(const std::vector<std::pair<int, int>>& ranges) {
  std::string out;
  for (const auto& [first, last] : ranges) {
    if (!out.empty()) out += ",";
    out += first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

}  // namespace

std::string ConnString(const PortSet& ports) {
  if (ports == PortSet::All()) return "All Connections";
  if (ports.empty()) return "No Connections";
  std::vector<std::string> parts;
  for (Protocol protocol : verify::kProtocols) {
    if (ports.ranges(protocol).empty()) continue;
    parts.push_back(fmt::format("{} {}", verify::ToString(protocol), Ports(ports.ranges(protocol))));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

ConnList ComputeConnList(const Manifests& m) {
  ConnList list;
  for (const Workload& w : m.workloads) {
    list.workloads.push_back(w.Id());
    if (w.kind == "VirtualMachine") list.has_virtual_machines = true;
  }
  if (m.workloads.empty()) return list;
  Sides sides(m);
  const IpRange none{0, 0};
  for (IpRange atom : Atoms(m, true)) {  // from outside
    for (const Workload& dst : m.workloads) {
      PortSet ports = sides.Ingress(dst, nullptr, atom);
      if (!ports.empty()) list.connections.push_back({ExternalName(atom), dst.Id(), ports});
    }
  }
  std::vector<IpRange> egress_atoms = Atoms(m, false);
  for (const Workload& src : m.workloads) {
    for (IpRange atom : egress_atoms) {
      PortSet ports = sides.Egress(src, nullptr, atom);
      if (!ports.empty()) list.connections.push_back({src.Id(), ExternalName(atom), ports});
    }
    for (const Workload& dst : m.workloads) {
      if (src.Id() == dst.Id()) continue;
      PortSet ports = sides.Egress(src, &dst, none);
      if (ports.empty()) continue;
      ports = Intersect(ports, sides.Ingress(dst, &src, none));
      if (!ports.empty()) list.connections.push_back({src.Id(), dst.Id(), ports});
    }
  }
  std::sort(list.connections.begin(), list.connections.end(),
            [](const Connection& a, const Connection& b) {
              return a.src != b.src ? a.src < b.src : a.dst < b.dst;
            });
  return list;
}

// ---------------------------------------------------------------------------
// Formats

namespace {

std::string Plain(std::string_view text) { return EscapeText(text); }

}  // namespace

namespace {

std::string Json(std::string_view text) { return QuoteString(text); }

std::string Markdown(std::string_view text) {
  std::string out;
  for (char c : Plain(text)) {
    if (std::string_view("|*_`()<>#\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string Csv(std::string_view text) {
  std::string plain = Plain(text);
  if (plain.find_first_of(",\"") == std::string::npos) return plain;
  std::string out = "\"";
  for (char c : plain) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Dot(std::string_view text) {
  std::string out = "\"";
  for (char c : Plain(text)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

bool IsConnListFormat(std::string_view format) {
  return format == "txt" || format == "json" || format == "md" || format == "csv" ||
         format == "dot";
}

std::string FormatConnList(const ConnList& list, std::string_view format) {
  std::string out;
  if (format == "json") {
    out = "[";
    for (size_t i = 0; i < list.connections.size(); ++i) {
      const Connection& c = list.connections[i];
      out += fmt::format("{}\n  {{\n    \"src\": {},\n    \"dst\": {},\n    \"conn\": {}\n  }}",
                         i == 0 ? "" : ",", Json(c.src), Json(c.dst), Json(ConnString(c.ports)));
    }
    out += list.connections.empty() ? "]\n" : "\n]\n";
  } else if (format == "md") {
    out = "| src | dst | conn |\n|-----|-----|------|\n";
    for (const Connection& c : list.connections) {
      out += fmt::format("| {} | {} | {} |\n", Markdown(c.src), Markdown(c.dst),
                         Markdown(ConnString(c.ports)));
    }
  } else if (format == "csv") {
    out = "src,dst,conn\n";
    for (const Connection& c : list.connections) {
      out += fmt::format("{},{},{}\n", Csv(c.src), Csv(c.dst), Csv(ConnString(c.ports)));
    }
  } else if (format == "dot") {
    std::set<std::string> nodes(list.workloads.begin(), list.workloads.end());
    for (const Connection& c : list.connections) {
      nodes.insert(c.src);
      nodes.insert(c.dst);
    }
    out = "digraph {\n";
    for (const std::string& n : nodes) {
      bool external = n.size() > 10 && n.compare(n.size() - 10, 10, "[External]") == 0;
      out += fmt::format("  {} [shape={}]\n", Dot(n), external ? "box" : "ellipse");
    }
    for (const Connection& c : list.connections) {
      out += fmt::format("  {} -> {} [label={}]\n", Dot(c.src), Dot(c.dst),
                         Dot(ConnString(c.ports)));
    }
    out += "}\n";
  } else {
    for (const Connection& c : list.connections) {
      out += fmt::format("{} => {} : {}\n", Plain(c.src), Plain(c.dst), ConnString(c.ports));
    }
    if (list.has_virtual_machines) {
      out += "\nWorkload-to-Networks Mapping:\n";
      for (const std::string& w : list.workloads) {
        out += fmt::format("{}: \n\tPrimary Network: pod-network\n", Plain(w));
      }
    }
  }
  return out;
}

}  // namespace netpolc::manifests
