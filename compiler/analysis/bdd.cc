#include "compiler/analysis/bdd.h"

#include <algorithm>
#include <limits>

namespace netpolc::analysis {
namespace {
constexpr uint32_t kTerminalVar = std::numeric_limits<uint32_t>::max();

uint64_t PairKey(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }
}  // namespace

constexpr size_t kMaxCacheEntries = 1 << 20;

template <typename Map>
void MakeRoom(Map& cache) {
  if (cache.size() >= kMaxCacheEntries) cache.clear();
}

Bdd::Bdd(Limits limits) : limits_(limits) {
  nodes_.push_back({kTerminalVar, kFalse, kFalse});
  nodes_.push_back({kTerminalVar, kTrue, kTrue});
}

Bdd Bdd::Fork() const {
  Bdd fork(limits_);
  fork.steps_ = steps_;
  fork.names_ = names_;
  fork.ranks_ = ranks_;
  fork.nodes_ = nodes_;
  fork.unique_ = unique_;
  return fork;
}

uint32_t Bdd::NewVar(std::string name) {
  return NewVar(std::move(name), static_cast<uint32_t>(names_.size()));
}

uint32_t Bdd::NewVar(std::string name, uint32_t display_rank) {
  // Texts of the constants say whether there are variables.
  describe_cache_.clear();
  compact_cache_.clear();
  names_.push_back(std::move(name));
  ranks_.push_back(display_rank);
  return static_cast<uint32_t>(names_.size() - 1);
}

void Bdd::Step() {
  if (++steps_ > limits_.max_steps) {
    throw TooComplex("more than " + std::to_string(limits_.max_steps) + " steps");
  }
}

Bdd::Ref Bdd::Make(uint32_t var, Ref lo, Ref hi) {
  if (lo == hi) return lo;
  NodeKey key{var, lo, hi};
  auto it = unique_.find(key);
  if (it != unique_.end()) return it->second;
  if (nodes_.size() - 2 >= limits_.max_nodes) {
    throw TooComplex("more than " + std::to_string(limits_.max_nodes) + " nodes");
  }
  Ref ref = static_cast<Ref>(nodes_.size());
  nodes_.push_back({var, lo, hi});
  unique_.emplace(key, ref);
  return ref;
}

Bdd::Ref Bdd::Var(uint32_t var) { return Make(var, kFalse, kTrue); }

Bdd::Ref Bdd::Not(Ref f) {
  // The answers that need no stack, as the loop below gives them.
  if (f <= kTrue) return f == kTrue ? kFalse : kTrue;
  if (auto it = not_cache_.find(f); it != not_cache_.end()) return it->second;
  // Post-order over f's nodes with an explicit stack.
  struct Frame {
    Ref f;
    bool expanded;
  };
  std::vector<Frame> stack{{f, false}};
  std::vector<Ref> results;
  while (!stack.empty()) {
    Frame frame = stack.back();
    stack.pop_back();
    if (!frame.expanded) {
      if (frame.f <= kTrue) {
        results.push_back(frame.f == kTrue ? kFalse : kTrue);
        continue;
      }
      if (auto it = not_cache_.find(frame.f); it != not_cache_.end()) {
        results.push_back(it->second);
        continue;
      }
      Step();
      const Node& n = nodes_[frame.f];
      stack.push_back({frame.f, true});
      stack.push_back({n.hi, false});
      stack.push_back({n.lo, false});
      continue;
    }
    Ref lo = results[results.size() - 2], hi = results.back();
    results.resize(results.size() - 2);
    Ref r = Make(nodes_[frame.f].var, lo, hi);
    MakeRoom(not_cache_);
    not_cache_.emplace(frame.f, r);
    results.push_back(r);
  }
  return results.back();
}

Bdd::Ref Bdd::Apply(bool is_and, Ref f, Ref g) {
  auto terminal = [is_and](Ref f, Ref g, Ref& out) {
    Ref absorbing = is_and ? kFalse : kTrue, neutral = is_and ? kTrue : kFalse;
    if (f == absorbing || g == absorbing) {
      out = absorbing;
    } else if (f == neutral) {
      out = g;
    } else if (g == neutral || f == g) {
      out = f;
    } else {
      return false;
    }
    return true;
  };
  auto& cache = is_and ? and_cache_ : or_cache_;
  // The answers that need no stack, as the loop below gives them.
  if (Ref r; terminal(f, g, r)) return r;
  if (auto it = cache.find(f > g ? PairKey(g, f) : PairKey(f, g)); it != cache.end()) {
    return it->second;
  }
  // Each frame is visited three times: to look it up (state 0), after its
  // low cofactor (1) and after its high cofactor (2).
  struct Frame {
    Ref f, g;
    uint32_t var;
    uint8_t state;
  };
  std::vector<Frame> stack{{f, g, 0, 0}};
  std::vector<Ref> results;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.state == 0) {
      Ref r;
      if (terminal(top.f, top.g, r)) {
        results.push_back(r);
        stack.pop_back();
        continue;
      }
      if (top.f > top.g) std::swap(top.f, top.g);
      if (auto it = cache.find(PairKey(top.f, top.g)); it != cache.end()) {
        results.push_back(it->second);
        stack.pop_back();
        continue;
      }
      Step();
      top.var = std::min(VarOf(top.f), VarOf(top.g));
      top.state = 1;
      Frame child{Low(top.f, top.var), Low(top.g, top.var), 0, 0};
      stack.push_back(child);
    } else if (top.state == 1) {
      top.state = 2;
      Frame child{High(top.f, top.var), High(top.g, top.var), 0, 0};
      stack.push_back(child);
    } else {
      Ref lo = results[results.size() - 2], hi = results.back();
      results.resize(results.size() - 2);
      Ref r = Make(top.var, lo, hi);
      MakeRoom(cache);
      cache.emplace(PairKey(top.f, top.g), r);
      stack.pop_back();
      results.push_back(r);
    }
  }
  return results.back();
}

