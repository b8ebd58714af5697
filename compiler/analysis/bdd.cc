#include "compiler/analysis/bdd.h"

#include <algorithm>
#include <limits>

namespace netpolc::analysis {
namespace {
constexpr uint32_t kTerminalVar = std::numeric_limits<uint32_t>::max();

uint64_t PairKey(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }
}  // namespace

Bdd::Bdd() {
  nodes_.push_back({kTerminalVar, kFalse, kFalse});
  nodes_.push_back({kTerminalVar, kTrue, kTrue});
}

uint32_t Bdd::NewVar(std::string name) {
  names_.push_back(std::move(name));
  return static_cast<uint32_t>(names_.size() - 1);
}

Bdd::Ref Bdd::Make(uint32_t var, Ref lo, Ref hi) {
  if (lo == hi) return lo;
  NodeKey key{var, lo, hi};
  auto it = unique_.find(key);
  if (it != unique_.end()) return it->second;
  Ref ref = static_cast<Ref>(nodes_.size());
  nodes_.push_back({var, lo, hi});
  unique_.emplace(key, ref);
  return ref;
}

Bdd::Ref Bdd::Var(uint32_t var) { return Make(var, kFalse, kTrue); }

Bdd::Ref Bdd::Not(Ref f) {
  if (f == kFalse) return kTrue;
  if (f == kTrue) return kFalse;
  if (auto it = not_cache_.find(f); it != not_cache_.end()) return it->second;
  Node n = nodes_[f];
  Ref lo = Not(n.lo);
  Ref hi = Not(n.hi);
  Ref r = Make(n.var, lo, hi);
  not_cache_.emplace(f, r);
  return r;
}

Bdd::Ref Bdd::And(Ref f, Ref g) {
  if (f == kFalse || g == kFalse) return kFalse;
  if (f == kTrue) return g;
  if (g == kTrue || f == g) return f;
  if (f > g) std::swap(f, g);
  uint64_t key = PairKey(f, g);
  if (auto it = and_cache_.find(key); it != and_cache_.end()) return it->second;
  Node a = nodes_[f], b = nodes_[g];
  uint32_t v = std::min(a.var, b.var);
  Ref f0 = a.var == v ? a.lo : f, f1 = a.var == v ? a.hi : f;
  Ref g0 = b.var == v ? b.lo : g, g1 = b.var == v ? b.hi : g;
  Ref lo = And(f0, g0);
  Ref hi = And(f1, g1);
  Ref r = Make(v, lo, hi);
  and_cache_.emplace(key, r);
  return r;
}

Bdd::Ref Bdd::Or(Ref f, Ref g) {
  if (f == kTrue || g == kTrue) return kTrue;
  if (f == kFalse) return g;
  if (g == kFalse || f == g) return f;
  if (f > g) std::swap(f, g);
  uint64_t key = PairKey(f, g);
  if (auto it = or_cache_.find(key); it != or_cache_.end()) return it->second;
  Node a = nodes_[f], b = nodes_[g];
  uint32_t v = std::min(a.var, b.var);
  Ref f0 = a.var == v ? a.lo : f, f1 = a.var == v ? a.hi : f;
  Ref g0 = b.var == v ? b.lo : g, g1 = b.var == v ? b.hi : g;
  Ref lo = Or(f0, g0);
  Ref hi = Or(f1, g1);
  Ref r = Make(v, lo, hi);
  or_cache_.emplace(key, r);
  return r;
}

Bdd::Ref Bdd::Restrict(Ref f, uint32_t var, bool value) {
  std::unordered_map<Ref, Ref> memo;
  auto go = [&](auto& self, Ref g) -> Ref {
    Node n = nodes_[g];
    if (n.var == kTerminalVar || n.var > var) return g;
    if (n.var == var) return value ? n.hi : n.lo;
    if (auto it = memo.find(g); it != memo.end()) return it->second;
    Ref lo = self(self, n.lo);
    Ref hi = self(self, n.hi);
    Ref r = Make(n.var, lo, hi);
    memo.emplace(g, r);
    return r;
  };
  return go(go, f);
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
  bool overflow = false;
  Isop(AndNot(f, dont_care), Or(f, dont_care), cubes, max_cubes, overflow);
  if (overflow) {
    cubes.clear();
    return false;
  }
  std::sort(cubes.begin(), cubes.end(), [](const Cube& a, const Cube& b) {
    if (a.size() != b.size()) return a.size() < b.size();
    // Earlier variables first; for a variable, the "true" literal first.
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].first != b[i].first) return a[i].first < b[i].first;
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

std::string Bdd::Describe(Ref f, Ref dont_care) {
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
    for (size_t i = 0; i < support.size(); ++i) {
      if (i > 0) out += ", ";
      out += names_[support[i]];
    }
    return out;
  }
  std::string out;
  for (size_t i = 0; i < cubes.size(); ++i) {
    out += i == 0 ? "when " : ", or when ";
    out += CubeText(cubes[i], false);
  }
  return out;
}

std::string Bdd::Compact(Ref f, Ref dont_care) {
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
