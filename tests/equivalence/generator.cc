#include "tests/equivalence/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace netpolc::equivalence {
namespace {

// splitmix64: portable and deterministic, unlike std distributions.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  bool Chance(int percent) { return Below(100) < static_cast<size_t>(percent); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  uint64_t state_;
};

const std::vector<std::string> kCidrs = {
    "cidr \"10.0.0.0/8\"",
    "cidr \"10.244.0.0/16\"",
    "cidr \"10.244.128.0/25\"",
    "cidr \"192.0.2.0/24\"",
    "cidr \"198.51.100.0/24\" except [\"198.51.100.0/28\"]",
    "cidr \"0.0.0.0/0\" except [\"10.0.0.0/8\", \"172.16.0.0/12\"]",
    "cidr \"0.0.0.0/0\"",
    "cidr \"::/0\"",
    "cidr \"2001:db8::/32\"",
    "cidr \"fd00::/8\" except [\"fd00:10:244::/48\"]",
    "cidr \"203.0.113.7/32\"",
    "cidr \"10.128.0.0/9\"",
    "cidr \"192.168.0.0/16\"",
    "cidr \"192.168.0.0/17\" except [\"192.168.0.0/24\"]",
    "cidr \"0.0.0.0/0\" except [\"10.128.0.0/16\"]",
    "cidr \"fd00:10:244::/48\"",
};

// Pod networks: each overlaps some of the blocks above (inside them, holding
// them, or equal to them).
const std::vector<std::string> kPodNetworks = {
    "10.244.0.0/16",
    "10.244.0.0/16, fd00:10:244::/48",
    "10.128.0.0/14,192.168.0.0/16",
    "10.0.0.0/8, fd00::/8",
    "10.244.128.0/17,10.128.0.0/14, 2001:db8:1::/48",
};

const std::vector<std::string> kPodLabels = {
    "\"app\": \"c0\"",
    "\"app\": \"c1\"",
    "\"role\": \"client\"",
    "\"role\": \"client\", \"tier\": \"front\"",
    "\"k8s-app\": \"kube-dns\"",
    "\"tier\": \"back\"",
    "\"app.kubernetes.io/instance\": \"inst\"",
    "\"pod-template-hash\": \"7d4b9\"",  // ignored by Cilium's identity label filter
    // Selector requirements and an empty value.
    "\"tier\": in [\"front\", \"back\"]",
    "\"role\": not in [\"client\"], \"app\": \"c1\"",
    "\"debug\": not exists, \"app\": \"c0\"",
    "\"tier\": exists",
    "\"policy-group.network.openshift.io/host-network\": \"\"",
};

const std::vector<std::string> kNamespaceScopes = {
    "",  // the instance's namespace
    "",
    " in namespace \"ops\"",
    " in namespace \"kube-system\"",
    " in namespace \"netpolc-other\"",
    " in any namespace",
    " in namespaces { \"team\": \"blue\" }",
    " in namespaces { \"team\": \"other\" }",
    " in namespaces { \"team\": in [\"blue\", \"other\"] }",
    " in namespaces { \"team\": not exists }",
};

