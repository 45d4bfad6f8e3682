// grad.fd as a property: the analytic gradient of both engines equals central finite differences of
// the training loss in mp50, and the double gradient equals the mp50 one, on random small problems
// (shapes, data options, init scales, τ, and a few GD steps taken first).
//
// Error budget of the central difference (L(θ + h e) − L(θ − h e)) / 2h in mp50 (ε ≈ 5e-51):
// truncation h²·|∂³L|/6 and rounding ≈ ε·|L|/h ≈ 3.5e-36 absolute for the O(1) losses here. The
// error is therefore measured relative to each block's largest entry (floor fraction 1): a block
// whose gradient is tiny (a small w_O makes every entry ~1e-24) must not be judged entry-wise
// against the FD rounding floor. Relative to the block, both terms stay ≲ 1e-27.
#include "bovit/engine/make_engine.hpp"
#include "bovit/run.hpp"

#include "bovit_test/compare.hpp"
#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace bovit {
namespace {

struct gradient_tolerances {
  static mp50 fd_step() { return mp50("1e-15"); }
  static mp50 fd_vs_analytic() { return mp50("1e-25"); }  // both in mp50
  static double double_vs_mp50() { return 1e-9; }         // κ·ε_double with κ up to ~1e6
};

template <real_scalar Real>
Real loss_at(const std::string& kind, const dataset<Real>& data, const parameters<Real>& p, const model_config& m) {
  auto e = make_engine<Real>(kind, data, p, m);
  return e->evaluate().loss;
}

// Central differences of L_S over every entry of `block` (a member of parameters<mp50>).
template <class Block>
Block fd_gradient(const std::string& kind, const dataset<mp50>& data, const parameters<mp50>& at,
                  const model_config& model, Block parameters<mp50>::*block) {
  const mp50 h = gradient_tolerances::fd_step();
  Block out = at.*block;
  parameters<mp50> p = at;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const mp50 x = (at.*block).data()[i];
    (p.*block).data()[i] = x + h;
    const mp50 up = loss_at(kind, data, p, model);
    (p.*block).data()[i] = x - h;
    const mp50 down = loss_at(kind, data, p, model);
    (p.*block).data()[i] = x;
    out.data()[i] = (up - down) / (2 * h);
  }
  return out;
}

// Builds the engine of `cfg` in Real and takes `steps` GD steps, then evaluates.
template <real_scalar Real>
std::unique_ptr<engine<Real>> engine_after(const config& cfg, const dataset<double>& data, int steps) {
  auto eng = build_engine<Real>(cfg, data);
  for (int t = 0; t < steps; ++t) {
    eng->evaluate();
    eng->descend(Real(cfg.train.eta));
  }
  eng->evaluate();
  return eng;
}

void require(const test::comparison& c) {
  if (!c.ok) RC_FAIL(c.report);
}

rc::Gen<config> gen_gradient_case(test::shape_limits lim) {
  return rc::gen::exec([lim] {
    config c = *test::gen_small_config(lim);
    c.run.engine = *rc::gen::element<std::string>("dense", "span");
    c.model.train_w_O = c.run.engine == "dense" && *rc::gen::arbitrary<bool>();
    c.train.eta = *test::gen_real(0.05, 0.5);
    c.validate();
    return c;
  });
}

RC_GTEST_PROP(GradientProps, AnalyticEqualsMp50FiniteDifferences, ()) {
  const config cfg = *gen_gradient_case({.max_N = 4, .max_M = 3, .min_d = 3, .max_d = 6, .max_h = 3});
  const int steps = *rc::gen::inRange(0, 3);
  RC_TAG(cfg.run.engine);
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  auto eng = engine_after<mp50>(cfg, data, steps);
  const auto g = eng->gradient();
  const auto w = eng->weights();
  const auto& d = eng->data();
  const mp50 tol = gradient_tolerances::fd_vs_analytic();
  const auto& kind = cfg.run.engine;
  require(test::compare_rel(g.W_Q, fd_gradient(kind, d, w, cfg.model, &parameters<mp50>::W_Q), tol, "dW_Q", mp50(1)));
  require(test::compare_rel(g.W_K, fd_gradient(kind, d, w, cfg.model, &parameters<mp50>::W_K), tol, "dW_K", mp50(1)));
  require(test::compare_rel(g.W_V, fd_gradient(kind, d, w, cfg.model, &parameters<mp50>::W_V), tol, "dW_V", mp50(1)));
  if (cfg.model.train_w_O)
    require(test::compare_rel(g.w_O, fd_gradient(kind, d, w, cfg.model, &parameters<mp50>::w_O), tol, "dw_O", mp50(1)));
}

RC_GTEST_PROP(GradientProps, DoubleGradientMatchesMp50, ()) {
  const config cfg = *gen_gradient_case({.max_N = 6, .max_M = 4, .min_d = 3, .max_d = 12, .max_h = 4});
  const int steps = *rc::gen::inRange(0, 4);
  RC_TAG(cfg.run.engine);
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  auto lo = engine_after<double>(cfg, data, steps);
  auto hi = engine_after<mp50>(cfg, data, steps);
  const auto gl = lo->gradient();
  const auto gh = hi->gradient();
  const mp50 tol(gradient_tolerances::double_vs_mp50());
  auto up = [](const auto& x) { return convert<mp50>(x); };
  require(test::compare_rel(up(gl.W_Q), gh.W_Q, tol, "dW_Q"));
  require(test::compare_rel(up(gl.W_K), gh.W_K, tol, "dW_K"));
  require(test::compare_rel(up(gl.W_V), gh.W_V, tol, "dW_V"));
  if (cfg.model.train_w_O) require(test::compare_rel(up(gl.w_O), gh.w_O, tol, "dw_O"));
  const auto loss = test::near_rel(mp50(lo->state().loss), hi->state().loss, tol, mp50(0), "train loss");
  if (!loss) RC_FAIL(loss.message());
}

// The finite-difference reference itself must detect a wrong gradient: a sign flip or a
// 1e-20 relative perturbation of one entry is reported (so the property above can fail).
TEST(GradientProps, FiniteDifferenceCheckDetectsAWrongEntry) {
  config cfg = test::tiny_config();
  cfg.run.engine = "dense";
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  auto eng = engine_after<mp50>(cfg, data, 1);
  auto g = eng->gradient();
  const auto fd = fd_gradient("dense", eng->data(), eng->weights(), cfg.model, &parameters<mp50>::W_Q);
  const mp50 tol = gradient_tolerances::fd_vs_analytic();
  const auto good = test::compare_rel(g.W_Q, fd, tol, "dW_Q", mp50(1));
  EXPECT_TRUE(good.ok) << good.report;
  EXPECT_LT(good.worst, 1e-28);
  g.W_Q(1, 0) *= mp50(1) + mp50("1e-20");
  const auto bad = test::compare_rel(g.W_Q, fd, tol, "dW_Q", mp50(1));
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.report.find("dW_Q[2]"), std::string::npos) << bad.report;
}

}  // namespace
}  // namespace bovit
