#include "tests/equivalence/harness.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "backends/registry.h"
#include "compiler/frontend/frontend.h"
#include "compiler/semantics/instantiate.h"
#include "compiler/frontend/lower.h"
#include "compiler/frontend/parse.h"
#include "compiler/semantics/pod_networks.h"
#include "compiler/verify/calico_eval.h"
#include "compiler/verify/cilium_eval.h"
#include "compiler/verify/ir_eval.h"

namespace netpolc::equivalence {

std::unique_ptr<Program> Load(std::string path, std::string text, std::string& errors) {
  auto program = std::make_unique<Program>();
  uint32_t file = program->sources.Add(std::move(path), std::move(text));
  Diagnostics diagnostics;
  std::optional<ast::File> ast = ParseFile(program->sources, file, diagnostics);
  std::optional<ir::Module> module;
  if (ast) module = Lower(*ast, diagnostics);
  if (!module) {
    errors = RenderAll(diagnostics, program->sources);
    return nullptr;
  }
  program->module = std::move(*module);
  return program;
}

std::unique_ptr<Program> LoadFile(const std::string& path, std::string& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors = "cannot read " + path;
    return nullptr;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Compilation compilation;
  std::optional<ir::Module> module = CompileModule(compilation, path, std::move(text));
  if (!module) {
    errors = RenderAll(compilation.diagnostics, compilation.sources);
    return nullptr;
  }
  auto program = std::make_unique<Program>();
  program->sources = std::move(compilation.sources);
  program->module = std::move(*module);
  return program;
}

ir::Config MakeConfig(const ir::Module& module,
                      const std::vector<std::pair<std::string, bool>>& flags) {
  ir::Config config = ir::Config::Defaults(module);
  for (const auto& [name, value] : flags) {
    if (std::optional<uint32_t> index = module.FindFlag(name)) config.flags[*index] = value;
  }
  return config;
}

bool SetPeers(Program& program, ir::Config& config, const std::string& name, const std::string& text,
              std::string& errors) {
  std::optional<uint32_t> index = program.module.FindParam(name);
  if (!index || program.module.params[*index].type != ir::ParamType::kPeers) {
    errors = "no peers parameter " + name;
    return false;
  }
  uint32_t file = program.sources.Add("--set " + name, text);
  Diagnostics diagnostics;
  std::optional<std::vector<ast::Peer>> peers = ParsePeerList(program.sources, file, diagnostics);
  std::optional<std::vector<ir::PeerRef>> lowered;
  if (peers) lowered = LowerPeerList(*peers, program.module, diagnostics);
  if (!lowered) {
    errors = RenderAll(diagnostics, program.sources);
    return false;
  }
  config.params[*index].peers = std::move(*lowered);
  return true;
}

bool SetCidrs(Program& program, ir::Config& config, const std::string& name, const std::string& text,
              std::string& errors) {
  std::optional<uint32_t> index = program.module.FindParam(name);
  if (!index || program.module.params[*index].type != ir::ParamType::kCidrs) {
    errors = "no cidrs parameter " + name;
    return false;
  }
  std::optional<std::vector<std::string>> cidrs = ParseCidrList(text, errors);
  if (!cidrs) return false;
  config.params[*index].text = text;
  config.params[*index].cidrs = std::move(*cidrs);
  return true;
}

std::optional<ir::PolicySet> Instantiate(const Program& program, const ir::Config& config,
                                         std::string& errors) {
  Diagnostics diagnostics;
  std::optional<ir::PolicySet> set = netpolc::Instantiate(program.module, config, diagnostics);
  if (!set) errors = RenderAll(diagnostics, program.sources);
  return set;
}

Rendered Render(const Program& program, const ir::Config& config, const ir::PolicySet& policies,
                std::string_view target, std::string_view source_name) {
  Rendered out;
  const backends::Backend* backend = backends::FindBackend(target);
  if (backend == nullptr) {
    out.diagnostics = fmt::format("no target '{}'\n", target);
    return out;
  }
  backends::Input input{program.module, config};
  input.policies = &policies;
  input.source_name = source_name;
  Diagnostics diagnostics;
  out.ok = backend->Render(input, out.output, diagnostics) && !diagnostics.has_errors();
  out.diagnostics = RenderAll(diagnostics, program.sources);
  out.list = diagnostics.all();
  return out;
}

// ---------------------------------------------------------------------------
// Universe

namespace {

using U128 = unsigned __int128;

class UniverseBuilder {
 public:
  UniverseBuilder(const ir::Module& module, const ir::Config& config)
      : module_(module), config_(config) {}

