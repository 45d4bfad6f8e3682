#include "commands.hpp"
#include "common.hpp"

#include "bovit/io/export.hpp"
#include "bovit/run.hpp"

#include <fmt/format.h>

namespace bovit::cli {
namespace {

template <real_scalar Real>
int export_run(const config& cfg, int steps, const std::filesystem::path& out) {
  auto eng = build_engine<Real>(cfg);
  export_data(out, *eng);
  const nlohmann::json extra = {{"tau", cfg.model.tau}, {"train_w_O", cfg.model.train_w_O},
                                {"engine", cfg.run.engine}, {"precision", std::string(scalar_name<Real>())}};
  const Real eta(cfg.train.eta);
  for (int t = 0; t <= steps; ++t) {
    eng->evaluate();
    if (t == 0 || t == steps) export_step(out, t, *eng, cfg.train.eta, extra);
    if (t < steps) eng->descend(eta);
  }
  fmt::print("exported {} steps of {} ({} engine, {}) to {}\n", steps, cfg.preset, cfg.run.engine,
             scalar_name<Real>(), out.string());
  return 0;
}

}  // namespace

void register_export(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "export", "write data, weights and gradients at step 0 and step K as float64 .npy files (no early stop)");
  static run_options opts;
  static std::string out;
  static int steps = 0;
  add_run_options(*cmd, opts, "theory-benign");
  cmd->add_option("--steps", steps, "K: gradient steps to take")->required()->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", out, "output folder")->required();
  cmd->callback([&exit_code] {
    exit_code = guarded([] {
      const config cfg = resolve_config(opts);
      return with_precision(cfg.run.precision, [&]<class Real>() { return export_run<Real>(cfg, steps, out); });
    });
  });
}

}  // namespace bovit::cli
