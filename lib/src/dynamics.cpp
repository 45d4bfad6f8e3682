#include "bovit/experiments/dynamics.hpp"

#include "bovit/experiments/plot.hpp"
#include "bovit/experiments/sweep.hpp"
#include "bovit/rng.hpp"
#include "bovit/run.hpp"
#include "bovit/train/trajectory.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>

namespace bovit {

namespace fs = std::filesystem;

std::uint64_t dynamics_seed(std::uint64_t master, int run) {
  return rng_stream(master).split("dynamics").split(static_cast<std::uint64_t>(run)).key();
}

namespace {

using run_table = std::vector<std::array<double, dynamics_quantities.size()>>;  // one row per step

template <real_scalar Real>
run_table one_run_in(const config& cfg, int r, std::string& error) {
  auto eng = build_engine<Real>(cfg);
  trajectory_recorder<Real> rec({1, 1, true, ""});
  observer<Real>* obs[] = {&rec};
  const auto res = train<Real>(*eng, cfg.train, obs);
  if (!res.error.empty()) error = fmt::format("run {}: {}", r, res.error);
  const auto& traj = rec.result();
  const auto& tok = traj.frame.token_of;
  const int mu = tok(0, 0), xi2 = tok(0, 1);
  const double nan = std::nan("");
  auto d = [](const Real& x) { return to_double(x); };
  run_table t;
  for (const auto& s : traj.steps)
    t.push_back({d(s.train_loss), s.test_loss ? d(*s.test_loss) : nan, d(s.received(0, 0)), d(s.received(0, 1)),
                 d(s.values(mu)), d(s.values(xi2)), d(s.qk_mu_mu), d(s.qk_mu_xi2), d(s.qk_xi_mu), d(s.qk_xi_xi2)});
  return t;
}

run_table one_run(const config& base, int r, std::string& error) {
  config cfg = base;
  cfg.run.seed = dynamics_seed(base.run.seed, r);
  return with_precision(cfg.run.precision, [&]<class Real>() { return one_run_in<Real>(cfg, r, error); });
}

void plot_dynamics(const config& cfg, const dynamics_series& s, const fs::path& out) {
  const fs::path script = out / "dynamics.gp";
  std::ofstream gp(script);
  const double snr = cfg.data.snr();
  const int every = std::max(1, static_cast<int>(s.steps.size()) / 10);
  gp << "# Drawn by bovit (lib/src/dynamics.cpp). Data: dynamics.csv (mean and std over runs).\n";
  gp << "set terminal pngcairo size 1400,1500 enhanced font 'DejaVu Sans,12'\nset encoding utf8\n";
  gp << "set output 'dynamics.png'\nset datafile separator ','\nset key bmargin center horizontal\nset bmargin 5\n";
  gp << "set grid lc rgb '#dddddd'\nset xlabel 'GD step t'\nset tics out nomirror\n";
  gp << fmt::format("set multiplot layout 3,2 title \"{}: N = {}, M = {}, d = {}, ‖μ‖ = {:g}, N·SNR² = {:.3g}\\nmean ± std "
                    "over {} runs, training sample 0 (y = +1); error bars every {} steps\" font ',14'\n",
                    cfg.preset, cfg.data.N, cfg.data.M, cfg.data.d, cfg.data.mu_norm, cfg.data.N * snr * snr, s.runs,
                    every);
  // Column of quantity q's mean: 2 + 2q (1-based; column 1 is the step), its std: 3 + 2q.
  auto series = [&](int q, const std::string& title, const std::string& color) {
    const int m = 2 + 2 * q, d = 3 + 2 * q;
    return fmt::format(
        "'dynamics.csv' using 1:(${0}-${1}):(${0}+${1}) with filledcurves fc rgb '{2}' fs transparent solid 0.2 "
        "noborder notitle, "
        "'dynamics.csv' using 1:{0} with lines lw 2 lc rgb '{2}' title \"{3}\", "
        "'dynamics.csv' every {4}::1 using 1:{0}:{1} with yerrorbars pt 7 ps 0.6 lc rgb '{2}' notitle",
        m, d, color, title, every);
  };
  const std::string blue = "#1f77b4", red = "#d62728", green = "#2ca02c", purple = "#9467bd";
  gp << "set title '(a) loss'\nset ylabel 'logistic loss (nats)'\n";
  gp << "plot " << series(0, "training loss", blue) << ", " << series(1, "test loss", red) << "\n";
  gp << fmt::format("set title '(b) attention received (mean over the {} queries)'\nset ylabel 'softmax weight'\n",
                    cfg.data.M);
  gp << "plot " << series(2, "on μ_+ (token 1)", blue) << ", " << series(3, "on ξ_2 (token 2)", red) << "\n";
  gp << "set title '(c) value along w_O'\nset ylabel 'u^T W_V w_O'\n";
  gp << "plot " << series(4, "μ_+^T W_V w_O", blue) << ", " << series(5, "ξ_2^T W_V w_O", red) << "\n";
  gp << "set title '(d) query–key products from μ_+'\nset ylabel 'u^T W_Q W_K^T v'\n";
  gp << "plot " << series(6, "μ_+^T W_Q W_K^T μ_+", blue) << ", " << series(7, "μ_+^T W_Q W_K^T ξ_2", red) << "\n";
  gp << "set title '(e) query–key products from ξ_3'\n";
  gp << "plot " << series(8, "ξ_3^T W_Q W_K^T μ_+", green) << ", " << series(9, "ξ_3^T W_Q W_K^T ξ_2", purple) << "\n";
  gp << "unset multiplot\n";
  gp.close();
  run_gnuplot(script);
}

}  // namespace

dynamics_series run_dynamics(const config& cfg, int runs, const fs::path& out, bool plots) {
  if (runs < 1) throw config_error(fmt::format("--runs must be at least 1, got {}", runs));
  if (cfg.data.M < 3) throw config_error(fmt::format("data.M = {}: the dynamics figures need ξ_3 (M ≥ 3)", cfg.data.M));
  if (cfg.data.labels != "balanced")
    throw config_error("data.labels: the dynamics figures need \"balanced\" labels (sample 0 has label +1)");
  fs::create_directories(out);
  std::vector<run_table> tables(runs);
  std::vector<std::string> errors(runs);
  std::atomic<int> next{0};
  std::exception_ptr failure;
  std::mutex mu;
  set_thread_budget(1);
  auto worker = [&] {
    for (int r; (r = next++) < runs;) {
      try {
        tables[r] = one_run(cfg, r, errors[r]);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
        next = runs;
      }
    }
  };
  const int threads = std::max(1, std::min<int>(runs, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  dynamics_series s;
  s.runs = runs;
  for (auto& e : errors)
    if (!e.empty()) s.errors.push_back(e);
  std::size_t steps = tables[0].size();
  for (const auto& t : tables) steps = std::min(steps, t.size());  // a run that stopped early shortens the figure
  const std::size_t Q = dynamics_quantities.size();
  s.mean.assign(Q, std::vector<double>(steps));
  s.sd.assign(Q, std::vector<double>(steps));
  for (std::size_t t = 0; t < steps; ++t) {
    s.steps.push_back(static_cast<int>(t));
    for (std::size_t q = 0; q < Q; ++q) {
      double sum = 0, sq = 0;
      for (const auto& tab : tables) sum += tab[t][q];
      const double m = sum / runs;
      for (const auto& tab : tables) sq += (tab[t][q] - m) * (tab[t][q] - m);
      s.mean[q][t] = m;
      s.sd[q][t] = runs > 1 ? std::sqrt(sq / (runs - 1)) : 0.0;
    }
  }

  {
    std::ofstream f(out / "dynamics_runs.csv");
    f << "run,step";
    for (auto* q : dynamics_quantities) f << ',' << q;
    f << '\n';
    for (int r = 0; r < runs; ++r)
      for (std::size_t t = 0; t < tables[r].size(); ++t) {
        f << r << ',' << t;
        for (double v : tables[r][t]) f << fmt::format(",{:.17g}", v);
        f << '\n';
      }
  }
  {
    std::ofstream f(out / "dynamics.csv");
    f << "step";
    for (auto* q : dynamics_quantities) f << ',' << q << "_mean," << q << "_std";
    f << '\n';
    for (std::size_t t = 0; t < steps; ++t) {
      f << t;
      for (std::size_t q = 0; q < Q; ++q) f << fmt::format(",{:.17g},{:.17g}", s.mean[q][t], s.sd[q][t]);
      f << '\n';
    }
  }
  std::vector<std::uint64_t> seeds;
  for (int r = 0; r < runs; ++r) seeds.push_back(dynamics_seed(cfg.run.seed, r));
  const double snr = cfg.data.snr();
  nlohmann::json meta = {{"version", version()},
                         {"command", "dynamics"},
                         {"config", to_json(cfg)},
                         {"runs", runs},
                         {"run_seeds", seeds},
                         {"snr", snr},
                         {"N_snr2", cfg.data.N * snr * snr},
                         {"sample", "training sample 0, label +1; ξ_2, ξ_3 are its tokens 2 and 3"},
                         {"errors", s.errors}};
  std::ofstream(out / "metadata.json") << meta.dump(2) << '\n';
  if (plots) plot_dynamics(cfg, s, out);
  return s;
}

}  // namespace bovit