  verify::Universe Build() {
    pod_networks_ = PodNetworks(module_, config_);
    for (const std::string& n : pod_networks_) {
      if (std::optional<verify::Cidr> cidr = verify::Cidr::Parse(n)) pod_cidrs_.push_back(*cidr);
    }
    instance_ns_ = module_.instance.ns ? Resolve(*module_.instance.ns) : "default";
    instance_labels_ = Labels(module_.instance.labels);
    AddNamespace(instance_ns_, {});
    AddNamespace(kOther, {{"team", "other"}});
    AddNamespace("kube-system", {});
    AddPod("kube-system", {{"k8s-app", "kube-dns"}});
    AddPod("kube-system", {{"k8s-app", "metrics-server"}});
    AddPod(instance_ns_, {});
    AddPod(kOther, {});
    if (!instance_labels_.empty()) {
      AddPod(instance_ns_, instance_labels_);
      AddPod(instance_ns_, SecondInstance(instance_labels_));
    }
    // Products imported `as NAME`: their instances, as for the file's own.
    for (const ir::Module::Product& product : module_.products) {
      std::string ns = product.instance.ns ? Resolve(*product.instance.ns) : "default";
      verify::Labels labels = Labels(product.instance.labels);
      product_ns_.push_back(ns);
      product_labels_.push_back(labels);
      AddPod(ns, {});
      if (!labels.empty()) {
        AddPod(ns, labels);
        AddPod(ns, SecondInstance(labels));
      }
    }
    for (const ir::Component& c : module_.components) {
      verify::Labels own = Labels(c.labels);
      const bool other = c.product != 0 && c.product <= product_ns_.size();
      const std::string& product_ns = other ? product_ns_[c.product - 1] : instance_ns_;
      const verify::Labels& product_labels = other ? product_labels_[c.product - 1] : instance_labels_;
      std::string ns = c.ns ? Resolve(*c.ns) : product_ns;
      AddNamespace(ns, {});
      if (c.scope == ir::Scope::kInstance) {
        verify::Labels both = own;
        for (const auto& [k, v] : product_labels) both[k] = v;
        AddPod(ns, both);
        AddPod(ns, SecondInstance(both));
        AddPod(ns, own);          // the component's labels without the instance's
        AddPod(kOther, both);     // an impostor elsewhere
      } else {
        AddPod(ns, own);
        AddPod(kOther, own);      // cluster-scoped: may run anywhere
      }
      for (const ir::Rule& rule : c.rules) AddPeers(rule.peers);
    }
    // Parameters that say what selects the API server or the nodes add no
    // pods: pods in namespaces a declaration selects would be host-network
    // pods, which the universe does not model (a declaration by pod
    // selectors is checked by golden tests only).
    std::set<uint32_t> declaring;
    for (const auto* entity : {&module_.kube_apiserver, &module_.nodes}) {
      for (const ir::PeerRef& p : entity->peers) {
        if (p.kind == ir::PeerRef::Kind::kParam) declaring.insert(p.index);
      }
    }
    for (uint32_t i = 0; i < module_.params.size(); ++i) {
      if (declaring.count(i) == 0) AddPeers(module_.params[i].default_value.peers);
    }
    for (uint32_t i = 0; i < config_.params.size(); ++i) {
      if (declaring.count(i) == 0) AddPeers(config_.params[i].peers);
    }
    AddPeers(module_.dns.peers);
    // The port names the rules use, each with its first protocol.
    for (const ir::Component& c : module_.components) {
      for (const ir::Rule& rule : c.rules) AddPortNames(rule.named_ports);
    }
    AddPortNames(module_.dns.named_ports);

    // Fixed external addresses, then one inside every block and hole.
    for (const char* ip : {"192.0.2.10", "198.51.100.20", "10.1.2.3", "172.16.5.5", "8.8.8.8",
                           "2001:db8::10", "2606:4700::1111", "fd00:1::5"}) {
      AddExternal(ip);
    }
    for (const auto& [cidr, except] : blocks_) {
      AddExternalIn(cidr, except);
      for (const std::string& hole : except) AddExternalIn(hole, {});
    }
    // The API server and the nodes: inside the address blocks the file
    // declares for them (what such a declaration asserts), one endpoint
    // per block. A declaration by pod selectors adds none.
    AddRoles(module_.kube_apiserver, verify::Endpoint::Role::kApiServer);
    AddRoles(module_.nodes, verify::Endpoint::Role::kNode);

    verify::Universe u;
    for (const auto& [name, labels] : namespaces_) u.AddNamespace({name, labels});
    size_t i = 0;
    for (const auto& [ns, labels] : pods_) {
      std::string ip = PodIp(i++);
      if (ip.empty() || !used_ips_.insert(ip).second) {
        throw verify::Error(fmt::format("the pod networks cannot hold {} pods", pods_.size()));
      }
      std::string id = ns + "/";
      if (labels.empty()) id += "(no labels)";
      bool first = true;
      for (const auto& [k, v] : labels) {
        id += (first ? "" : ",") + k + "=" + v;
        first = false;
      }
      verify::Endpoint pod{id, verify::Endpoint::Kind::kPod, ns, labels, ip};
      pod.ports = ContainerPorts(i - 1);
      u.AddEndpoint(std::move(pod));
    }
    for (const std::string& ip : externals_) {
      verify::Endpoint e{"external/" + ip, verify::Endpoint::Kind::kExternal, "", {}, ip};
      if (auto it = roles_.find(ip); it != roles_.end()) {
        e.role = it->second;
        e.id = (e.role == verify::Endpoint::Role::kNode ? "node/" : "apiserver/") + ip;
      }
      u.AddEndpoint(std::move(e));
    }
    return u;
  }

