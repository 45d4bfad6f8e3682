// Exact checks (grad.fd, engine.agree, decomp.*): each holds on a real theory-preset run and
// fails when the identity it tests is broken by a perturbation.
#include "bovit/checks/decomposition.hpp"
#include "bovit/checks/engines.hpp"
#include "bovit/checks/gradient.hpp"
#include "bovit/run.hpp"

#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>

namespace bovit::checks {
namespace {

config preset(const std::string& name) { return test::validated_preset(name); }

// A recorded theory-benign trajectory (every step), shared by the tests of this file.
const trajectory<double>& benign_trajectory() {
  static const trajectory<double> tr = [] {
    const config cfg = preset("theory-benign");
    auto eng = build_engine<double>(cfg);
    trajectory_recorder<double> rec({1, 10, true, ""});
    observer<double>* obs[] = {&rec};
    train<double>(*eng, cfg.train, obs);
    return rec.result();
  }();
  return tr;
}

TEST(GradFd, HoldsOnTheAnalyticGradientAndFailsOnAPerturbedOne) {
  config cfg = preset("theory-benign");
  cfg.data.d = 200;  // keeps the mp50 projections cheap
  cfg.train.max_steps = 30;
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  auto eng = build_engine<double>(cfg, data);
  train<double>(*eng, cfg.train);  // the last evaluate() is at step 30
  const auto w = eng->weights();
  auto g = eng->gradient();
  const auto ok = check_gradient_fd(data.train, w, g, cfg.model.tau, 30);
  EXPECT_TRUE(ok.holds) << ok.detail;
  EXPECT_LT(ok.measured, ok.bound);
  // A relative error of 1e-9 in one entry of ∇W_K is far above rounding.
  std::size_t top = 0;
  for (std::size_t k = 0; k < g.W_K.size(); ++k)
    if (std::abs(g.W_K.data()[k]) > std::abs(g.W_K.data()[top])) top = k;
  g.W_K.data()[top] *= 1 + 1e-9;
  const auto bad = check_gradient_fd(data.train, w, g, cfg.model.tau, 30);
  EXPECT_FALSE(bad.holds) << bad.detail;
  EXPECT_EQ(bad.first_violation_step, 30);
  EXPECT_GT(bad.measured, bad.bound);
}

TEST(EngineAgree, DenseAndSpanAgreeAndAPerturbedInitDoesNot) {
  config cfg = preset("theory-harmful");
  cfg.data.d = 400;
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  config dense_cfg = cfg;
  dense_cfg.run.engine = "dense";
  {
    auto a = build_engine<double>(dense_cfg, data);
    auto b = build_engine<double>(cfg, data);
    const auto r = check_engine_agreement<double>(*a, *b, cfg.train.eta, 300);
    EXPECT_TRUE(r.holds) << r.detail;
    EXPECT_LT(r.measured, 0.1);  // far inside the allowance
  }
  // The same run from weights that differ by 1e-9 relative in W_Q: no longer the same trajectory.
  auto init = init_parameters(cfg, seed_streams(cfg.run.seed).init);
  init.W_Q *= 1 + 1e-9;
  auto a = make_engine<double>("dense", data, init, cfg.model);
  auto b = build_engine<double>(cfg, data);
  const auto r = check_engine_agreement<double>(*a, *b, cfg.train.eta, 300);
  EXPECT_FALSE(r.holds) << r.detail;
  EXPECT_EQ(r.first_violation_step, 0);
}

TEST(DecompIdentity, HoldsOnARunAndFailsWhenAValueIsPerturbed) {
  auto tr = benign_trajectory();
  const auto ok = check_decomposition_identity(tr);
  EXPECT_TRUE(ok.holds) << ok.detail;
  auto& s = tr.steps[50];
  s.values(tr.frame.token_of(3, 2)) *= 1 + 1e-10;
  const auto bad = check_decomposition_identity(tr);
  EXPECT_FALSE(bad.holds) << bad.detail;
  EXPECT_EQ(bad.first_violation_step, 50);
}

TEST(DecompIdentity, DenseValueUpdateLiesInTheTokenSpanAndAnOrthogonalKickDoesNot) {
  config cfg = preset("theory-benign");
  cfg.data.d = 300;
  cfg.run.engine = "dense";
  cfg.train.max_steps = 40;
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  auto eng = build_engine<double>(cfg, data);
  const auto w0 = eng->weights();
  train<double>(*eng, cfg.train);
  const auto w = eng->weights();
  const auto du = value_change(w0, w);
  const auto ok = check_value_in_span(data.train.U, du, 40);
  EXPECT_TRUE(ok.holds) << ok.detail;
  // T = 62 tokens in d = 300: a random direction has a large component off their span.
  vector<double> kick = du;
  for (std::size_t i = 0; i < kick.size(); ++i) kick(i) += 1e-6 * std::sin(1.0 + 7.0 * i);
  const auto bad = check_value_in_span(data.train.U, kick, 40);
  EXPECT_FALSE(bad.holds) << bad.detail;
}

TEST(DecompMonotone, HoldsOnARunAndFailsWhenACoefficientDecreases) {
  auto tr = benign_trajectory();
  const auto ok = check_decomposition_monotone(tr);
  EXPECT_TRUE(ok.holds) << ok.detail;
  // ρ of token (n=2, l=1) falls by 1% at step 120.
  const int row = tr.frame.token_of(2, 1);
  tr.steps[120].coefficients(row) *= 0.99;
  const auto bad = check_decomposition_monotone(tr);
  EXPECT_FALSE(bad.holds) << bad.detail;
  EXPECT_EQ(bad.first_violation_step, 120);
}

TEST(DecompMonotone, FailsWhenGammaStallsWhileTheLawPredictsGrowth) {
  auto tr = benign_trajectory();
  tr.steps[80].coefficients(tr.frame.plus_row) = tr.steps[79].coefficients(tr.frame.plus_row);
  tr.steps[81].coefficients(tr.frame.plus_row) = tr.steps[79].coefficients(tr.frame.plus_row);
  const auto bad = check_decomposition_monotone(tr);
  EXPECT_FALSE(bad.holds) << bad.detail;
}

TEST(DecompRate, HoldsOnARunAndFailsWhenTheLossDerivativeIsOff) {
  auto tr = benign_trajectory();
  const auto ok = check_decomposition_rate(tr);
  EXPECT_TRUE(ok.holds) << ok.detail;
  // The update law from step 30 no longer matches the step taken if ℓ'_5 was 0.1% different.
  tr.steps[30].lprime(5) *= 1.001;
  const auto bad = check_decomposition_rate(tr);
  EXPECT_FALSE(bad.holds) << bad.detail;
  EXPECT_EQ(bad.first_violation_step, 31);
}

TEST(DecompRate, NeedsConsecutiveSteps) {
  auto tr = benign_trajectory();
  std::vector<snapshot<double>> every_other;
  for (std::size_t k = 0; k < tr.steps.size(); k += 2) every_other.push_back(tr.steps[k]);
  tr.steps = every_other;
  const auto r = check_decomposition_rate(tr);
  EXPECT_FALSE(r.holds);
  EXPECT_NE(r.detail.find("record.every"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace bovit::checks
