#include "commands.hpp"
#include "common.hpp"

#include "bovit/run.hpp"
#include "bovit/train/progress.hpp"
#include "bovit/train/trajectory.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace bovit::cli {
namespace {

template <real_scalar Real>
int train_run(const config& cfg, const std::filesystem::path& out) {
  std::filesystem::create_directories(out);
  nlohmann::json meta = {{"version", version()},
                         {"config", to_json(cfg)},
                         {"seed", cfg.run.seed},
                         {"engine", cfg.run.engine},
                         {"precision", std::string(scalar_name<Real>())},
                         {"snr", cfg.data.snr()},
                         {"N_snr2", cfg.data.N * cfg.data.snr() * cfg.data.snr()}};
  write_json((out / "run.json").string(), meta.dump(2));
  auto eng = build_engine<Real>(cfg);
  trajectory_recorder<Real> recorder({cfg.record.every, cfg.record.test_every, false, (out / "trajectory.csv").string()});
  progress_display<Real> progress(fmt::format("train {}", cfg.preset));
  observer<Real>* observers[] = {&recorder, &progress};
  const auto r = train<Real>(*eng, cfg.train, observers);
  const auto& st = eng->state();
  double signal = 0;
  for (int n = 0; n < st.samples(); ++n) signal += to_double(st.received(n, 0));
  signal /= st.samples();
  nlohmann::json res = {{"steps", r.steps},
                        {"stop_reason", std::string(to_string(r.reason))},
                        {"converged", r.converged()},
                        {"hit_step", r.hit_step},
                        {"train_loss", to_double(r.train_loss)},
                        {"train_error", to_double(r.train_error)},
                        {"test_loss", to_double(r.test.loss)},
                        {"test_error", to_double(r.test.error)},
                        {"attn_signal_mean", signal}};
  if (!r.error.empty()) res["error"] = r.error;
  write_json((out / "result.json").string(), res.dump(2));
  if (!r.error.empty()) {
    std::cerr << "bovit: training stopped: " << r.error << " (trajectory kept in " << out.string() << ")\n";
    return exit_non_finite;
  }
  fmt::print("{} [{} engine, {}]: {} steps ({}), train loss {:.4g}, test loss {:.4g}, test error {:.3f}, "
             "attention on signal {:.3f}\n",
             cfg.preset, cfg.run.engine, scalar_name<Real>(), r.steps, to_string(r.reason), to_double(r.train_loss),
             to_double(r.test.loss), to_double(r.test.error), signal);
  fmt::print("wrote {}/{{run.json,trajectory.csv,result.json}}\n", out.string());
  return 0;
}

}  // namespace

void register_train(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("train", "train one model and write run.json, trajectory.csv and result.json");
  static run_options opts;
  static std::string out;
  add_run_options(*cmd, opts, "theory-benign");
  cmd->add_option("--out", out, "output folder")->required();
  cmd->callback([&exit_code] {
    exit_code = guarded([] {
      const config cfg = resolve_config(opts);
      return with_precision(cfg.run.precision, [&]<class Real>() { return train_run<Real>(cfg, out); });
    });
  });
}

void register_keys(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("keys", "list every config key accepted by --set, with its range");
  cmd->callback([&exit_code] {
    fmt::print("{}", describe_keys());
    fmt::print("presets: {}\n", fmt::join(list_presets(), ", "));
    exit_code = 0;
  });
}

}  // namespace bovit::cli
