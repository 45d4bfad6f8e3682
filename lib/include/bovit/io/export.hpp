// Writes a run as float64 .npy files (xtensor's npy support), so that any autograd tool can
// cross-check bovit: X (N×M×d), y, X_test, y_test, w_O, and per exported step W_Q, W_K (d×d_h),
// W_V (d×d_v), their gradients and metrics.json.
#pragma once

#include "bovit/engine/engine.hpp"

#include <nlohmann/json.hpp>
#include <xtensor/xnpy.hpp>

#include <filesystem>
#include <fstream>

namespace bovit {

template <real_scalar Real>
xt::xtensor<double, 3> gather_samples(const token_set<Real>& set) {
  const std::size_t N = set.token_of.shape(0), M = set.token_of.shape(1), d = set.U.shape(1);
  xt::xtensor<double, 3> X = xt::xtensor<double, 3>::from_shape({N, M, d});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t l = 0; l < M; ++l) {
      const Real* row = set.U.data() + static_cast<std::size_t>(set.token_of(n, l)) * d;
      for (std::size_t j = 0; j < d; ++j) X(n, l, j) = to_double(row[j]);
    }
  return X;
}

template <real_scalar Real, std::size_t Rank>
void dump_double(const std::filesystem::path& file, const xt::xtensor<Real, Rank>& x) {
  xt::dump_npy(file.string(), convert<double>(x));
}

template <real_scalar Real>
void export_data(const std::filesystem::path& dir, const engine<Real>& eng) {
  std::filesystem::create_directories(dir);
  const auto& data = eng.data();
  xt::dump_npy((dir / "X.npy").string(), gather_samples(data.train));
  dump_double(dir / "y.npy", data.train.y);
  xt::dump_npy((dir / "X_test.npy").string(), gather_samples(data.test));
  dump_double(dir / "y_test.npy", data.test.y);
  dump_double(dir / "w_O.npy", eng.w_O());
}

// Call after eng.evaluate() at the step's weights.
template <real_scalar Real>
void export_step(const std::filesystem::path& dir, int step, const engine<Real>& eng, double learning_rate,
                 const nlohmann::json& extra = {}) {
  const auto out = dir / ("step_" + std::to_string(step));
  std::filesystem::create_directories(out);
  const auto w = eng.weights();
  const auto g = eng.gradient();
  dump_double(out / "W_Q.npy", w.W_Q);
  dump_double(out / "W_K.npy", w.W_K);
  dump_double(out / "W_V.npy", w.W_V);
  dump_double(out / "w_O.npy", w.w_O);
  dump_double(out / "grad_W_Q.npy", g.W_Q);
  dump_double(out / "grad_W_K.npy", g.W_K);
  dump_double(out / "grad_W_V.npy", g.W_V);
  dump_double(out / "grad_w_O.npy", g.w_O);
  const auto test = eng.evaluate_test();
  nlohmann::json m = extra;
  m["step"] = step;
  m["train_loss"] = to_double(eng.state().loss);
  m["test_loss"] = to_double(test.loss);
  m["test_error"] = to_double(test.error);
  m["learning_rate"] = learning_rate;
  std::ofstream(out / "metrics.json") << m.dump(2) << '\n';
}

}  // namespace bovit
