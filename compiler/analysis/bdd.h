// A small reduced ordered binary decision diagram (ROBDD) package: the
// symbolic representation of "the configurations in which X holds" used by
// the analyses (check, explain, diff, graph).
//
// A function is a Ref into the manager; equal functions have equal Refs
// (canonical form), so equivalence and satisfiability are O(1) and the
// operations are polynomial in the sizes of their operands. Only the flags a
// condition mentions appear in its diagram: nothing here ever enumerates
// configurations one by one.
//
// Every operation is iterative (an explicit stack, never recursion per
// variable), and a manager has budgets: at most Limits::max_nodes nodes and
// Limits::max_steps operation steps (cache misses) in its lifetime. Past
// either, the operation throws Bdd::TooComplex and the manager stays usable
// for what it had built; callers report the condition as too complex. Caches
// are bounded and cleared when full.
#pragma once

#include <cstdint>
#include <stdexcept>
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

  struct Limits {
    // About 60 bytes each with the unique table: ~60 MB at most. A rules
    // file of 20,000 rules over 20 flags needs under 1,000.
    size_t max_nodes = 1'000'000;
    // Cache misses of all operations together (the same file: ~75,000).
    uint64_t max_steps = 20'000'000;
  };

  // Thrown by an operation that would pass a budget.
  class TooComplex : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  Bdd() : Bdd(Limits{}) {}
  explicit Bdd(Limits limits);

  // A manager with this one's variables, nodes and budgets, and empty caches:
  // every ref of this one stands for the same function in the fork, and work
  // on the fork leaves this one as it is. The fork's steps go on from this
  // one's count, against the same budget.
  Bdd Fork() const;
  const Limits& limits() const { return limits_; }

  // Declares the next variable: variables are ordered in the diagram by
  // declaration. `display_rank` orders them in texts (Describe, Compact,
  // Cover); by default the declaration order.
  uint32_t NewVar(std::string name);
  uint32_t NewVar(std::string name, uint32_t display_rank);
  size_t var_count() const { return names_.size(); }
  const std::string& VarName(uint32_t var) const { return names_.at(var); }
  uint32_t DisplayRank(uint32_t var) const { return ranks_.at(var); }

  Ref Var(uint32_t var);  // "var is true"
  Ref Constant(bool value) const { return value ? kTrue : kFalse; }
  Ref Not(Ref f);
  Ref And(Ref f, Ref g);
  Ref Or(Ref f, Ref g);
  Ref AndNot(Ref f, Ref g) { return And(f, Not(g)); }
  // Conjunction and disjunction of many: operands are combined bottom
  // variables first, so a chain of n variables costs O(n), not O(n^2).
  Ref AndAll(std::vector<Ref> operands);
  Ref OrAll(std::vector<Ref> operands);
  Ref Restrict(Ref f, uint32_t var, bool value);  // cofactor
  Ref Exists(Ref f, uint32_t var);

  bool Implies(Ref f, Ref g) { return AndNot(f, g) == kFalse; }
  // The variable tested at the root of f (f a non-constant function).
  uint32_t TopVar(Ref f) const { return nodes_.at(f).var; }
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
  // would need more than `max_cubes` cubes, or if f and dont_care depend on
  // more than kMaxCoverVars variables (the recursion is one level per
  // variable). Literals and cubes are sorted by display rank.
  bool Cover(Ref f, Ref dont_care, std::vector<Cube>& cubes, size_t max_cubes = 64);

  // Text for the configurations in which f holds, for messages:
  // "in every configuration", "in no configuration", "when a is true",
  // "when a is true and b is false, or when c is true".
  std::string Describe(Ref f, Ref dont_care = kFalse);
  // Short form for labels: "a", "not a and b", "a or c"; "always", "never".
  std::string Compact(Ref f, Ref dont_care = kFalse);

  static constexpr size_t kMaxCoverVars = 128;
  // Describe's fallback names at most this many variables ("and N more").
  static constexpr size_t kMaxNamedVars = 8;

  size_t node_count() const { return nodes_.size(); }
  uint64_t step_count() const { return steps_; }

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
  void Step();
  Ref Apply(bool is_and, Ref f, Ref g);
  Ref Fold(bool is_and, std::vector<Ref> operands);
  uint32_t VarOf(Ref f) const { return nodes_[f].var; }
  // The cofactors of f for var (f itself when f does not test var at its top).
  Ref Low(Ref f, uint32_t var) const { return nodes_[f].var == var ? nodes_[f].lo : f; }
  Ref High(Ref f, uint32_t var) const { return nodes_[f].var == var ? nodes_[f].hi : f; }
  uint32_t RankOf(uint32_t var) const { return ranks_[var]; }
  Ref Isop(Ref lower, Ref upper, std::vector<Cube>& cubes, size_t max_cubes, bool& overflow);
  std::string DescribeAnew(Ref f, Ref dont_care);
  std::string CompactAnew(Ref f, Ref dont_care);
  // anew(f, dont_care), kept in `cache`.
  std::string Cached(std::unordered_map<uint64_t, std::string>& cache, Ref f, Ref dont_care,
                     std::string (Bdd::*anew)(Ref, Ref));
  std::string CubeText(const Cube& cube, bool compact) const;

  Limits limits_;
  uint64_t steps_ = 0;
  std::vector<std::string> names_;
  std::vector<uint32_t> ranks_;  // display rank per variable
  std::vector<Node> nodes_;
  std::unordered_map<NodeKey, Ref, NodeKeyHash> unique_;
  std::unordered_map<uint64_t, Ref> and_cache_, or_cache_;
  std::unordered_map<Ref, Ref> not_cache_;
  // Describe's and Compact's texts by (f, dont_care): the analysis words the
  // same few conditions for thousands of findings.
  std::unordered_map<uint64_t, std::string> describe_cache_, compact_cache_;
};

}  // namespace netpolc::analysis