 private:
  static constexpr const char* kOther = "netpolc-other";

  void AddPortNames(const std::vector<ir::NamedPort>& named) {
    for (const ir::NamedPort& p : named) {
      if (std::none_of(port_names_.begin(), port_names_.end(),
                       [&](const auto& n) { return n.first == p.name; })) {
        port_names_.emplace_back(p.name, verify::ToProtocol(p.protocol));
      }
    }
  }

  // Pod i's container ports: for each name the rules use, in turn no port of
  // that name, the name on one number, the name with another protocol, and
  // the name on another number (so pods number a name differently).
  std::vector<verify::ContainerPort> ContainerPorts(size_t i) const {
    std::vector<verify::ContainerPort> out;
    for (size_t k = 0; k < port_names_.size(); ++k) {
      const auto& [name, protocol] = port_names_[k];
      int base = 7000 + 10 * static_cast<int>(k);
      switch ((i + k) % 4) {
        case 0:
          break;
        case 1:
          out.push_back({name, protocol, base});
          break;
        case 2:
          out.push_back({name, protocol == verify::Protocol::kUDP ? verify::Protocol::kTCP
                                                                  : verify::Protocol::kUDP,
                         base});
          break;
        default:
          out.push_back({name, protocol, base + 100 + static_cast<int>(i % 3)});
          break;
      }
    }
    return out;
  }

  // Label sets around the requirements: one satisfying them all, and for
  // each requirement ones that break it alone. Values from parameters are
  // resolved.
  std::vector<verify::Labels> Variants(const verify::Labels& base,
                                       const std::vector<ir::RequirementRef>& requirements) const {
    verify::Labels good = base;
    for (const ir::RequirementRef& r : requirements) {
      switch (r.op) {
        case ir::Requirement::Op::kIn:
          if (!r.values.empty()) good[r.key] = Resolve(r.values.front());
          break;
        case ir::Requirement::Op::kExists:
          good[r.key] = "x";
          break;
        default:
          good.erase(r.key);
          break;
      }
    }
    std::vector<verify::Labels> out = {good};
    for (const ir::RequirementRef& r : requirements) {
      verify::Labels bad = good;
      switch (r.op) {
        case ir::Requirement::Op::kIn:
          bad[r.key] = "zz-other";
          out.push_back(bad);
          bad.erase(r.key);
          out.push_back(bad);
          for (const ir::ValueRef& v : r.values) {  // every listed value matches
            verify::Labels other = good;
            other[r.key] = Resolve(v);
            out.push_back(other);
          }
          break;
        case ir::Requirement::Op::kNotIn:
          for (const ir::ValueRef& v : r.values) {
            bad[r.key] = Resolve(v);
            out.push_back(bad);
          }
          bad[r.key] = "zz-other";  // another value matches
          out.push_back(bad);
          break;
        case ir::Requirement::Op::kExists:
          bad.erase(r.key);
          out.push_back(bad);
          break;
        case ir::Requirement::Op::kDoesNotExist:
          bad[r.key] = "";
          out.push_back(bad);
          break;
      }
    }
    return out;
  }

