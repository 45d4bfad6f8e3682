// Phase sweeps through the library: the fitted exponent on a coarse grid, thread-count
// independence, and the cells.csv format that --resume reads back.
#include "bovit/experiments/phase.hpp"
#include "bovit/experiments/sweep.hpp"

#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using bovit::test::fresh_dir;
using bovit::test::slurp;
using namespace bovit;

namespace {

// fig1 at d = 256, d_h = d_v = 128: the same noise profile and boundary N·SNR² ≈ 1000, ~10× cheaper.
config coarse(std::vector<int> N, std::vector<double> mu) {
  config cfg = load_preset("fig1");
  apply_overrides(cfg, {"data.d=256", "model.d_h=128", "model.d_v=128"});
  cfg.grid.N = std::move(N);
  cfg.grid.mu_norm = std::move(mu);
  cfg.grid.seeds = 1;
  cfg.validate();
  return cfg;
}

}  // namespace

TEST(ExperimentsPhase, CoarseDiagramFitsTheSquareRootBoundary) {
  const auto cfg = coarse({4, 8, 12, 16, 20}, {8, 12, 16, 20, 24, 28, 32, 40, 48, 56});
  const auto dir = fresh_dir("coarse");
  phase_options opt;
  opt.plots = false;
  const auto r = run_phase(cfg, dir, opt);
  ASSERT_TRUE(r.fit.ok) << "no boundary found";
  EXPECT_EQ(r.fit.points.size(), 5u) << "every N row should cross the cutoff";
  EXPECT_NEAR(r.fit.alpha, 0.5, 0.15) << "c = " << r.fit.c;
  EXPECT_GT(r.fit.c, 1000.0 / 3) << "boundary constant far from the paper's 1000";
  EXPECT_LT(r.fit.c, 1000.0 * 3);
  EXPECT_GE(r.agreement, 0.8);
  EXPECT_TRUE(fs::exists(dir / "boundary.json"));
  EXPECT_TRUE(fs::exists(dir / "metadata.json"));
  fs::remove_all(dir);
}

TEST(ExperimentsPhase, ResultsDoNotDependOnThreadCount) {
  auto cfg = coarse({4, 12}, {10, 30, 50});
  cfg.grid.seeds = 2;
  const auto one = fresh_dir("t1"), two = fresh_dir("t2");
  sweep_options o1, o2;
  o1.threads = 1;
  o2.threads = 2;
  const auto a = run_sweep(cfg, one / "cells.csv", o1);
  const auto b = run_sweep(cfg, two / "cells.csv", o2);
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(format_cell_row(a[i]), format_cell_row(b[i])) << "cell " << i;
  EXPECT_EQ(slurp(one / "cells.csv"), slurp(two / "cells.csv"));
  // Different seeds of a cell are different runs.
  EXPECT_NE(a[0].seed, a[1].seed);
  EXPECT_NE(a[0].test_loss, a[1].test_loss);
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST(ExperimentsPhase, ResumeDropsAPartialLineAndRedoesOnlyMissingCells) {
  const auto cfg = coarse({4, 8}, {20, 40});
  const auto full = fresh_dir("full"), part = fresh_dir("part");
  sweep_options opt;
  opt.threads = 1;
  run_sweep(cfg, full / "cells.csv", opt);
  const auto reference = slurp(full / "cells.csv");
  // Keep the header and two rows, then half of the third row, as a kill mid-write leaves it.
  std::istringstream lines(reference);
  std::string h, r1, r2, r3;
  std::getline(lines, h);
  std::getline(lines, r1);
  std::getline(lines, r2);
  std::getline(lines, r3);
  { std::ofstream(part / "cells.csv", std::ios::binary) << h << '\n' << r2 << '\n' << r1 << '\n' << r3.substr(0, r3.size() / 2); }
  EXPECT_THROW(run_sweep(cfg, part / "cells.csv", opt), config_error) << "an existing cells.csv needs resume";
  opt.resume = true;
  sweep_stats stats;
  run_sweep(cfg, part / "cells.csv", opt, &stats);
  EXPECT_EQ(stats.reused, 2);
  EXPECT_EQ(stats.ran, 2);
  EXPECT_EQ(slurp(part / "cells.csv"), reference);
  // A cells.csv from another grid is refused with the key named.
  auto other = cfg;
  other.grid.N = {6};
  try {
    run_sweep(other, part / "cells.csv", opt);
    ADD_FAILURE() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("grid.N"), std::string::npos) << e.what();
  }
  fs::remove_all(full);
  fs::remove_all(part);
}

TEST(ExperimentsPhase, NonConvergedSeedsHaveNoMeanTestLoss) {
  cell_result ok, bad;
  ok.N = bad.N = 4;
  ok.mu_norm = bad.mu_norm = 10;
  ok.converged = true;
  ok.test_loss = 0.3;
  bad.seed_index = 1;
  bad.converged = false;
  bad.test_loss = 0.1;
  auto s = summarise({ok, bad});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].mean_test_loss, 0.3);
  EXPECT_DOUBLE_EQ(s[0].converged_fraction, 0.5);
  s = summarise({bad});
  EXPECT_TRUE(std::isnan(s[0].mean_test_loss));
}
