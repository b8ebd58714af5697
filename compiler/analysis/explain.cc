#include "compiler/analysis/explain.h"

#include <fmt/format.h>

#include <algorithm>

namespace netpolc::analysis {
namespace {

SideExplanation ExplainSide(Model& model, const Endpoint& owner, const Endpoint& other,
                            ir::Direction direction, ir::Protocol protocol, uint16_t port) {
  SideExplanation side;
  Bdd& bdd = model.bdd();
  if (!owner.is_component()) return side;
  uint32_t c = owner.component;
  side.restricted = direction == ir::Direction::kIngress ? model.IngressIsolated(c)
                                                         : model.EgressIsolated(c);
  if (!side.restricted) return side;
  side.isolated = direction == ir::Direction::kIngress ? model.IngressIsolation(c)
                                                       : model.EgressIsolation(c);
  // Its own rules, then those of the components whose policy selects its
  // pods too (Model::Covering), under the condition that they count.
  std::vector<std::pair<uint32_t, Ref>> owners = {{c, Bdd::kTrue}};
  for (uint32_t j : model.Covering(c)) {
    Ref guard = bdd.And(model.Enabled(j), model.OwnIsolation(j, direction));
    if (guard != Bdd::kFalse) owners.emplace_back(j, guard);
  }
  for (const auto& [o, guard] : owners) {
  const std::vector<uint32_t>& at_port = model.RulesAt(o, direction, protocol, port);
  for (uint32_t id : model.RulesOf(o, direction)) {
    bool on_port = std::find(at_port.begin(), at_port.end(), id) != at_port.end();
    Ref admits = model.RuleAdmits(id, other);
    const std::vector<ir::NamedPort>& named = model.rule(id).named_ports;
    bool named_here = std::any_of(named.begin(), named.end(), [&](const ir::NamedPort& n) {
      return n.protocol == protocol;
    });
    if (!on_port && named_here && admits != Bdd::kFalse) {
      // The number of a named port is the receiving pod's container port,
      // which the model does not know: say so rather than guess.
      side.rules.push_back({id, RuleVerdict::Kind::kNamedPort, Bdd::kFalse});
      continue;
    }
    if (on_port) {
      if (admits != Bdd::kFalse) {
        side.rules.push_back(
            {id, RuleVerdict::Kind::kAllows, bdd.And(guard, bdd.And(model.rule(id).when, admits))});
      } else {
        side.rules.push_back({id, RuleVerdict::Kind::kPortOnly, Bdd::kFalse});
      }
    } else if (admits != Bdd::kFalse) {
      // Rules on other ports that name the other end (not merely include it
      // in a broad peer like anywhere).
      const std::vector<Term>& terms = model.rule(id).terms;
      if (std::any_of(terms.begin(), terms.end(), [&](const Term& t) {
            return t.is_explicit && model.TermSelects(t, other);
          })) {
        side.rules.push_back({id, RuleVerdict::Kind::kPeerOnly, Bdd::kFalse});
      }
    }
  }
  }
  if (direction == ir::Direction::kEgress && model.dns_rule()) {
    uint32_t id = *model.dns_rule();
    if (PortsInclude(model.rule(id).ports, {{protocol, port, port}})) {
      Ref admits = model.RuleAdmits(id, other);
      if (admits != Bdd::kFalse) side.rules.push_back({id, RuleVerdict::Kind::kAllows, admits});
    }
  }
  side.allows = direction == ir::Direction::kIngress
                    ? model.IngressSide(other, owner, protocol, port)
                    : model.EgressSide(owner, other, protocol, port);
  return side;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string Where(const SourceLoc& loc, const SourceManager& sources) {
  if (!loc.valid() || loc.file >= sources.size()) return "(built in)";
  return fmt::format("{}:{}", sources.file(loc.file).path, loc.line);
}

std::string SourceText(const SourceLoc& loc, const SourceManager& sources) {
  if (!loc.valid() || loc.file >= sources.size()) return {};
  return Trim(sources.file(loc.file).Line(loc.line));
}

}  // namespace

Explanation Explain(Model& model, const Endpoint& from, const Endpoint& to, ir::Protocol protocol,
                    uint16_t port) {
  Explanation e;
  e.from = from;
  e.to = to;
  e.protocol = protocol;
  e.port = port;
  e.from_exists = model.Enabled(from);
  e.to_exists = model.Enabled(to);
  e.egress = ExplainSide(model, from, to, ir::Direction::kEgress, protocol, port);
  e.ingress = ExplainSide(model, to, from, ir::Direction::kIngress, protocol, port);
  e.allowed = model.Allowed(from, to, protocol, port);
  return e;
}

std::string RenderExplanation(Model& model, const Explanation& e, const SourceManager& sources) {
  Bdd& bdd = model.bdd();
  std::string from = model.EndpointText(e.from), to = model.EndpointText(e.to);
  std::string out;
  std::string result;
  if (e.allowed == Bdd::kFalse) {
    result = "blocked " + bdd.Describe(Bdd::kTrue);
  } else if (e.allowed == Bdd::kTrue) {
    result = "allowed " + bdd.Describe(Bdd::kTrue);
  } else {
    result = fmt::format("allowed {}; blocked otherwise", bdd.Describe(e.allowed));
  }
  out += fmt::format("{} -> {} on {} {}: {}\n", from, to, ir::ProtocolName(e.protocol), e.port,
                     result);
  auto existence = [&](const Endpoint& end, Ref exists) {
    if (!end.is_component() || exists == Bdd::kTrue) return;
    if (exists == Bdd::kFalse) {
      out += fmt::format("  {} does not exist {}\n", model.EndpointText(end),
                         bdd.var_count() == 0 ? "in this configuration" : "in any configuration");
    } else {
      out += fmt::format("  {} exists only {}\n", model.EndpointText(end), bdd.Describe(exists));
    }
  };
  existence(e.from, e.from_exists);
  existence(e.to, e.to_exists);

  auto side = [&](const SideExplanation& s, const Endpoint& owner, const std::string& other,
                  ir::Direction direction) {
    std::string name = model.EndpointText(owner);
    std::string what = direction == ir::Direction::kIngress ? "ingress" : "egress";
    out += fmt::format("\n{} of {}: ", what, name);
    if (!owner.is_component()) {
      out += "not restricted (an address outside the cluster)\n";
      return;
    }
    if (!s.restricted) {
      bool has_rules = !model.RulesOf(owner.component, direction).empty();
      out += has_rules ? fmt::format("not restricted (no policy isolates the {} of {})\n", what, name)
                       : fmt::format("not restricted ({} has no {} rules)\n", name, what);
      return;
    }
    if (s.allows == Bdd::kFalse) {
      out += "blocked " + bdd.Describe(Bdd::kTrue) + "\n";
    } else {
      out += "allowed " + bdd.Describe(s.allows) + "\n";
    }
    if (s.isolated != Bdd::kTrue) {
      out += fmt::format("  not restricted {}: no policy isolates the {} of {} then\n",
                         bdd.Describe(bdd.Not(s.isolated)), what, name);
    }
    if (s.rules.empty()) {
      out += fmt::format("  no {} rule of {} is on {} {} or names {}\n", what, name,
                         ir::ProtocolName(e.protocol), e.port, other);
    }
    for (const RuleVerdict& v : s.rules) {
      const RuleInfo& r = model.rule(v.rule);
      if (r.dns) {
        out += fmt::format("  {}: the DNS rule", Where(r.loc, sources));
        if (r.loc.valid()) out += ": " + SourceText(r.loc, sources);
        out += "\n";
      } else {
        out += fmt::format("  {}: {}\n", Where(r.loc, sources), SourceText(r.loc, sources));
      }
      switch (v.kind) {
        case RuleVerdict::Kind::kAllows:
          out += v.when == Bdd::kTrue ? "    allows it\n"
                                      : fmt::format("    allows it {}\n", bdd.Describe(v.when));
          break;
        case RuleVerdict::Kind::kPortOnly: {
          const Endpoint& other_end = direction == ir::Direction::kIngress ? e.from : e.to;
          if (other_end.is_component() &&
              std::any_of(r.terms.begin(), r.terms.end(), [&](const Term& t) {
                return t.component == other_end.component;
              })) {
            out += fmt::format("    is on {} {} and names {}, which does not exist\n",
                               ir::ProtocolName(e.protocol), e.port, other);
            break;
          }
          std::string peers;
          for (const Term& t : r.terms) {
            if (peers.find(t.text) == std::string::npos) peers += (peers.empty() ? "" : ", ") + t.text;
          }
          out += fmt::format("    is on {} {}, but its peers ({}) do not include {}\n",
                             ir::ProtocolName(e.protocol), e.port, peers, other);
          break;
        }
        case RuleVerdict::Kind::kPeerOnly:
          out += fmt::format("    names {}, but only on {}\n", other, PortsText(r.ports));
          break;
        case RuleVerdict::Kind::kNamedPort: {
          std::string names;
          size_t count = 0;
          for (const ir::NamedPort& n : r.named_ports) {
            if (n.protocol != e.protocol) continue;
            names += (names.empty() ? "" : ", ") + n.name;
            ++count;
          }
          out += fmt::format("    admits {} on the named port{} {} ({}), whose number is the "
                             "receiving pod's container port of that name: not known here, so not "
                             "counted\n",
                             other, count == 1 ? "" : "s", names, ir::ProtocolName(e.protocol));
          break;
        }
      }
    }
  };
  side(e.egress, e.from, to, ir::Direction::kEgress);
  side(e.ingress, e.to, from, ir::Direction::kIngress);
  return out;
}

}  // namespace netpolc::analysis
