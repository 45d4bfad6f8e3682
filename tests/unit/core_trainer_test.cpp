// The trainer (spec §3): the stop rules, the non-finite stop (names the quantity and the step, keeps
// the partial trajectory) and observers that stop the run.
#include "bovit/run.hpp"
#include "bovit/train/trainer.hpp"
#include "bovit/train/trajectory.hpp"

#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace bovit {
namespace {

// Records every step it sees and optionally stops at a given step.
class probe final : public observer<double> {
 public:
  int begins = 0, ends = 0, stop_at = -1;
  std::vector<int> steps;
  std::vector<double> losses;
  std::vector<bool> lasts;
  train_result<double> seen;

  void on_begin(const engine<double>&, const train_config&) override { ++begins; }
  action on_step(const step_record<double>& r) override {
    steps.push_back(r.step);
    losses.push_back(r.state.loss);
    lasts.push_back(r.last);
    return r.step == stop_at ? action::stop : action::proceed;
  }
  void on_end(const engine<double>&, const train_result<double>& r) override {
    ++ends;
    seen = r;
  }
};

train_result<double> run(const config& cfg, std::vector<observer<double>*> obs) {
  auto eng = build_engine<double>(cfg);
  return train<double>(*eng, cfg.train, obs);
}

TEST(Trainer, MaxStepsStopsAfterTheBudget) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 7;
  probe p;
  const auto r = run(cfg, {&p});
  EXPECT_EQ(r.reason, stop_reason::budget);
  EXPECT_EQ(r.steps, 7);
  EXPECT_EQ(r.hit_step, -1);
  EXPECT_EQ(p.steps, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.lasts, (std::vector<bool>{false, false, false, false, false, false, false, true}));
  EXPECT_EQ(p.begins, 1);
  EXPECT_EQ(p.ends, 1);
  EXPECT_EQ(p.seen.steps, 7);
  EXPECT_EQ(r.train_loss, p.losses.back());
  EXPECT_TRUE(std::isfinite(r.test.loss));
  // Gradient descent on this problem lowers the loss.
  EXPECT_LT(p.losses.back(), p.losses.front());
}

TEST(Trainer, ZeroStepBudgetEvaluatesOnce) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 0;
  probe p;
  const auto r = run(cfg, {&p});
  EXPECT_EQ(r.steps, 0);
  EXPECT_EQ(p.steps, std::vector<int>{0});
  EXPECT_EQ(r.reason, stop_reason::budget);
}

TEST(Trainer, StopLossStopsAtTheFirstStepBelowIt) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 60;
  cfg.train.eta = 0.5;
  probe full;
  run(cfg, {&full});
  // A threshold between the losses at steps 29 and 30 of the unstopped run (when they decrease).
  ASSERT_LT(full.losses[30], full.losses[29]);
  const double threshold = 0.5 * (full.losses[29] + full.losses[30]);
  int expected = -1;
  for (std::size_t t = 0; t < full.losses.size(); ++t)
    if (full.losses[t] < threshold) {
      expected = static_cast<int>(t);
      break;
    }
  ASSERT_GE(expected, 0);
  cfg.train.stop_loss = threshold;
  probe p;
  const auto r = run(cfg, {&p});
  EXPECT_EQ(r.reason, stop_reason::converged);
  EXPECT_EQ(r.hit_step, expected);
  EXPECT_EQ(r.steps, expected);
  EXPECT_TRUE(r.converged());
  EXPECT_LT(r.train_loss, threshold);
  EXPECT_EQ(p.steps.size(), static_cast<std::size_t>(expected) + 1);
  EXPECT_TRUE(p.lasts.back());
  // stop_loss = 0 never stops early.
  EXPECT_EQ(full.steps.back(), 60);
}

TEST(Trainer, ObserverCanStopTheRun) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 50;
  probe stopper, watcher;
  stopper.stop_at = 3;
  const auto r = run(cfg, {&stopper, &watcher});
  EXPECT_EQ(r.reason, stop_reason::observer);
  EXPECT_EQ(r.steps, 3);
  EXPECT_EQ(watcher.steps, (std::vector<int>{0, 1, 2, 3}));  // every observer sees the stopping step
  EXPECT_EQ(watcher.ends, 1);
  EXPECT_EQ(watcher.seen.reason, stop_reason::observer);
  EXPECT_FALSE(watcher.lasts.back());  // the step was not planned as the last
}

