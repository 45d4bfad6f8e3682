#include "bovit/experiments/phase.hpp"

#include "bovit/experiments/plot.hpp"
#include "bovit/run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace bovit {

namespace fs = std::filesystem;

namespace {
void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  if (!out || !(out << text << '\n')) throw config_error(fmt::format("cannot write {}", path.string()));
}
nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
}  // namespace

phase_outcome run_phase(const config& cfg, const fs::path& out, const phase_options& opt) {
  fs::create_directories(out);
  const auto mu = grid_mu_values(cfg.grid);
  nlohmann::json meta = {{"version", version()},
                         {"command", cfg.data.source == "mnist" ? "mnist" : "phase"},
                         {"config", to_json(cfg)},
                         {"grid", {{"N", cfg.grid.N}, {"mu_norm", mu}, {"seeds", cfg.grid.seeds}}},
                         {"cells", cfg.grid.N.size() * mu.size() * static_cast<std::size_t>(cfg.grid.seeds)},
                         {"seed_rule", "cell seed = rng_stream(run.seed).split(\"cell\").split(N).split(bits of "
                                       "mu_norm).split(seed index)"}};
  phase_outcome o;
  o.cells = run_sweep(cfg, out / "cells.csv", opt.sweep, &o.stats);
  meta["threads"] = o.stats.threads;
  meta["seconds"] = o.stats.seconds;
  meta["cells_resumed"] = o.stats.reused;
  write_text(out / "metadata.json", meta.dump(2));

  o.summary = summarise(o.cells);
  {
    std::ofstream s(out / "summary.csv");
    s << "N,mu_norm,snr,N_snr2,mean_test_loss,std_test_loss,converged_fraction,seeds\n";
    for (const auto& c : o.summary)
      s << fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{}\n", c.N, c.mu_norm, c.snr,
                       c.N * c.snr * c.snr, c.mean_test_loss, c.std_test_loss, c.converged_fraction, c.seeds);
  }
  o.fit = fit_boundary(o.summary, cfg.grid.cutoff);
  o.agreement = agreement_with_curve(o.summary, cfg.grid.cutoff, cfg.grid.reference_c);
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : o.fit.points)
    points.push_back({{"N", p.N}, {"snr_star", p.snr_star}, {"misclassified_cells", p.misclassified}});
  int converged = 0;
  for (const auto& c : o.cells) converged += c.converged ? 1 : 0;
  nlohmann::json b = {{"ok", o.fit.ok},
                      {"alpha", number_or_null(o.fit.ok ? o.fit.alpha : NAN)},
                      {"alpha_stderr", number_or_null(o.fit.ok ? o.fit.alpha_stderr : NAN)},
                      {"c", number_or_null(o.fit.ok ? o.fit.c : NAN)},
                      {"prefactor", number_or_null(o.fit.ok ? std::exp(o.fit.intercept) : NAN)},
                      {"method", o.fit.method},
                      {"cutoff", cfg.grid.cutoff},
                      {"cells", o.fit.cells},
                      {"grid_cells", o.summary.size()},
                      {"runs", o.cells.size()},
                      {"runs_converged", converged},
                      {"points", points},
                      {"reference_c", cfg.grid.reference_c},
                      {"agreement_with_reference", o.agreement}};
  write_text(out / "boundary.json", b.dump(2));

  if (opt.plots) {
    heatmap_options h;
    h.cutoff = cfg.grid.cutoff;
    h.reference_c = cfg.grid.reference_c;
    h.title = !opt.title.empty()
                  ? opt.title
                  : fmt::format("{}: d = {}, M = {}, d_h = {}, {} seed{} per cell", cfg.preset, cfg.data.d, cfg.data.M,
                                cfg.model.d_h, cfg.grid.seeds, cfg.grid.seeds == 1 ? "" : "s");
    h.snr_label = fmt::format("SNR = ‖μ‖ / ({:g}·√{})", cfg.data.sigma_ref, cfg.data.d);
    o.figures = plot_phase_heatmaps(o.summary, o.fit, h, out);
  }
  return o;
}

}  // namespace bovit
