// A small reduced ordered binary decision diagram (ROBDD) package: the
// symbolic representation of "the configurations in which X holds" used by
// the analyses (check, explain, diff, graph).
//
// A function is a Ref into the manager; equal functions have equal Refs
// (canonical form), so equivalence and satisfiability are O(1) and the
// operations are polynomial in the sizes of their operands. Only the flags a
// condition mentions appear in its diagram: nothing here ever enumerates
// configurations one by one.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netpolc::analysis {

class Bdd {
 public:
  using Ref = uint32_t;
  static constexpr Ref kFalse = 0;
  static constexpr Ref kTrue = 1;

  // A conjunction of literals: (variable, value) sorted by variable.
  using Cube = std::vector<std::pair<uint32_t, bool>>;

  Bdd();

  // Declares the next variable (variables are ordered by declaration).
  uint32_t NewVar(std::string name);
  size_t var_count() const { return names_.size(); }
  const std::string& VarName(uint32_t var) const { return names_.at(var); }

  Ref Var(uint32_t var);  // "var is true"
  Ref Constant(bool value) const { return value ? kTrue : kFalse; }
  Ref Not(Ref f);
  Ref And(Ref f, Ref g);
  Ref Or(Ref f, Ref g);
  Ref AndNot(Ref f, Ref g) { return And(f, Not(g)); }
  Ref Restrict(Ref f, uint32_t var, bool value);  // cofactor
  Ref Exists(Ref f, uint32_t var);

  bool Implies(Ref f, Ref g) { return AndNot(f, g) == kFalse; }
  // Value under an assignment indexed by variable.
  bool Eval(Ref f, const std::vector<bool>& assignment) const;
  bool DependsOn(Ref f, uint32_t var) const;
  std::vector<uint32_t> Support(Ref f) const;  // sorted
  // f is increasing (decreasing) in var: flipping var to true (false) never
  // makes f false.
  bool PositiveIn(Ref f, uint32_t var);
  bool NegativeIn(Ref f, uint32_t var);

  // An irredundant sum of products covering every point of `f` and nothing
  // outside `f` or `dont_care` (Minato-Morreale ISOP). Returns false if it
  // would need more than `max_cubes` cubes.
  bool Cover(Ref f, Ref dont_care, std::vector<Cube>& cubes, size_t max_cubes = 64);

  // Text for the configurations in which f holds, for messages:
  // "in every configuration", "in no configuration", "when a is true",
  // "when a is true and b is false, or when c is true".
  std::string Describe(Ref f, Ref dont_care = kFalse);
  // Short form for labels: "a", "not a and b", "a or c"; "always", "never".
  std::string Compact(Ref f, Ref dont_care = kFalse);

  size_t node_count() const { return nodes_.size(); }

 private:
  struct Node {
    uint32_t var;
    Ref lo, hi;
  };
  struct NodeKey {
    uint32_t var;
    Ref lo, hi;
    friend bool operator==(const NodeKey&, const NodeKey&) = default;
  };
  struct NodeKeyHash {
    size_t operator()(const NodeKey& k) const {
      uint64_t h = (static_cast<uint64_t>(k.lo) << 32) | k.hi;
      return std::hash<uint64_t>()(h * 0x9E3779B97F4A7C15ULL ^ k.var);
    }
  };

  Ref Make(uint32_t var, Ref lo, Ref hi);
  uint32_t VarOf(Ref f) const { return nodes_[f].var; }
  Ref Isop(Ref lower, Ref upper, std::vector<Cube>& cubes, size_t max_cubes, bool& overflow);
  std::string CubeText(const Cube& cube, bool compact) const;

  std::vector<std::string> names_;
  std::vector<Node> nodes_;
  std::unordered_map<NodeKey, Ref, NodeKeyHash> unique_;
  std::unordered_map<uint64_t, Ref> and_cache_, or_cache_;
  std::unordered_map<Ref, Ref> not_cache_;
};

}  // namespace netpolc::analysis