  std::string Resolve(const ir::ValueRef& value) const {
    if (value.kind == ir::ValueRef::Kind::kLiteral) return value.literal;
    return value.param < config_.params.size() ? config_.params[value.param].text : "";
  }

  // For pod peers with requirements: pods (and namespaces) around them, one
  // satisfying every requirement and others breaking one each (Variants).
  void AddRequirementPods(const std::vector<ir::PeerRef>& peers) {
    for (const ir::PeerRef& p : peers) {
      if (p.kind != ir::PeerRef::Kind::kPods || (p.pod_exprs.empty() && p.ns_exprs.empty())) continue;
      std::vector<verify::Labels> variants = Variants(Labels(p.pod_labels), p.pod_exprs);
      const verify::Labels& good = variants.front();
      for (const verify::Labels& v : variants) {
        switch (p.ns) {
          case ir::PeerRef::Namespace::kInstance:
          case ir::PeerRef::Namespace::kAny:
            AddPod(instance_ns_, v);
            break;
          case ir::PeerRef::Namespace::kNamed:
            AddPod(Resolve(p.ns_name), v);
            break;
          case ir::PeerRef::Namespace::kLabels:
            break;
        }
      }
      if (p.ns == ir::PeerRef::Namespace::kLabels) {
        for (const verify::Labels& ns_labels : Variants(Labels(p.ns_labels), p.ns_exprs)) {
          std::string name = fmt::format("netpolc-labelled-{}", labelled_++);
          AddNamespace(name, ns_labels);
          AddPod(name, good);
        }
      }
      AddPod(kOther, good);
    }
  }

  verify::Labels Labels(const std::vector<ir::LabelRef>& refs) const {
    verify::Labels out;
    for (const ir::LabelRef& r : refs) out[r.key] = Resolve(r.value);
    return out;
  }

  static verify::Labels SecondInstance(verify::Labels labels) {
    for (auto& [k, v] : labels) {
      if (k.find("instance") != std::string::npos) v += "-b";
    }
    return labels;
  }

  void AddNamespace(const std::string& name, verify::Labels labels) {
    if (name.empty()) return;
    auto [it, inserted] = namespaces_.emplace(name, labels);
    if (!inserted) {
      for (const auto& [k, v] : labels) it->second.emplace(k, v);
    }
  }

  void AddPod(const std::string& ns, const verify::Labels& labels) {
    AddNamespace(ns, {});
    if (pod_keys_.insert({ns, labels}).second) pods_.push_back({ns, labels});
  }

  void AddPeers(const std::vector<ir::PeerRef>& peers) {
    AddRequirementPods(peers);
    for (const ir::PeerRef& p : peers) {
      switch (p.kind) {
        case ir::PeerRef::Kind::kPods: {
          verify::Labels labels = Labels(p.pod_labels);
          switch (p.ns) {
            case ir::PeerRef::Namespace::kInstance:
              AddPod(p.product != 0 && p.product <= product_ns_.size() ? product_ns_[p.product - 1]
                                                                       : instance_ns_,
                     labels);
              break;
            case ir::PeerRef::Namespace::kNamed:
              AddPod(Resolve(p.ns_name), labels);
              break;
            case ir::PeerRef::Namespace::kAny:
              AddPod(instance_ns_, labels);
              break;
            case ir::PeerRef::Namespace::kLabels: {
              verify::Labels ns_labels = Labels(p.ns_labels);
              std::string name = fmt::format("netpolc-labelled-{}", labelled_++);
              AddNamespace(name, ns_labels);
              AddPod(name, labels);
              break;
            }
          }
          AddPod(kOther, labels);
          break;
        }
        case ir::PeerRef::Kind::kCidr:
          blocks_.emplace(p.cidr, p.except);
          break;
        default:
          break;
      }
    }
  }