Bdd::Ref Bdd::And(Ref f, Ref g) { return Apply(true, f, g); }

Bdd::Ref Bdd::Or(Ref f, Ref g) { return Apply(false, f, g); }

Bdd::Ref Bdd::Fold(bool is_and, std::vector<Ref> operands) {
  // Bottom variables first: each step then adds the next operand above what
  // is built, instead of walking all of it.
  std::stable_sort(operands.begin(), operands.end(),
                   [&](Ref a, Ref b) { return VarOf(a) > VarOf(b); });
  Ref r = is_and ? kTrue : kFalse;
  for (Ref operand : operands) r = Apply(is_and, r, operand);
  return r;
}

Bdd::Ref Bdd::AndAll(std::vector<Ref> operands) { return Fold(true, std::move(operands)); }

Bdd::Ref Bdd::OrAll(std::vector<Ref> operands) { return Fold(false, std::move(operands)); }

Bdd::Ref Bdd::Restrict(Ref f, uint32_t var, bool value) {
  std::unordered_map<Ref, Ref> memo;
  struct Frame {
    Ref g;
    bool expanded;
  };
  std::vector<Frame> stack{{f, false}};
  std::vector<Ref> results;
  while (!stack.empty()) {
    Frame frame = stack.back();
    stack.pop_back();
    const Node& n = nodes_[frame.g];
    if (!frame.expanded) {
      if (n.var == kTerminalVar || n.var > var) {
        results.push_back(frame.g);
      } else if (n.var == var) {
        results.push_back(value ? n.hi : n.lo);
      } else if (auto it = memo.find(frame.g); it != memo.end()) {
        results.push_back(it->second);
      } else {
        Step();
        stack.push_back({frame.g, true});
        stack.push_back({n.hi, false});
        stack.push_back({n.lo, false});
      }
      continue;
    }
    Ref lo = results[results.size() - 2], hi = results.back();
    results.resize(results.size() - 2);
    Ref r = Make(n.var, lo, hi);
    memo.emplace(frame.g, r);
    results.push_back(r);
  }
  return results.back();
}