std::string Ports(Random& r) {
  static const std::vector<std::string> singles = {"53", "80", "443", "1000", "8080", "9090",
                                                   "65535", "1", "2181", "9092"};
  static const std::vector<std::string> ranges = {"1000-2000", "8000-8100", "1-1024", "30000-32767",
                                                  "9090-9095"};
  std::set<std::string> items;
  size_t n = 1 + r.Below(3);
  for (size_t i = 0; i < n; ++i) {
    std::string protocol;
    size_t p = r.Below(10);
    if (p >= 7) protocol = p == 9 ? "sctp " : "udp ";  // TCP is the default
    if (r.Chance(12)) {
      // Ports from an int parameter, and container port names.
      static const std::vector<std::string> extras = {"$port_a", "$port_a-9500", "8000-$port_b",
                                                      "https", "metrics", "udp \"dns-udp\""};
      items.insert(r.Pick(extras));
      continue;
    }
    items.insert(protocol + (r.Chance(70) ? r.Pick(singles) : r.Pick(ranges)));
  }
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string Condition(Random& r, size_t flags) {
  auto flag = [&] { return fmt::format("f{}", r.Below(flags)); };
  switch (r.Below(8)) {
    case 0:
      return " when " + flag();
    case 1:
      return " when not " + flag();
    case 2:
      return " when " + flag() + " and not " + flag();
    case 3:
      return " when (" + flag() + " or " + flag() + ")";
    default:
      return "";
  }
}

// In a "cilium-friendly" case, pod labels are only those that Cilium's
// identity-relevant label filter keeps.
std::string PodsPeer(Random& r, bool friendly) {
  std::string labels = r.Chance(10) ? "" : r.Pick(kPodLabels);
  if (friendly && labels.find("pod-template-hash") != std::string::npos) labels.clear();
  return "pods { " + labels + " }" + r.Pick(kNamespaceScopes);
}

// In an "entities" case the file declares what selects the API server and
// the nodes on k8s and Calico (address blocks in 100.64.0.0/16 and
// fd00:64::/32), and rules may name them. Address blocks never match nodes
// (they are in the cluster; k8s and Calico subtract the nodes' blocks), so
// the address peers are drawn as in other cases.
bool entities_case = false;

std::string Addresses(Random& r) {
  switch (r.Below(6)) {
    case 0:
      return "external";
    case 1:
      return "cidr \"0.0.0.0/0\", cidr \"::/0\"";
    case 2:
      return r.Pick(kCidrs) + ", pods { } in any namespace";
    default:
      return r.Pick(kCidrs);
  }
}

std::string Peer(Random& r, size_t components, bool friendly) {
  switch (r.Below(14)) {
    case 0:
      return "anywhere";
    case 1:
      return "instance";
    case 2:
    case 3:
    case 4:
      return Addresses(r);
    case 5:
      if (entities_case && r.Chance(50)) return r.Chance(50) ? "kube_apiserver" : "nodes";
      return "$clients";
    case 6:
    case 7:
    case 8:
      return PodsPeer(r, friendly);
    default:
      return fmt::format("c{}", r.Below(components));
  }
}

std::string Peers(Random& r, size_t components, bool friendly) {
  std::set<std::string> peers;
  size_t n = 1 + r.Below(3);
  for (size_t i = 0; i < n; ++i) peers.insert(Peer(r, components, friendly));
  std::string out;
  for (const std::string& p : peers) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

GeneratedCase Generate(uint64_t seed) {
  Random r(seed);
  GeneratedCase out;
  const size_t flags = 3;
  const size_t components = 2 + r.Below(4);
  const bool friendly = r.Chance(50);
  entities_case = r.Chance(25);
  std::string& t = out.text;
  t += fmt::format("// Random rules for the equivalence tests, seed {}.\n\n", seed);
  t += "param namespace: string = \"apps\";\n";
  if (entities_case) {
    t += "param node_addresses: peers = cidr \"100.64.0.0/24\", cidr \"fd00:64::/64\";\n";
    t += "kube_apiserver = cidr \"100.64.1.10/32\";\n";
    t += "nodes = $node_addresses;\n";
  }
  // A peers parameter without itself referring to parameters.
  std::string clients;
  do {
    clients = Peers(r, components, friendly);
  } while (clients.find('$') != std::string::npos);
  t += "param clients: peers = " + clients + ";\n";
  if (r.Chance(80)) {
    out.declares_pod_networks = true;
    t += "param pod_networks: cidrs = \"" + r.Pick(kPodNetworks) + "\";\n";
    if (r.Chance(25)) out.pod_networks = r.Pick(kPodNetworks);
  }
  t += "\n";
  if (r.Chance(30)) {
    do {
      out.clients = Peers(r, components, friendly);
    } while (out.clients.find('$') != std::string::npos);
  }
  for (size_t f = 0; f < flags; ++f) {
    bool value = r.Chance(50);
    t += fmt::format("flag f{} = {};\n", f, value ? "true" : "false");
    out.flags.emplace_back(fmt::format("f{}", f), r.Chance(50));
  }
  // Int parameters used as ports (Ports below).
  t += "param port_a: int = 9404;\nparam port_b: int = 8443;\n";
  t += "\ninstance {\n  namespace $namespace;\n  prefix \"r\";\n"
       "  labels { \"app.kubernetes.io/instance\": \"inst\" }\n}\n\n";
  switch (r.Below(6)) {
    case 3:
      t += "dns udp 53 to cidr \"10.96.0.10/32\";\n\n";
      break;
    case 0:
      t += "dns off;\n\n";
      break;
    case 1:
      t += "dns udp 53, tcp 53 to pods { \"k8s-app\": \"kube-dns\" } in namespace \"kube-system\";\n\n";
      break;
    case 2:
      t += "dns udp 5353, tcp 5353 to pods { \"app\": \"dns\" } in any namespace;\n\n";
      break;
    case 4:
      t += "dns udp 53-54 to external;\n\n";
      break;
    default:
      break;  // the built-in default
  }
  std::set<std::string> rule_keys;
  for (size_t c = 0; c < components; ++c) {
    t += fmt::format("component c{}", c);
    if (r.Chance(20)) t += Condition(r, flags);
    t += " {\n";
    t += fmt::format("  labels {{ \"app\": \"c{}\"{} }}\n", c,
                     r.Chance(40) ? ", \"tier\": \"" + std::string(r.Chance(50) ? "front" : "back") + "\"" : "");
    if (r.Chance(20)) {
      t += "  scope cluster;\n";
      if (r.Chance(60)) t += "  namespace \"ops\";\n";
    } else if (r.Chance(15)) {
      // Outside the instance: own labels only, in one namespace.
      t += "  scope namespace;\n";
      if (r.Chance(50)) t += "  namespace \"ops\";\n";
    }
    // Policy names and deployment, per-side isolation.
    if (r.Chance(15)) t += fmt::format("  policy \"pol-{{namespace}}-c{}\"{};\n", c, Condition(r, flags));
    else if (r.Chance(15)) t += "  policy" + Condition(r, flags) + ";\n";
    if (r.Chance(15)) t += "  isolate ingress" + Condition(r, flags) + ";\n";
    if (r.Chance(20)) t += "  isolate egress" + Condition(r, flags) + ";\n";
    size_t rules = r.Below(5);
    for (size_t i = 0; i < rules; ++i) {
      bool ingress = r.Chance(60);
      std::string line = fmt::format("  {} {} {} {}{}", ingress ? "ingress" : "egress", Ports(r),
                                     ingress ? "from" : "to", Peers(r, components, friendly), Condition(r, flags));
      if (!rule_keys.insert(fmt::format("c{}|{}", c, line)).second) continue;
      t += line + ";\n";
    }
    t += "}\n\n";
  }
  return out;
}

}  // namespace netpolc::equivalence
