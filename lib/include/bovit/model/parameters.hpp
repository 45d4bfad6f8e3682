// The weights θ = (W_Q, W_K, W_V, w_O) of f(X; θ) = (1/M) Σ_l softmax(x_lᵀ W_Q W_Kᵀ Xᵀ) X W_V w_O
// (spec §2), and their initialisation presets. Initial weights are drawn in double from the
// seed's init stream and converted, so every scalar type starts from the same point.
#pragma once

#include "bovit/config.hpp"
#include "bovit/linalg.hpp"
#include "bovit/parallel.hpp"
#include "bovit/rng.hpp"

#include <cmath>

namespace bovit {

template <real_scalar Real>
struct parameters {
  matrix<Real> W_Q;  // d × d_h
  matrix<Real> W_K;  // d × d_h
  matrix<Real> W_V;  // d × d_v
  vector<Real> w_O;  // d_v
};

template <real_scalar To, real_scalar From>
parameters<To> convert(const parameters<From>& p) {
  return {convert<To>(p.W_Q), convert<To>(p.W_K), convert<To>(p.W_V), convert<To>(p.w_O)};
}

namespace detail {
template <class Draw>
matrix<double> draw_matrix(std::size_t rows, std::size_t cols, Draw&& draw) {
  matrix<double> m = matrix<double>::from_shape({rows, cols});
  for (auto& x : m) x = draw();
  return m;
}
}  // namespace detail

// `uniform_fan_in`: every weight ~ U(±1/√fan_in), W_Q, W_K, W_V then divided by init_divisor.
// `gaussian`: W_Q, W_K ~ N(0, σ_h²), W_V ~ N(0, σ_V²), w_O ~ N(0, σ_O²) (σ_O = 0 means 1/√d_v).
// Each matrix has its own stream, so W_Q, W_K and W_V are drawn on up to `threads` threads
// (0: thread_budget() when they are large enough to gain, else 1) with the same result.
inline parameters<double> init_parameters(const config& cfg, rng_stream stream, int threads = 0) {
  const auto d = static_cast<std::size_t>(cfg.data.d);
  const auto h = static_cast<std::size_t>(cfg.model.d_h);
  const auto dv = static_cast<std::size_t>(cfg.model.d_v);
  auto sq = stream.split("W_Q"), sk = stream.split("W_K"), sv = stream.split("W_V"), so = stream.split("w_O");
  parameters<double> p;
  const bool uniform = cfg.model.init == "uniform_fan_in";
  const double b_in = 1.0 / std::sqrt(static_cast<double>(d)) / cfg.model.init_divisor;
  const double b_out = 1.0 / std::sqrt(static_cast<double>(dv));
  auto draw = [&](std::size_t which) {
    if (uniform) {
      if (which == 0) p.W_Q = detail::draw_matrix(d, h, [&] { return sq.uniform(-b_in, b_in); });
      if (which == 1) p.W_K = detail::draw_matrix(d, h, [&] { return sk.uniform(-b_in, b_in); });
      if (which == 2) p.W_V = detail::draw_matrix(d, dv, [&] { return sv.uniform(-b_in, b_in); });
    } else {
      if (which == 0) p.W_Q = detail::draw_matrix(d, h, [&] { return cfg.model.sigma_h * sq.normal(); });
      if (which == 1) p.W_K = detail::draw_matrix(d, h, [&] { return cfg.model.sigma_h * sk.normal(); });
      if (which == 2) p.W_V = detail::draw_matrix(d, dv, [&] { return cfg.model.sigma_V * sv.normal(); });
    }
  };
  if (threads <= 0) threads = d * (2 * h + dv) >= 65536 ? thread_budget() : 1;
  parallel_blocks(3, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t m = begin; m < end; ++m) draw(m);
  });
  p.w_O = vector<double>::from_shape({dv});
  if (uniform) {
    for (auto& x : p.w_O) x = so.uniform(-b_out, b_out);
  } else {
    const double s_o = cfg.model.sigma_O > 0 ? cfg.model.sigma_O : 1.0 / std::sqrt(static_cast<double>(dv));
    for (auto& x : p.w_O) x = s_o * so.normal();
  }
  return p;
}

}  // namespace bovit