Bdd::Ref Bdd::Exists(Ref f, uint32_t var) {
  return Or(Restrict(f, var, false), Restrict(f, var, true));
}

bool Bdd::Eval(Ref f, const std::vector<bool>& assignment) const {
  while (f > kTrue) {
    const Node& n = nodes_[f];
    f = n.var < assignment.size() && assignment[n.var] ? n.hi : n.lo;
  }
  return f == kTrue;
}

std::vector<uint32_t> Bdd::Support(Ref f) const {
  std::vector<uint32_t> vars;
  std::vector<Ref> stack{f};
  std::unordered_map<Ref, bool> seen;
  while (!stack.empty()) {
    Ref g = stack.back();
    stack.pop_back();
    if (g <= kTrue || !seen.emplace(g, true).second) continue;
    vars.push_back(nodes_[g].var);
    stack.push_back(nodes_[g].lo);
    stack.push_back(nodes_[g].hi);
  }
  std::sort(vars.begin(), vars.end());
  vars.erase(std::unique(vars.begin(), vars.end()), vars.end());
  return vars;
}

bool Bdd::DependsOn(Ref f, uint32_t var) const {
  std::vector<uint32_t> support = Support(f);
  return std::binary_search(support.begin(), support.end(), var);
}

bool Bdd::PositiveIn(Ref f, uint32_t var) {
  return Implies(Restrict(f, var, false), Restrict(f, var, true));
}

bool Bdd::NegativeIn(Ref f, uint32_t var) {
  return Implies(Restrict(f, var, true), Restrict(f, var, false));
}

Bdd::Ref Bdd::Isop(Ref lower, Ref upper, std::vector<Cube>& cubes, size_t max_cubes,
                   bool& overflow) {
  if (overflow || lower == kFalse) return kFalse;
  Step();
  if (upper == kTrue) {
    cubes.push_back({});
    if (cubes.size() > max_cubes) overflow = true;
    return kTrue;
  }
  uint32_t v = std::min(VarOf(lower), VarOf(upper));
  auto cofactors = [&](Ref g) -> std::pair<Ref, Ref> {
    const Node& n = nodes_[g];
    if (n.var == v) return {n.lo, n.hi};
    return {g, g};
  };
  auto [l0, l1] = cofactors(lower);
  auto [u0, u1] = cofactors(upper);
  std::vector<Cube> c0, c1, cd;
  Ref r0 = Isop(AndNot(l0, u1), u0, c0, max_cubes, overflow);
  Ref r1 = Isop(AndNot(l1, u0), u1, c1, max_cubes, overflow);
  Ref rest = Or(AndNot(l0, r0), AndNot(l1, r1));
  Ref rd = Isop(rest, And(u0, u1), cd, max_cubes, overflow);
  if (overflow) return kFalse;
  for (Cube& c : c0) {
    c.insert(c.begin(), {v, false});
    cubes.push_back(std::move(c));
  }
  for (Cube& c : c1) {
    c.insert(c.begin(), {v, true});
    cubes.push_back(std::move(c));
  }
  for (Cube& c : cd) cubes.push_back(std::move(c));
  if (cubes.size() > max_cubes) overflow = true;
  Ref x = Var(v);
  return Or(Or(AndNot(r0, x), And(r1, x)), rd);
}

