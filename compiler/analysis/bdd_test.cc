#include "compiler/analysis/bdd.h"

#include <random>
#include <string>
#include <vector>

#include "third_party/catch2_main.h"

namespace netpolc::analysis {
namespace {

// Every assignment of `n` variables.
std::vector<std::vector<bool>> Assignments(size_t n) {
  std::vector<std::vector<bool>> out;
  for (uint32_t bits = 0; bits < (1u << n); ++bits) {
    std::vector<bool> a(n);
    for (size_t i = 0; i < n; ++i) a[i] = (bits >> i) & 1;
    out.push_back(a);
  }
  return out;
}

bool CubeHolds(const Bdd::Cube& cube, const std::vector<bool>& a) {
  for (const auto& [var, value] : cube) {
    if (a[var] != value) return false;
  }
  return true;
}

TEST_CASE("BDD operations are canonical") {
  Bdd bdd;
  Bdd::Ref a = bdd.Var(bdd.NewVar("a"));
  Bdd::Ref b = bdd.Var(bdd.NewVar("b"));
  CHECK(bdd.And(a, b) == bdd.And(b, a));
  CHECK(bdd.Or(a, bdd.Not(a)) == Bdd::kTrue);
  CHECK(bdd.And(a, bdd.Not(a)) == Bdd::kFalse);
  CHECK(bdd.Not(bdd.And(a, b)) == bdd.Or(bdd.Not(a), bdd.Not(b)));  // De Morgan
  CHECK(bdd.Implies(bdd.And(a, b), a));
  CHECK_FALSE(bdd.Implies(a, bdd.And(a, b)));
  CHECK(bdd.Restrict(bdd.And(a, b), 0, true) == b);
  CHECK(bdd.Restrict(bdd.And(a, b), 0, false) == Bdd::kFalse);
  CHECK(bdd.Exists(bdd.And(a, b), 0) == b);
  CHECK(bdd.Support(bdd.Or(a, b)) == std::vector<uint32_t>{0, 1});
  CHECK(bdd.Support(bdd.Or(a, bdd.Not(a))).empty());
  CHECK(bdd.PositiveIn(bdd.Or(a, b), 0));
  CHECK_FALSE(bdd.NegativeIn(bdd.Or(a, b), 0));
  CHECK(bdd.NegativeIn(bdd.Or(bdd.Not(a), b), 0));
}

TEST_CASE("Descriptions name the configurations") {
  Bdd bdd;
  Bdd::Ref tls = bdd.Var(bdd.NewVar("internal_tls"));
  Bdd::Ref metrics = bdd.Var(bdd.NewVar("metrics"));
  CHECK(bdd.Describe(bdd.Not(tls)) == "when internal_tls is false");
  CHECK(bdd.Describe(Bdd::kTrue) == "in every configuration");
  CHECK(bdd.Describe(Bdd::kFalse) == "in no configuration");
  CHECK(bdd.Describe(bdd.And(tls, bdd.Not(metrics))) ==
        "when internal_tls is true and metrics is false");
  CHECK(bdd.Describe(bdd.Or(tls, metrics)) ==
        "when internal_tls is true, or when metrics is true");
  CHECK(bdd.Compact(bdd.Or(bdd.Not(tls), metrics)) == "not internal_tls or metrics");
  CHECK(bdd.Compact(Bdd::kTrue) == "always");
  // With a don't-care set, only what matters inside the care set is said.
  CHECK(bdd.Compact(bdd.And(tls, metrics), bdd.Not(metrics)) == "internal_tls");
  Bdd fixed;
  CHECK(fixed.Describe(Bdd::kTrue) == "in this configuration");
}

TEST_CASE("Covers are exact and irredundant on random functions") {
  std::mt19937 rng(7);
  const size_t n = 5;
  for (int round = 0; round < 200; ++round) {
    Bdd bdd;
    std::vector<Bdd::Ref> vars;
    for (size_t i = 0; i < n; ++i) vars.push_back(bdd.Var(bdd.NewVar("v" + std::to_string(i))));
    // A random function from its truth table.
    Bdd::Ref f = Bdd::kFalse;
    std::vector<std::vector<bool>> all = Assignments(n);
    std::vector<bool> table(all.size());
    for (size_t row = 0; row < all.size(); ++row) {
      table[row] = rng() % 3 == 0;
      if (!table[row]) continue;
      Bdd::Ref minterm = Bdd::kTrue;
      for (size_t i = 0; i < n; ++i) minterm = bdd.And(minterm, all[row][i] ? vars[i] : bdd.Not(vars[i]));
      f = bdd.Or(f, minterm);
    }
    for (size_t row = 0; row < all.size(); ++row) REQUIRE(bdd.Eval(f, all[row]) == table[row]);
    std::vector<Bdd::Cube> cubes;
    REQUIRE(bdd.Cover(f, Bdd::kFalse, cubes, 1000));
    for (size_t row = 0; row < all.size(); ++row) {
      bool covered = false;
      for (const Bdd::Cube& c : cubes) covered = covered || CubeHolds(c, all[row]);
      REQUIRE(covered == table[row]);
    }
    // Irredundant: dropping any cube loses a point of f.
    for (size_t skip = 0; skip < cubes.size(); ++skip) {
      bool loses = false;
      for (size_t row = 0; row < all.size() && !loses; ++row) {
        if (!table[row]) continue;
        bool covered = false;
        for (size_t c = 0; c < cubes.size(); ++c) {
          if (c != skip) covered = covered || CubeHolds(cubes[c], all[row]);
        }
        loses = !covered;
      }
      REQUIRE(loses);
    }
  }
}

TEST_CASE("Sixty flags without enumerating configurations") {
  Bdd bdd;
  std::vector<Bdd::Ref> vars;
  for (int i = 0; i < 60; ++i) vars.push_back(bdd.Var(bdd.NewVar("f" + std::to_string(i))));
  // (f0 and f1) or (f2 and f3) or ... : 2^60 configurations, a linear BDD.
  Bdd::Ref f = Bdd::kFalse;
  for (int i = 0; i + 1 < 60; i += 2) f = bdd.Or(f, bdd.And(vars[i], vars[i + 1]));
  CHECK(bdd.node_count() < 1000);
  CHECK(bdd.Support(f).size() == 60);
  Bdd::Ref g = bdd.And(f, bdd.Not(vars[0]));
  CHECK(bdd.Implies(g, f));
  std::vector<Bdd::Cube> cubes;
  CHECK(bdd.Cover(f, Bdd::kFalse, cubes));
  CHECK(cubes.size() == 30);
}

TEST_CASE("Fifty thousand variables in a chain: no recursion per variable") {
  Bdd bdd;
  const int n = 50000;
  std::vector<Bdd::Ref> vars;
  for (int i = 0; i < n; ++i) vars.push_back(bdd.Var(bdd.NewVar("f" + std::to_string(i))));
  // Conjoined in declaration order, each step walks the whole chain built so
  // far (quadratic, and as deep as the chain when recursive).
  Bdd::Ref all = Bdd::kTrue;
  for (int i = 0; i < 500; ++i) all = bdd.And(all, vars[i]);
  CHECK(bdd.Support(all).size() == 500);
  Bdd::Ref chain = bdd.AndAll(vars);
  CHECK(bdd.Support(chain).size() == static_cast<size_t>(n));
  Bdd::Ref either = bdd.OrAll(vars);
  CHECK(bdd.Not(bdd.Not(chain)) == chain);
  CHECK(bdd.Implies(chain, either));
  CHECK(bdd.And(chain, bdd.Not(vars[n - 1])) == Bdd::kFalse);
  CHECK(bdd.Or(bdd.Not(chain), vars[n - 1]) == Bdd::kTrue);
  CHECK(bdd.Restrict(chain, n - 1, true) == bdd.AndAll({vars.begin(), vars.end() - 1}));
  CHECK(bdd.Exists(chain, 0) == bdd.AndAll({vars.begin() + 1, vars.end()}));
  // Too many variables for a readable cover: the text names a few.
  std::string text = bdd.Describe(chain);
  CHECK(text.size() < 200);
  CHECK(text.find("and 49992 more") != std::string::npos);
}

TEST_CASE("Past the node budget, operations throw instead of growing") {
  Bdd bdd(Bdd::Limits{10000, 1000000});
  // (a_i and b_(n-1-i)) with the a's above the b's: 2^n nodes.
  const int n = 30;
  std::vector<Bdd::Ref> a, b;
  for (int i = 0; i < n; ++i) a.push_back(bdd.Var(bdd.NewVar("a" + std::to_string(i))));
  for (int i = 0; i < n; ++i) b.push_back(bdd.Var(bdd.NewVar("b" + std::to_string(i))));
  auto build = [&] {
    std::vector<Bdd::Ref> terms;
    for (int i = 0; i < n; ++i) terms.push_back(bdd.And(a[i], b[n - 1 - i]));
    return bdd.OrAll(terms);
  };
  CHECK_THROWS_AS(build(), Bdd::TooComplex);
  CHECK(bdd.node_count() <= 10000 + 2);
  // What was built stays usable after the error.
  CHECK(bdd.Or(a[0], a[0]) == a[0]);
  CHECK(bdd.And(a[0], Bdd::kTrue) == a[0]);
}

TEST_CASE("The step budget bounds the work of operations that make no node") {
  Bdd bdd(Bdd::Limits{1000000, 5000});
  std::vector<Bdd::Ref> vars;
  for (int i = 0; i < 20000; ++i) vars.push_back(bdd.Var(bdd.NewVar("f" + std::to_string(i))));
  CHECK_THROWS_AS(bdd.AndAll(vars), Bdd::TooComplex);
}

TEST_CASE("A fork answers as its manager and leaves it as it was") {
  Bdd::Limits limits;
  limits.max_steps = 1000000;
  Bdd base(limits);
  std::vector<Bdd::Ref> vars;
  for (int i = 0; i < 6; ++i) vars.push_back(base.Var(base.NewVar("v" + std::to_string(i))));
  Bdd::Ref f = base.Or(base.And(vars[0], vars[1]), base.And(vars[2], base.Not(vars[3])));
  const std::string text = base.Describe(f);  // (makes nodes of its own)
  const size_t nodes = base.node_count();
  const uint64_t steps = base.step_count();

  Bdd fork = base.Fork();
  CHECK(fork.var_count() == base.var_count());
  CHECK(fork.step_count() == steps);
  CHECK(fork.limits().max_steps == limits.max_steps);
  // The base's refs stand for the same functions in the fork, and the fork
  // makes the same function into the same ref.
  CHECK(fork.Or(fork.And(vars[0], vars[1]), fork.And(vars[2], fork.Not(vars[3]))) == f);
  CHECK(fork.Describe(f) == text);
  for (const std::vector<bool>& a : Assignments(6)) CHECK(fork.Eval(f, a) == base.Eval(f, a));
  // New functions, the same in both; the base gains nothing from the fork's.
  std::mt19937 rng(3);
  std::vector<Bdd::Ref> in_fork = vars, in_base = vars;
  for (int k = 0; k < 200; ++k) {
    size_t i = rng() % in_fork.size(), j = rng() % in_fork.size();
    in_fork.push_back(rng() % 2 ? fork.And(in_fork[i], fork.Not(in_fork[j]))
                                : fork.Or(in_fork[i], in_fork[j]));
  }
  CHECK(base.node_count() == nodes);
  CHECK(base.step_count() == steps);
  CHECK(fork.step_count() >= steps);
  rng.seed(3);
  for (int k = 0; k < 200; ++k) {
    size_t i = rng() % in_base.size(), j = rng() % in_base.size();
    in_base.push_back(rng() % 2 ? base.And(in_base[i], base.Not(in_base[j]))
                                : base.Or(in_base[i], in_base[j]));
  }
  for (size_t k = 0; k < in_fork.size(); ++k) {
    CHECK(fork.Describe(in_fork[k]) == base.Describe(in_base[k]));
    for (const std::vector<bool>& a : Assignments(6)) {
      CHECK(fork.Eval(in_fork[k], a) == base.Eval(in_base[k], a));
    }
  }
}

TEST_CASE("Texts list variables in their display order, not the diagram's") {
  Bdd bdd;
  // Diagram order b, a; declared (displayed) a first.
  Bdd::Ref b = bdd.Var(bdd.NewVar("b", 1));
  Bdd::Ref a = bdd.Var(bdd.NewVar("a", 0));
  CHECK(bdd.Describe(bdd.And(a, bdd.Not(b))) == "when a is true and b is false");
  CHECK(bdd.Compact(bdd.Or(b, a)) == "a or b");
}

}  // namespace
}  // namespace netpolc::analysis
