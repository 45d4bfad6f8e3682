// engine.agree as a property: the dense engine (explicit W) and the span engine (W = W⁽⁰⁾ + UᵀA,
// P updated through the Gram matrix) follow the same 200-step trajectory in double, on random
// small problems with projected or raw noise and standard or rotated signal bases.
//
// The two engines round differently (U W vs P⁽⁰⁾ + G A), so they differ by a few ulps per step;
// 200 steps of a contracting or mildly expanding GD map keep that far below 1e-10.
#include "bovit/run.hpp"

#include "bovit_test/compare.hpp"
#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>
#include <xtensor/xnorm.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <vector>

namespace bovit {
namespace {

struct agreement_tolerances {
  static double trajectory() { return 1e-10; }
  static int steps() { return 200; }
};

void require(const test::comparison& c) {
  if (!c.ok) RC_FAIL(c.report);
}

// Scale of each projection P[t, c] = x_t · W[:, c]: ‖x_t‖ ‖W[:, c]‖, the size of the summands whose
// rounding both engines inherit. W is the larger of the current and the initial column, because
// W⁽ᵗ⁾ = W⁽⁰⁾ + the summed steps and those can cancel W⁽⁰⁾.
matrix<double> projection_scale(const matrix<double>& U, const matrix<double>& W, const matrix<double>& W0) {
  std::vector<double> w(W.shape(1));
  for (std::size_t c = 0; c < w.size(); ++c)
    w[c] = std::max(xt::norm_l2(xt::view(W, xt::all(), c))(), xt::norm_l2(xt::view(W0, xt::all(), c))());
  matrix<double> s = matrix<double>::from_shape({U.shape(0), W.shape(1)});
  for (std::size_t t = 0; t < U.shape(0); ++t) {
    const double x = xt::norm_l2(xt::view(U, t, xt::all()))();
    for (std::size_t c = 0; c < w.size(); ++c) s(t, c) = x * w[c];
  }
  return s;
}

// [W_Q | W_K | W_V w_O], the matrix whose columns P projects on.
matrix<double> stacked(const parameters<double>& p) {
  vector<double> v = vector<double>::from_shape({p.W_V.shape(0)});
  gemv(p.W_V, p.w_O.data(), v.data());
  const std::size_t h = p.W_Q.shape(1);
  matrix<double> W = matrix<double>::from_shape({p.W_Q.shape(0), 2 * h + 1});
  xt::view(W, xt::all(), xt::range(0, h)) = p.W_Q;
  xt::view(W, xt::all(), xt::range(h, 2 * h)) = p.W_K;
  xt::view(W, xt::all(), 2 * h) = v;
  return W;
}

RC_GTEST_PROP(EngineProps, DenseAndSpanFollowTheSameTrajectory, ()) {
  config cfg = *test::gen_small_config({.max_N = 6, .max_M = 4, .min_d = 3, .max_d = 24, .max_h = 4});
  cfg.train.eta = *test::gen_real(0.01, 0.3);
  RC_TAG(cfg.data.orthogonal_noise ? "orthogonal" : "raw noise", cfg.data.signal_basis);
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  cfg.run.engine = "dense";
  auto dense = build_engine<double>(cfg, data);
  cfg.run.engine = "span";
  auto span = build_engine<double>(cfg, data);
  const double tol = agreement_tolerances::trajectory();
  const matrix<double> W0 = stacked(dense->weights());
  for (int t = 0; t <= agreement_tolerances::steps(); ++t) {
    const double ld = dense->evaluate().loss, ls = span->evaluate().loss;
    const auto loss = test::near_rel(ls, ld, tol, 0.0, fmt::format("train loss at step {}", t));
    if (!loss) RC_FAIL(loss.message());
    const auto scale = projection_scale(data.train.U, stacked(dense->weights()), W0);
    require(test::compare_scaled(span->projections(), dense->projections(), scale, tol,
                                 fmt::format("P = [q | k | v] at step {}", t)));
    if (t < agreement_tolerances::steps()) {
      dense->descend(cfg.train.eta);
      span->descend(cfg.train.eta);
    }
  }
  const auto wd = dense->weights(), ws = span->weights();
  require(test::compare_rel(ws.W_Q, wd.W_Q, tol, "W_Q at the end"));
  require(test::compare_rel(ws.W_K, wd.W_K, tol, "W_K at the end"));
  require(test::compare_rel(ws.W_V, wd.W_V, tol, "W_V at the end"));
  const auto td = dense->evaluate_test(), ts = span->evaluate_test();
  const auto test_loss = test::near_rel(ts.loss, td.loss, tol, 0.0, "test loss at the end");
  if (!test_loss) RC_FAIL(test_loss.message());
}

// The comparison is sharp enough to see one wrong step: a dense engine that takes a step of
// η(1 + 1e-6) once leaves the span trajectory by more than the tolerance.
TEST(EngineProps, AgreementCheckSeesAPerturbedStep) {
  config cfg = test::tiny_config(4, 3, 8, 2, 2);
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  cfg.run.engine = "dense";
  auto dense = build_engine<double>(cfg, data);
  cfg.run.engine = "span";
  auto span = build_engine<double>(cfg, data);
  dense->evaluate();
  span->evaluate();
  dense->descend(cfg.train.eta * (1 + 1e-6));
  span->descend(cfg.train.eta);
  dense->evaluate();
  span->evaluate();
  const auto c = test::compare_rel(span->projections(), dense->projections(), agreement_tolerances::trajectory(), "P");
  EXPECT_FALSE(c.ok);
  EXPECT_GT(c.worst, 1e-9);
}

}  // namespace
}  // namespace bovit
