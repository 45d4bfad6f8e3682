#include "commands.hpp"
#include "common.hpp"
#include "phase_cli.hpp"

#include "bovit/data/dataset.hpp"
#include "bovit/experiments/phase.hpp"
#include "bovit/experiments/plot.hpp"
#include "bovit/train/progress.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

namespace bovit::cli {

namespace {
struct phase_cli_options {
  run_options run;
  std::string out;
  int seeds = 0;
  int threads = 0;
  bool no_plots = false;
  bool resume = false;
};
}  // namespace

void register_phase_like(CLI::App& app, int& exit_code, const std::string& name, const std::string& description,
                         const std::string& default_preset) {
  auto* cmd = app.add_subcommand(name, description);
  auto o = std::make_shared<phase_cli_options>();
  add_run_options(*cmd, o->run, default_preset);
  cmd->add_option("--seeds", o->seeds, "seeds per cell (overrides grid.seeds)")->check(CLI::Range(1, 1000));
  cmd->add_option("--threads", o->threads, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--no-plots", o->no_plots, "write the CSV and JSON files only");
  cmd->add_flag("--resume", o->resume, "continue an interrupted sweep in --out, redoing only unfinished cells");
  cmd->add_option("--out", o->out, "output folder")->required();
  cmd->callback([&exit_code, o, name] {
    exit_code = guarded([&] {
      config cfg = resolve_config(o->run);
      if (o->seeds > 0) cfg.grid.seeds = o->seeds;
      if (name == "mnist" && cfg.data.source != "mnist")
        throw config_error("bovit mnist: data.source must be \"mnist\" (use `bovit phase` for synthetic data)");
      if (cfg.data.source == "mnist") (void)make_dataset(cfg.data, cfg.run.seed);  // missing or bad IDX files: exit 2
      phase_options opt;
      opt.sweep.threads = o->threads;
      opt.sweep.resume = o->resume;
      opt.sweep.progress = stderr_is_terminal();
      opt.sweep.label = name;
      opt.plots = !o->no_plots;
      phase_outcome r;
      try {
        r = run_phase(cfg, o->out, opt);
      } catch (const plot_error& e) {
        std::cerr << "bovit: " << e.what() << "\n(cells.csv, summary.csv and boundary.json were written to " << o->out
                  << ")\n";
        return 1;
      }
      fmt::print("{}: {} runs ({} resumed) on {} threads in {:.1f}s\n", name, r.stats.total, r.stats.reused,
                 r.stats.threads, r.stats.seconds);
      if (r.fit.ok)
        fmt::print("boundary: alpha = {:.3f} ± {:.3f} (SNR* ∝ N^-alpha), c = {:.4g} (N·SNR² = c), from {} cells\n",
                   r.fit.alpha, r.fit.alpha_stderr, r.fit.c, r.fit.cells);
      else
        fmt::print("boundary: not fitted (fewer than two N rows cross test loss {})\n", cfg.grid.cutoff);
      fmt::print("agreement with N·SNR² = {:g} at cutoff {:g}: {:.1f}% of cells\n", cfg.grid.reference_c,
                 cfg.grid.cutoff, 100 * r.agreement);
      fmt::print("wrote {}/{{metadata.json,cells.csv,summary.csv,boundary.json{}}}\n", o->out,
                 opt.plots ? ",test_loss.png,test_loss_cutoff.png" : "");
      return 0;
    });
  });
}

void register_phase(CLI::App& app, int& exit_code) {
  register_phase_like(app, exit_code, "phase",
                      "phase diagram of test loss over (N, SNR) (paper Figure 1): parallel, resumable sweep, "
                      "heatmaps and the fitted boundary",
                      "fig1");
}

}  // namespace bovit::cli
