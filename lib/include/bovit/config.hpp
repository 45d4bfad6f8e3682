// The run configuration: data, model, training, recording, grid and check settings.
//
// Every value has a key `section.name`, a type, a range and a one-line description in one schema
// (config.cpp). Presets are TOML files; `--set section.key=value` overrides any key. Unknown keys,
// wrong types and out-of-range values raise config_error naming the key and what it accepts.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace bovit {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct data_config {
  std::string source = "synthetic";         // synthetic | mnist
  int N = 20;                               // training samples
  int M = 16;                               // tokens per sample
  int d = 1024;                             // token dimension
  double mu_norm = 32.0;                    // ‖μ‖
  std::vector<double> noise_sigma{4.0, 0.2};  // σ_2, σ_3, …; the last entry repeats up to σ_M
  double sigma_ref = 0.2;                   // SNR = ‖μ‖ / (σ_ref √d)
  bool orthogonal_noise = false;            // project noise off span{μ₊, μ₋}
  std::string labels = "balanced";          // balanced | rademacher
  std::string signal_basis = "standard";    // standard (e₁, e₂) | rotated (random orthonormal pair)
  int N_test = 100;                         // test samples
  int digit_pos = 0;                        // mnist: digit of class +1
  int digit_neg = 1;                        // mnist: digit of class −1
  std::string mnist_dir;                    // mnist: IDX folder (default: the setup cache)

  double sigma(int token) const;  // σ of 0-based token index 1..M-1
  double snr() const;
};

struct model_config {
  int d_h = 512;
  int d_v = 512;
  double tau = 1.0;                         // logit scale
  bool train_w_O = false;
  std::string init = "uniform_fan_in";      // uniform_fan_in | gaussian
  double init_divisor = 16.0;               // uniform_fan_in: W_Q, W_K, W_V divided by this
  double sigma_h = 0.001;                   // gaussian: std of W_Q, W_K
  double sigma_V = 0.001;                   // gaussian: std of W_V
  double sigma_O = 0.0;                     // gaussian: std of w_O (0: 1/√d_v)
};

struct train_config {
  double eta = 0.1;
  int max_steps = 1000;
  double stop_loss = 0.01;                  // stop at the first step with training loss below this
};

struct run_config {
  std::uint64_t seed = 1;
  std::string engine = "span";              // dense | span
  std::string precision = "double";         // double | long-double | mp50
};

struct record_config {
  int every = 1;                            // trajectory row every k steps (and the last step)
  int test_every = 1;                       // test loss every k recorded rows (0: only at the end)
};

struct grid_config {
  std::vector<int> N{2, 4, 6, 8, 10, 12, 14, 16, 18, 20};
  std::vector<double> mu_norm;              // empty: 1..100
  int seeds = 1;
  double cutoff = 0.2;                      // test-loss cutoff of panel (b)
  double reference_c = 1000.0;              // the paper's curve N·SNR² = c
};

struct check_config {
  double delta_att = 0.05;                  // stage 1: max |S − 1/M|
  double kappa = 1.5;                       // stage 1: γ/ρ̄ within factor κ of the prediction
  double delta_conc = 0.2;                  // stage 2: winner's s̄ ends ≥ 1 − δ
  double monotone_slack = 1e-3;             // stage 2: allowed dip of the winner's s̄
  double benign_max_test_loss = 0.2;
  double harmful_min_test_loss = 0.5;
  double alpha_tolerance = 0.15;            // phase.boundary: |α − 1/2|
  double slope_tolerance = 0.25;            // conv.time_scaling: |slope + 1|
};

struct config {
  data_config data;
  model_config model;
  train_config train;
  run_config run;
  record_config record;
  grid_config grid;
  check_config check;
  std::string preset = "default";

  // Throws config_error when values are inconsistent (e.g. odd N with balanced labels).
  void validate() const;
};

// Loads a preset by name (configs/<name>.toml in the preset search path) or by file path.
config load_preset(const std::string& name_or_path);
config parse_config(const std::string& toml_text, const std::string& origin);
// Applies one `section.key=value` override; the value is read as TOML, else as a string.
void apply_override(config& cfg, const std::string& assignment);
void apply_overrides(config& cfg, const std::vector<std::string>& assignments);

std::vector<std::filesystem::path> preset_search_path();
std::vector<std::string> list_presets();
std::string describe_keys();  // every key, type, range and description: for --help

nlohmann::json to_json(const config& cfg);

}  // namespace bovit