bool Bdd::Cover(Ref f, Ref dont_care, std::vector<Cube>& cubes, size_t max_cubes) {
  cubes.clear();
  Ref lower = AndNot(f, dont_care), upper = Or(f, dont_care);
  std::vector<uint32_t> vars = Support(lower), upper_vars = Support(upper);
  vars.insert(vars.end(), upper_vars.begin(), upper_vars.end());
  std::sort(vars.begin(), vars.end());
  if (std::unique(vars.begin(), vars.end()) - vars.begin() > static_cast<ptrdiff_t>(kMaxCoverVars)) {
    return false;
  }
  bool overflow = false;
  Isop(lower, upper, cubes, max_cubes, overflow);
  if (overflow) {
    cubes.clear();
    return false;
  }
  for (Cube& cube : cubes) {
    std::sort(cube.begin(), cube.end(),
              [&](const auto& a, const auto& b) { return RankOf(a.first) < RankOf(b.first); });
  }
  std::sort(cubes.begin(), cubes.end(), [&](const Cube& a, const Cube& b) {
    if (a.size() != b.size()) return a.size() < b.size();
    // Earlier variables first; for a variable, the "true" literal first.
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].first != b[i].first) return RankOf(a[i].first) < RankOf(b[i].first);
      if (a[i].second != b[i].second) return a[i].second;
    }
    return false;
  });
  return true;
}

std::string Bdd::CubeText(const Cube& cube, bool compact) const {
  std::string out;
  for (size_t i = 0; i < cube.size(); ++i) {
    if (i > 0) out += " and ";
    const std::string& name = names_[cube[i].first];
    if (compact) {
      out += cube[i].second ? name : "not " + name;
    } else {
      out += name + (cube[i].second ? " is true" : " is false");
    }
  }
  return out;
}

std::string Bdd::Cached(std::unordered_map<uint64_t, std::string>& cache, Ref f, Ref dont_care,
                        std::string (Bdd::*anew)(Ref, Ref)) {
  const uint64_t key = (static_cast<uint64_t>(f) << 32) | dont_care;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::string text = (this->*anew)(f, dont_care);
  cache.emplace(key, text);
  return text;
}

std::string Bdd::Describe(Ref f, Ref dont_care) {
  return Cached(describe_cache_, f, dont_care, &Bdd::DescribeAnew);
}

std::string Bdd::Compact(Ref f, Ref dont_care) {
  return Cached(compact_cache_, f, dont_care, &Bdd::CompactAnew);
}

std::string Bdd::DescribeAnew(Ref f, Ref dont_care) {
  if (Or(f, dont_care) == kTrue) {
    return names_.empty() ? "in this configuration" : "in every configuration";
  }
  if (AndNot(f, dont_care) == kFalse) {
    return names_.empty() ? "not in this configuration" : "in no configuration";
  }
  std::vector<Cube> cubes;
  if (!Cover(f, dont_care, cubes)) {
    std::string out = "in some configurations of ";
    std::vector<uint32_t> support = Support(f);
    std::sort(support.begin(), support.end(),
              [&](uint32_t a, uint32_t b) { return RankOf(a) < RankOf(b); });
    size_t shown = std::min(support.size(), kMaxNamedVars);
    for (size_t i = 0; i < shown; ++i) {
      if (i > 0) out += ", ";
      out += names_[support[i]];
    }
    if (shown < support.size()) out += " and " + std::to_string(support.size() - shown) + " more";
    return out;
  }
  std::string out;
  for (size_t i = 0; i < cubes.size(); ++i) {
    out += i == 0 ? "when " : ", or when ";
    out += CubeText(cubes[i], false);
  }
  return out;
}

std::string Bdd::CompactAnew(Ref f, Ref dont_care) {
  if (Or(f, dont_care) == kTrue) return "always";
  if (AndNot(f, dont_care) == kFalse) return "never";
  std::vector<Cube> cubes;
  if (!Cover(f, dont_care, cubes)) return "in some configurations";
  std::string out;
  for (size_t i = 0; i < cubes.size(); ++i) {
    if (i > 0) out += " or ";
    out += CubeText(cubes[i], true);
  }
  return out;
}

}  // namespace netpolc::analysis