  void AddRoles(const ir::Module::EntityPeers& entity, verify::Endpoint::Role role) {
    if (!entity.declared) return;
    std::vector<const ir::PeerRef*> peers;
    for (const ir::PeerRef& p : entity.peers) {
      if (p.kind != ir::PeerRef::Kind::kParam) {
        peers.push_back(&p);
      } else if (p.index < config_.params.size()) {
        for (const ir::PeerRef& inner : config_.params[p.index].peers) peers.push_back(&inner);
      }
    }
    for (const ir::PeerRef* p : peers) {
      if (p->kind != ir::PeerRef::Kind::kCidr) continue;
      std::string ip = AddExternalIn(p->cidr, p->except);
      if (!ip.empty()) roles_[ip] = role;
    }
  }

  // The i-th pod address: cycling over the pod networks (every third pod
  // IPv6 when there are both families), at offsets 0x101, 0x102, ... in
  // each network, so that the usual CIDR blocks' first addresses stay free.
  std::string PodIp(size_t i) const {
    if (pod_networks_.empty()) {
      if (i % 3 == 2) return fmt::format("fd00:10:244::{:x}", 0x8000 + i);
      return fmt::format("10.244.{}.{}", 128 + i / 250, 1 + i % 250);
    }
    std::vector<std::string> v4, v6;
    for (const std::string& n : pod_networks_) (n.find(':') != std::string::npos ? v6 : v4).push_back(n);
    const std::vector<std::string>* family = &v4;
    if (v4.empty() || (!v6.empty() && i % 3 == 2)) family = &v6;
    size_t which = (i / 3) % family->size();
    std::optional<std::string> ip = AddressIn((*family)[which], 0x101 + i);
    return ip ? *ip : "";
  }

  // The address at `offset` in `cidr` (nullopt when the block is smaller).
  static std::optional<std::string> AddressIn(const std::string& cidr, U128 offset) {
    size_t slash = cidr.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::string address = cidr.substr(0, slash);
    int prefix = std::atoi(cidr.c_str() + slash + 1);
    bool v6 = address.find(':') != std::string::npos;
    unsigned char bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes) != 1) return std::nullopt;
    int bits = v6 ? 128 : 32;
    U128 base = 0;
    for (int i = 0; i < bits / 8; ++i) base = (base << 8) | bytes[i];
    int host_bits = bits - prefix;
    U128 span = host_bits >= 127 ? ~U128{0} : (U128{1} << host_bits) - 1;
    if (offset > span) return std::nullopt;
    U128 value = base + offset;
    unsigned char out[16] = {};
    for (int i = bits / 8 - 1; i >= 0; --i) {
      out[i] = static_cast<unsigned char>(value & 0xFF);
      value >>= 8;
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, out, text, sizeof text);
    return std::string(text);
  }

  bool InPodNetwork(const std::string& ip) const {
    std::optional<verify::IpAddress> address = verify::IpAddress::Parse(ip);
    return address && std::any_of(pod_cidrs_.begin(), pod_cidrs_.end(),
                                  [&](const verify::Cidr& c) { return c.Contains(*address); });
  }

  // An address in a pod network is a pod's: never an external endpoint.
  void AddExternal(const std::string& ip) {
    if (InPodNetwork(ip)) return;
    if (used_ips_.insert(ip).second) externals_.push_back(ip);
  }

