#include "commands.hpp"
#include "common.hpp"

#include "bovit/experiments/dynamics.hpp"
#include "bovit/experiments/plot.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace bovit::cli {

void register_dynamics(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "dynamics", "training dynamics, mean ± std over runs (paper Figures 3 and 4): dynamics.csv and dynamics.png");
  struct options {
    run_options run;
    int runs = 10;
    bool no_plots = false;
    std::string out;
  };
  auto o = std::make_shared<options>();
  add_run_options(*cmd, o->run, "dynamics-harmful");
  cmd->add_option("--runs", o->runs, "independent runs")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--no-plots", o->no_plots, "write the CSV and JSON files only");
  cmd->add_option("--out", o->out, "output folder")->required();
  cmd->callback([&exit_code, o] {
    exit_code = guarded([&] {
      const config cfg = resolve_config(o->run);
      dynamics_series s;
      try {
        s = run_dynamics(cfg, o->runs, o->out, !o->no_plots);
      } catch (const plot_error& e) {
        std::cerr << "bovit: " << e.what() << "\n(dynamics.csv was written to " << o->out << ")\n";
        return 1;
      }
      const auto last = s.steps.size() - 1;
      fmt::print("{}: {} runs, {} steps; final train loss {:.4g} ± {:.2g}, test loss {:.4g} ± {:.2g}, attention on "
                 "μ+ {:.3f}, on ξ2 {:.3f}\n",
                 cfg.preset, s.runs, last, s.mean[0][last], s.sd[0][last], s.mean[1][last], s.sd[1][last],
                 s.mean[2][last], s.mean[3][last]);
      for (const auto& e : s.errors) std::cerr << "bovit: " << e << '\n';
      fmt::print("wrote {}/{{metadata.json,dynamics.csv,dynamics_runs.csv{}}}\n", o->out,
                 o->no_plots ? "" : ",dynamics.png");
      return s.errors.empty() ? 0 : exit_non_finite;
    });
  });
}

}  // namespace bovit::cli
