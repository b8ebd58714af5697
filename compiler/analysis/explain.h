// `netpolc explain`: whether one connection is allowed, under which
// configurations, and which rules at both ends decide it.
#pragma once

#include <string>
#include <vector>

#include "compiler/analysis/model.h"
#include "compiler/source.h"

namespace netpolc::analysis {

struct RuleVerdict {
  enum class Kind : uint8_t {
    kAllows,    // on the port and names the other end: allows it when `when`
    kPortOnly,  // on the port, but does not name the other end
    kPeerOnly,  // names the other end, on other ports
    kNamedPort,  // admits the other end on named ports of the protocol (not resolved)
  };
  uint32_t rule = 0;
  Kind kind = Kind::kAllows;
  Ref when = Bdd::kFalse;  // kAllows
};

struct SideExplanation {
  bool restricted = false;      // a policy isolates this side
  Ref allows = Bdd::kTrue;      // when this side allows the connection
  std::vector<RuleVerdict> rules;  // in rule order (the DNS rule last)
  // When a policy isolates this side (`policy when`, `isolate ... when`):
  // elsewhere it admits everything.
  Ref isolated = Bdd::kTrue;
};

struct Explanation {
  Endpoint from, to;
  ir::Protocol protocol = ir::Protocol::kTcp;
  uint16_t port = 0;
  Ref from_exists = Bdd::kTrue, to_exists = Bdd::kTrue;
  SideExplanation egress;   // of `from`
  SideExplanation ingress;  // of `to`
  Ref allowed = Bdd::kFalse;
};

Explanation Explain(Model& model, const Endpoint& from, const Endpoint& to, ir::Protocol protocol,
                    uint16_t port);

// The explanation as text, rules shown as file:line and their source line.
std::string RenderExplanation(Model& model, const Explanation& e, const SourceManager& sources);

}  // namespace netpolc::analysis
