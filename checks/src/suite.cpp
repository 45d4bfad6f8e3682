#include "bovit/checks/suite.hpp"

#include "bovit/checks/convergence.hpp"
#include "bovit/checks/decomposition.hpp"
#include "bovit/checks/engines.hpp"
#include "bovit/checks/generalization.hpp"
#include "bovit/checks/gradient.hpp"
#include "bovit/checks/phase.hpp"
#include "bovit/checks/stage1.hpp"
#include "bovit/checks/stage2.hpp"
#include "bovit/experiments/boundary.hpp"
#include "bovit/experiments/cell.hpp"
#include "bovit/run.hpp"
#include "bovit/train/trajectory.hpp"

#include <fmt/format.h>

#include <cmath>

namespace bovit::checks {
namespace {

config for_suite(config cfg) {
  cfg.run.engine = "span";
  cfg.run.precision = "double";
  cfg.record.every = 1;
  cfg.validate();
  return cfg;
}

int hit(const config& cfg) {
  auto eng = build_engine<double>(cfg);
  const auto r = train<double>(*eng, cfg.train);
  return r.error.empty() ? r.hit_step : -1;
}

}  // namespace

std::vector<check_result> preset_checks(const config& in) {
  const config cfg = for_suite(in);
  const auto data = make_dataset(cfg.data, cfg.run.seed);
  std::vector<check_result> out;
  auto eng = build_engine<double>(cfg, data);
  // grad.fd at initialisation.
  eng->evaluate();
  out.push_back(check_gradient_fd(data.train, eng->weights(), eng->gradient(), cfg.model.tau, 0));
  trajectory_recorder<double> rec({1, cfg.record.test_every, true, ""});
  observer<double>* obs[] = {&rec};
  const auto res = train<double>(*eng, cfg.train, obs);
  const auto& tr = rec.result();
  // grad.fd at the last step (evaluate() was last called there).
  out.push_back(check_gradient_fd(data.train, eng->weights(), eng->gradient(), cfg.model.tau, res.steps));
  // engine.agree: dense vs span over the same number of steps; then the dense d-space identity.
  {
    config dense_cfg = cfg;
    dense_cfg.run.engine = "dense";
    auto dense = build_engine<double>(dense_cfg, data);
    auto span = build_engine<double>(cfg, data);
    const auto u0 = dense->weights();
    out.push_back(check_engine_agreement<double>(*dense, *span, cfg.train.eta, res.steps));
    const auto w = dense->weights();
    const auto du = value_change(u0, w);
    out.push_back(check_decomposition_identity(tr));
    out.push_back(check_value_in_span(data.train.U, du, res.steps));
  }
  out.push_back(check_decomposition_monotone(tr));
  out.push_back(check_decomposition_rate(tr));
  out.push_back(check_uniform_attention(tr, cfg.check));
  out.push_back(check_signal_vs_noise(tr, cfg.check));
  out.push_back(check_attention_concentration(tr, cfg.check));
  out.push_back(check_qk_direction(tr, cfg.check));
  out.push_back(check_stage_order(tr, cfg.check, cfg.train.stop_loss));
  out.push_back(check_train_loss(tr, cfg.train.stop_loss));
  if (tr.frame.plus_row >= 0 && predicted_benign(tr))
    out.push_back(check_benign(tr, cfg.check, cfg.train.stop_loss));
  else
    out.push_back(check_harmful(tr, cfg.check, cfg.train.stop_loss));
  if (!res.error.empty())
    for (auto& r : out) r.detail += " [training stopped: " + res.error + "]";
  return out;
}

check_result time_scaling(const config& in) {
  const config base = for_suite(in);
  std::vector<scaling_series> sweep(3);
  sweep[0].variable = "1/eps";
  sweep[1].variable = "1/eta";
  sweep[2].variable = "1/mu^2";
  for (double f : {2.0, 1.0, 0.5}) {
    config c = base;
    c.train.stop_loss = base.train.stop_loss * f;
    sweep[0].x.push_back(1 / c.train.stop_loss);
    sweep[0].hitting.push_back(hit(c));
  }
  for (double f : {0.5, 1.0, 2.0}) {
    config c = base;
    c.train.eta = base.train.eta * f;
    sweep[1].x.push_back(1 / c.train.eta);
    sweep[1].hitting.push_back(hit(c));
  }
  for (double f : {0.8, 1.0, 4.0 / 3.0}) {
    config c = base;
    c.data.mu_norm = base.data.mu_norm * f;
    sweep[2].x.push_back(1 / (c.data.mu_norm * c.data.mu_norm));
    sweep[2].hitting.push_back(hit(c));
  }
  return check_time_scaling(sweep, base.check.slope_tolerance);
}

std::vector<int> default_boundary_N() { return {4, 6, 8, 12, 16, 24, 32}; }
std::vector<double> default_boundary_mu() {
  std::vector<double> mu;  // 4 … 64, four points per doubling
  for (int k = 0; k <= 16; ++k) mu.push_back(4.0 * std::pow(2.0, k / 4.0));
  return mu;
}

check_result phase_boundary(const config& in, const std::vector<int>& grid_N, const std::vector<double>& grid_mu) {
  const config base = for_suite(in);
  std::vector<cell_result> cells;
  for (int N : grid_N)
    for (double mu : grid_mu) cells.push_back(run_cell(base, N, mu, 0));
  const auto fit = fit_boundary(summarise(cells), base.check.benign_max_test_loss);
  return check_phase_boundary(fit, base.check.alpha_tolerance);
}

std::vector<suite_entry> run_suite(const suite_options& opt) {
  std::vector<suite_entry> out;
  bool swept = false;
  for (const auto& name : opt.presets) {
    config base = load_preset(name);
    apply_overrides(base, opt.sets);
    base.validate();
    bool benign = false;  // the preset's stage-1 prediction puts it on the benign side
    for (int s = 0; s < opt.seeds; ++s) {
      config cfg = base;
      cfg.run.seed = base.run.seed + static_cast<std::uint64_t>(s);
      if (opt.progress) opt.progress(fmt::format("{} seed {}: trajectory checks", name, cfg.run.seed));
      for (auto& r : preset_checks(cfg)) {
        benign = benign || r.id == "gen.benign";
        out.push_back({name, cfg.run.seed, std::move(r)});
      }
    }
    if (opt.theorem_sweeps && benign && !swept) {
      swept = true;
      for (int s = 0; s < opt.seeds; ++s) {
        config cfg = base;
        cfg.run.seed = base.run.seed + static_cast<std::uint64_t>(s);
        if (opt.progress) opt.progress(fmt::format("{} seed {}: conv.time_scaling sweep", name, cfg.run.seed));
        out.push_back({name, cfg.run.seed, time_scaling(cfg)});
        if (opt.progress) opt.progress(fmt::format("{} seed {}: phase.boundary grid", name, cfg.run.seed));
        out.push_back({name, cfg.run.seed, phase_boundary(cfg, default_boundary_N(), default_boundary_mu())});
      }
    }
  }
  return out;
}

}  // namespace bovit::checks