// A learning rate of 1e300 sends the projections to ~1e300 after one step; the logits q·k then
// overflow and the forward pass produces a non-finite loss at step 1.
TEST(Trainer, NonFiniteStopsNamingQuantityAndStepAndKeepsTheTrajectory) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 10;
  cfg.train.eta = 1e300;
  test::temp_dir dir("trainer");
  const auto csv = (dir.path() / "trajectory.csv").string();
  trajectory_recorder<double> rec({1, 1, true, csv});
  probe p;
  const auto r = run(cfg, {&rec, &p});
  ASSERT_EQ(r.reason, stop_reason::non_finite) << "loss stayed finite: " << r.train_loss;
  ASSERT_FALSE(p.steps.empty());
  const int bad_step = p.steps.back() + 1;
  EXPECT_EQ(r.steps, bad_step);
  EXPECT_NE(r.error.find(fmt::format("at step {}", bad_step)), std::string::npos) << r.error;
  EXPECT_TRUE(r.error.find("train_loss") != std::string::npos || r.error.find("output f") != std::string::npos ||
              r.error.find("gradient") != std::string::npos)
      << r.error;
  EXPECT_EQ(p.ends, 1);
  EXPECT_EQ(p.seen.reason, stop_reason::non_finite);
  // The partial trajectory: every step before the failure, in memory and in the CSV.
  const auto& traj = rec.result();
  ASSERT_EQ(traj.steps.size(), static_cast<std::size_t>(bad_step));
  for (const auto& s : traj.steps) EXPECT_TRUE(std::isfinite(s.train_loss));
  std::ifstream in(csv);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 1 + bad_step);  // header + one row per recorded step
}

TEST(Trainer, NonFiniteDetectorNamesTheFirstBrokenQuantity) {
  attention_state<double> st;
  st.f = vector<double>::from_shape({3});
  st.f.fill(0.5);
  matrix<double> D = matrix<double>::from_shape({2, 2});
  D.fill(0.0);
  st.loss = 0.3;
  EXPECT_EQ(detail::first_non_finite(st, D), "");
  D(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(detail::first_non_finite(st, D), "gradient");
  st.f(2) = std::numeric_limits<double>::infinity();
  EXPECT_EQ(detail::first_non_finite(st, D), "output f(X_2)");
  st.loss = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(detail::first_non_finite(st, D), "train_loss");
}

TEST(Trainer, RecorderKeepsEveryKthStepAndTheLast) {
  config cfg = test::tiny_config();
  cfg.train.max_steps = 10;
  trajectory_recorder<double> rec({4, 2, true, ""});
  run(cfg, {&rec});
  std::vector<int> steps;
  std::vector<bool> has_test;
  for (const auto& s : rec.result().steps) {
    steps.push_back(s.step);
    has_test.push_back(s.test_loss.has_value());
  }
  EXPECT_EQ(steps, (std::vector<int>{0, 4, 8, 10}));
  EXPECT_EQ(has_test, (std::vector<bool>{true, false, true, true}));
}

// The CLI records without keeping snapshots (no column logits) and the span recorder takes the
// engine's Gram matrix: the CSV is byte for byte the one a keeping recorder writes, and the frame's
// Gram matrix is the product U Uᵀ itself.
TEST(Trainer, RecorderCsvDoesNotDependOnKeepingSnapshots) {
  for (const char* kind : {"span", "dense"}) {
    config cfg = test::tiny_config();
    cfg.run.engine = kind;
    cfg.train.max_steps = 6;
    test::temp_dir dir("recorder");
    const auto kept = (dir.path() / "kept.csv").string(), streamed = (dir.path() / "streamed.csv").string();
    trajectory_recorder<double> keep({1, 2, true, kept}), stream({1, 2, false, streamed});
    run(cfg, {&keep});
    run(cfg, {&stream});
    const auto csv = test::slurp(kept);
    EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 7) << kind;
    EXPECT_EQ(csv, test::slurp(streamed)) << kind;
    EXPECT_TRUE(stream.result().steps.empty());
    ASSERT_EQ(keep.result().steps.size(), 7u);
    EXPECT_EQ(keep.result().steps.back().column_logits.size(), static_cast<std::size_t>(cfg.data.N * cfg.data.M));
    auto eng = build_engine<double>(cfg);
    const auto& U = eng->data().train.U;
    matrix<double> G = matrix<double>::from_shape({U.shape(0), U.shape(0)});
    gemm(op::none, op::transpose, 1.0, U, U, 0.0, G);
    EXPECT_EQ(keep.result().frame.gram, G) << kind;
    EXPECT_EQ(stream.result().frame.gram, G) << kind;
  }
}

// The test set is evaluated once per weights: a second call before the next step returns the same
// bits (and the same attention state), so the recorder's last row and the run's result agree; a
// step invalidates it.
TEST(Trainer, TestEvaluationIsHeldUntilTheNextStep) {
  for (const char* kind : {"span", "dense"}) {
    config cfg = test::tiny_config();
    cfg.run.engine = kind;
    auto eng = build_engine<double>(cfg);
    eng->evaluate();
    attention_state<double> first, second;
    const auto a = eng->evaluate_test(&first), b = eng->evaluate_test(&second);
    EXPECT_EQ(a.loss, b.loss) << kind;
    EXPECT_EQ(first.S, second.S) << kind;
    eng->descend(cfg.train.eta);
    EXPECT_NE(eng->evaluate_test().loss, a.loss) << kind;

    cfg.train.max_steps = 5;
    cfg.train.stop_loss = 0;
    trajectory_recorder<double> rec({1, 0, true, ""});
    const auto r = run(cfg, {&rec});
    ASSERT_TRUE(rec.result().steps.back().test_loss.has_value());
    EXPECT_EQ(*rec.result().steps.back().test_loss, r.test.loss) << kind;
  }
}

}  // namespace
}  // namespace bovit
