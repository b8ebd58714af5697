// How the markdown target words conditions and peers (docs/markdown.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/module.h"

namespace netpolc::backends::markdown {

// "A", "A and B", "A, B and C" (`word` is "and" or "or"). With `grouped`,
// every item is set off by a comma: "A, and B", "A, B, and C" — used when
// items are themselves lists.
std::string JoinList(const std::vector<std::string>& items, std::string_view word,
                     bool grouped = false);

// The flag's sentence for one polarity, its "{doc}" replaced by the linked
// documentation text "[doc](link)" (or the bare text when there is no link).
std::string FlagSentence(const ir::Flag& flag, bool enabled);

// The "Enabled in policy" cell of a condition:
//   always true            -> "Always"
//   always false           -> "Never"
//   one flag               -> its enabled sentence; `not flag`: its disabled one
//   and / or of several    -> "If " + the sentences without their leading "If ",
//                             joined: "If A and B", "If A, B or C"; a nested
//                             group reads "both A and B" / "either A or B"
//                             ("all of A, B and C" / "any of A, B or C") and
//                             is set off by commas: "If either A or B, and C".
// `not` is pushed down to the flags (De Morgan), constants are folded.
std::string ConditionText(const ir::Module& module, const ir::Condition& condition);

// Wording of a rule's peers for one configuration.
class PeerWording {
 public:
  // `enabled_components[i]` says whether component i is part of the
  // documented configuration (all true when documenting every configuration).
  PeerWording(const ir::Module& module, const ir::Config& config,
              const std::vector<bool>& enabled_components);

  struct Words {
    bool empty = true;     // no peer left: the rule admits nothing
    std::string origin;    // ingress "Origin"
    std::string destination;  // egress "Destination"
    std::string pod_label;    // egress "Pod Label"
  };
  Words Word(const ir::Rule& rule) const;
  // Word(rule).empty, without the words: every peer (parameters expanded)
  // is a component that is not part of the configuration.
  bool AdmitsNoPeer(const ir::Rule& rule) const;

  // "key=value" of a label, its value resolved in the configuration.
  std::string LabelText(const ir::LabelRef& label) const;

 private:
  std::string Resolve(const ir::ValueRef& value) const;
  std::string PeerPhrase(const ir::PeerRef& peer) const;
  std::string LabelList(const std::vector<ir::LabelRef>& labels) const;
  std::string SelectorText(const std::vector<ir::LabelRef>& labels,
                           const std::vector<ir::RequirementRef>& requirements) const;
  std::string InstancePhrase() const;

  const ir::Module& module_;
  const ir::Config& config_;
  const std::vector<bool>& enabled_components_;
};

// Uppercases the first character when it is an ASCII letter.
std::string Capitalise(std::string text);

}  // namespace netpolc::backends::markdown
