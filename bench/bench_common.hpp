// Shared pieces of bovit_bench: the benchmark sizes, the FLOP model of one step, the dgemm
// reference rate, and a one-slot engine cache (engines at theory-large hold ~200 MB of tokens).
//
// FLOP model (multiply and add count 1 each; T distinct training tokens, w = 2 d_h + 1):
//   kernel = N M² · 6 d_h        forward Z = τ q·k (2 d_h) + backward dq, dk updates (4 d_h)
//   dense  = 4 T d w             P = U W and ∇ = Uᵀ D
//          + 4 d d_h + 4 d d_v   W_Q, W_K update, rank-one W_V update, u = W_V w_O
//          + kernel
//   span   = 2 T² w + 2 T w      P −= η G D′ and A −= η D′
//          + kernel
// Softmax, logistic terms and O(N M²) work are left out (they are < 1% at every size here).
#pragma once

#include "bovit/config.hpp"
#include "bovit/data/dataset.hpp"
#include "bovit/run.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace bovit::bench {

struct size_spec {
  const char* name;
  const char* preset;
  std::vector<std::string> overrides;
};

// fig1 at N = 20; dynamics (Figures 3–4); theory-large (the theorem's regime at d = 20000);
// theory-benign as shipped (N = 20, d = 2000), where mp50 setup used to dominate a run.
inline const std::vector<size_spec>& sizes() {
  static const std::vector<size_spec> s = {
      {"fig1", "fig1", {"data.N=20"}},
      {"dynamics", "dynamics-benign", {}},
      {"theory-large", "theory-benign", {"data.N=200", "data.d=20000", "data.N_test=200"}},
      {"theory-benign", "theory-benign", {}},  // the preset itself: the mp50 setup case of issue 5
  };
  return s;
}

inline config size_config(const size_spec& s, const std::string& engine) {
  config cfg = load_preset(s.preset);
  for (const auto& o : s.overrides) apply_override(cfg, o);
  cfg.run.engine = engine;
  cfg.validate();
  return cfg;
}

struct shape {
  double N, M, d, d_h, d_v, T;
};

inline shape shape_of(const config& cfg) {
  const double N = cfg.data.N, M = cfg.data.M;
  return {N, M, double(cfg.data.d), double(cfg.model.d_h), double(cfg.model.d_v), 2 + N * (M - 1)};
}

inline double kernel_flops(const shape& s) { return s.N * s.M * s.M * 6 * s.d_h; }

inline double step_flops(const std::string& engine, const shape& s) {
  const double w = 2 * s.d_h + 1;
  if (engine == "dense") return 4 * s.T * s.d * w + 4 * s.d * s.d_h + 4 * s.d * s.d_v + kernel_flops(s);
  return 2 * s.T * s.T * w + 2 * s.T * w + kernel_flops(s);
}

// Median rate of C = A B at n = 2048 (OpenBLAS, all of its threads), measured once per process.
double dgemm_reference_rate();

// The double dataset of a size, generated once per process (the largest is 2 × 96 MB).
const dataset<double>& cached_dataset(const size_spec& s);

}  // namespace bovit::bench