  // Adds an external address inside `cidr` and outside every `except`;
  // returns it (it may have been added before), or "" when there is none.
  std::string AddExternalIn(const std::string& cidr, const std::vector<std::string>& except) {
    size_t slash = cidr.find('/');
    if (slash == std::string::npos) return {};
    std::string address = cidr.substr(0, slash);
    int prefix = std::atoi(cidr.c_str() + slash + 1);
    bool v6 = address.find(':') != std::string::npos;
    unsigned char bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes) != 1) return {};
    int bits = v6 ? 128 : 32;
    U128 base = 0;
    for (int i = 0; i < bits / 8; ++i) base = (base << 8) | bytes[i];
    int host_bits = bits - prefix;
    U128 span = host_bits >= 127 ? ~U128{0} : (U128{1} << host_bits) - 1;
    // Pod addresses are allocated when the universe is built, after this:
    // reserve the pods' ranges by skipping offsets that could clash.
    for (U128 offset : {U128{9}, U128{10}, U128{11}, U128{0x3f1}, U128{1}, U128{0}}) {
      if (offset > span) continue;
      U128 value = base + offset;
      unsigned char out[16] = {};
      for (int i = bits / 8 - 1; i >= 0; --i) {
        out[i] = static_cast<unsigned char>(value & 0xFF);
        value >>= 8;
      }
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(v6 ? AF_INET6 : AF_INET, out, text, sizeof text);
      std::string ip = text;
      if (LooksLikePod(ip) || InPodNetwork(ip) || InAny(ip, except)) continue;
      AddExternal(ip);
      return ip;
    }
    return {};
  }

  // Pod addresses are allocated after externals: keep clear of them.
  bool LooksLikePod(const std::string& ip) const {
    if (!pod_networks_.empty()) return false;  // externals never lie in a pod network
    return ip.rfind("10.244.", 0) == 0 || ip.rfind("fd00:10:244::", 0) == 0;
  }

  static bool InAny(const std::string& ip, const std::vector<std::string>& cidrs) {
    std::optional<verify::IpAddress> address = verify::IpAddress::Parse(ip);
    for (const std::string& c : cidrs) {
      std::optional<verify::Cidr> cidr = verify::Cidr::Parse(c);
      if (address && cidr && cidr->Contains(*address)) return true;
    }
    return false;
  }

  const ir::Module& module_;
  const ir::Config& config_;
  std::string instance_ns_;
  verify::Labels instance_labels_;
  std::map<std::string, verify::Labels> namespaces_;
  std::vector<std::pair<std::string, verify::Labels>> pods_;
  std::set<std::pair<std::string, verify::Labels>> pod_keys_;
  std::map<std::string, std::vector<std::string>> blocks_;
  std::map<std::string, verify::Endpoint::Role> roles_;  // by external address
  std::vector<std::string> product_ns_;          // Module::products[i]
  std::vector<verify::Labels> product_labels_;
  std::vector<std::string> externals_;
  std::set<std::string> used_ips_;
  int labelled_ = 0;
  std::vector<std::string> pod_networks_;
  std::vector<verify::Cidr> pod_cidrs_;
  std::vector<std::pair<std::string, verify::Protocol>> port_names_;
};

}  // namespace

verify::Universe BuildUniverse(const ir::Module& module, const ir::Config& config) {
  return UniverseBuilder(module, config).Build();
}

std::unique_ptr<verify::Evaluator> TargetEvaluator(std::string_view target,
                                                   const verify::Universe& universe,
                                                   const std::string& yaml) {
  if (target == "k8s") return std::make_unique<verify::K8sEvaluator>(universe, yaml, "k8s output");
  if (target == "cilium") {
    return std::make_unique<verify::CiliumEvaluator>(universe, yaml, "cilium output");
  }
  if (target == "calico") {
    return std::make_unique<verify::CalicoEvaluator>(universe, yaml, "calico output");
  }
  throw verify::Error(fmt::format("no evaluator for target '{}'", target));
}

std::vector<std::string> Differences(const verify::Universe& universe, const ir::PolicySet& policies,
                                     std::string_view target, const std::string& yaml,
                                     size_t max_lines, verify::IrEvaluator::BlockReading reading) {
  std::vector<std::string> out;
  try {
    verify::IrEvaluator expected(universe, policies, reading);
    std::unique_ptr<verify::Evaluator> actual = TargetEvaluator(target, universe, yaml);
    for (const verify::Difference& d : verify::Compare(universe, expected, *actual, max_lines)) {
      out.push_back(fmt::format("{}: {}", target, verify::Describe(universe, d)));
    }
  } catch (const verify::Error& e) {
    out.push_back(fmt::format("{}: cannot evaluate the output: {}", target, e.what()));
  }
  return out;
}

bool InThisShard(size_t index) {
  static const bool acknowledged = [] {
    if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE")) std::ofstream touch(status);
    return true;
  }();
  (void)acknowledged;
  const char* total = std::getenv("TEST_TOTAL_SHARDS");
  const char* shard = std::getenv("TEST_SHARD_INDEX");
  if (total == nullptr || shard == nullptr) return true;
  size_t n = std::strtoul(total, nullptr, 10);
  return n <= 1 || index % n == std::strtoul(shard, nullptr, 10);
}

}  // namespace netpolc::equivalence
