// The theorem-check suite behind `bovit check`: train each preset (double, span engine) with a
// full in-memory trajectory, run every applicable check on it, and run the theorem-level sweeps.
//
// Which check runs where (docs/checks.md):
//   every preset and seed  grad.fd (steps 0 and last), engine.agree (dense vs span, and the dense
//     d-space part of decomp.identity), decomp.*, stage1.*, stage2.*, stages.order, conv.train_loss;
//   benign-side presets (N₊‖μ‖²/mean‖ξ‖² > 1)  gen.benign;   harmful-side presets  gen.harmful;
//   the first benign-side preset, per seed  conv.time_scaling (ε, η, ‖μ‖ sweep) and
//     phase.boundary (its own coarse (N, ‖μ‖) grid).
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/config.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bovit::checks {

struct suite_entry {
  std::string preset;
  std::uint64_t seed = 0;
  check_result result;
};

struct suite_options {
  std::vector<std::string> presets{"theory-benign", "theory-harmful"};
  std::vector<std::string> sets;  // --set overrides applied to every preset
  int seeds = 1;                  // seeds run.seed, run.seed + 1, …
  bool theorem_sweeps = true;     // conv.time_scaling and phase.boundary
  std::function<void(const std::string&)> progress;  // called with a short status line
};

// Every result of the suite, in run order.
std::vector<suite_entry> run_suite(const suite_options& opt);

// The checks that read one training trajectory of `cfg` (trains it; span engine, double).
std::vector<check_result> preset_checks(const config& cfg);

// conv.time_scaling on a benign base config: T_ε over ε ∈ {2, 1, ½}·ε₀, η ∈ {½, 1, 2}·η₀,
// ‖μ‖ ∈ {0.8, 1, 4/3}·‖μ‖₀.
check_result time_scaling(const config& base);

// phase.boundary on its own grid around the base config: N ∈ grid_N, ‖μ‖ ∈ grid_mu.
check_result phase_boundary(const config& base, const std::vector<int>& grid_N, const std::vector<double>& grid_mu);
std::vector<int> default_boundary_N();
std::vector<double> default_boundary_mu();

}  // namespace bovit::checks
