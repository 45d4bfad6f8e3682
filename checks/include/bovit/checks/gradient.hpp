// grad.fd: the analytic gradient (spec §4, engine::gradient) against central finite differences
// of the loss computed in 50-digit arithmetic (mp50).
//
// Central differences with step h have truncation error O(h² L''') and rounding error
// O(ε_mp50 / h); with h = 1e-15 both are below 1e-25 for the theory presets, far below double
// rounding. So the comparison measures the analytic gradient's own rounding: an entry passes when
//   |g − g_fd| ≤ tol · max(|g_fd|, 0.1 · max|block|),   tol = max(4096 ε_Real, 1e-20).
// 4096 ε covers the sums over T tokens and N M² attention terms in double (entries far below the
// block's scale come out of cancelling sums, hence the floor); 1e-20 is the finite-
// difference floor when Real is itself multiprecision. Entries are sampled: the largest entry of
// each block plus `per_block` evenly spaced ones (the loss is cheap to re-evaluate because one
// weight entry moves one column of P = U W).
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/data/dataset.hpp"
#include "bovit/model/attention.hpp"
#include "bovit/model/parameters.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace bovit::checks {

struct fd_options {
  int per_block = 12;
  double step = 1e-15;
};

template <real_scalar Real>
check_result check_gradient_fd(const token_set<double>& train, const parameters<Real>& weights,
                               const parameters<Real>& gradient, double tau, int step_index, fd_options opt = {}) {
  auto r = make_result("grad.fd", "spec §4 (analytic gradient)");
  using R = mp50;
  const auto U = convert<R>(train.U);
  const auto y = convert<R>(train.y);
  const auto p = convert<R>(weights);
  const std::size_t T = U.shape(0), d = U.shape(1), h = p.W_Q.shape(1), dv = p.W_V.shape(1);
  if (p.W_Q.shape(0) != d) return not_applicable(r, "weights and tokens disagree on d");
  // Base projections P = U [W_Q | W_K | W_V w_O] and U W_V (for the w_O block).
  matrix<R> W = matrix<R>::from_shape({d, 2 * h + 1});
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < h; ++j) {
      W(i, j) = p.W_Q(i, j);
      W(i, h + j) = p.W_K(i, j);
    }
    R v(0);
    for (std::size_t j = 0; j < dv; ++j) v += p.W_V(i, j) * p.w_O(j);
    W(i, 2 * h) = v;
  }
  matrix<R> P = matrix<R>::from_shape({T, 2 * h + 1});
  gemm(op::none, op::none, R(1), U, W, R(0), P);
  matrix<R> UV = matrix<R>::from_shape({T, dv});
  gemm(op::none, op::none, R(1), U, p.W_V, R(0), UV);
  attention_state<R> st;
  const R tau_r(tau);
  // Loss with column `col` of P moved by delta · dir (dir has T entries).
  auto loss_moved = [&](std::size_t col, const std::function<R(std::size_t)>& dir, const R& delta) {
    matrix<R> Q = P;
    for (std::size_t a = 0; a < T; ++a) Q(a, col) += delta * dir(a);
    attention_forward(Q, train.token_of, y, h, tau_r, st);
    return st.loss;
  };
  const R hstep(opt.step);
  const double tol = std::max(4096 * to_double(epsilon<Real>()), 1e-20);
  double worst = 0;
  int checked = 0, failed = 0;
  std::string worst_where;
  auto block = [&](const char* name, std::size_t rows, std::size_t cols, const auto& g,
                   const std::function<R(std::size_t, std::size_t, const R&)>& fd_loss) {
    const std::size_t count = rows * cols;
    double top = 0;
    std::size_t arg = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const double a = std::abs(to_double(g.data()[k]));
      if (a > top) top = a, arg = k;
    }
    std::vector<std::size_t> picks{arg};
    for (int k = 0; k < opt.per_block; ++k) picks.push_back((count * (2 * k + 1)) / (2 * opt.per_block) % count);
    for (std::size_t k : picks) {
      const std::size_t i = k / cols, j = k % cols;
      const R fd = (fd_loss(i, j, hstep) - fd_loss(i, j, -hstep)) / (R(2) * hstep);
      const double err = std::abs(to_double(R(g.data()[k]) - fd));
      const double scale = std::max(std::abs(to_double(fd)), 0.1 * top);
      const double rel = scale > 0 ? err / scale : err;
      ++checked;
      if (!(rel <= tol)) ++failed;
      if (!(rel <= worst)) {
        worst = rel;
        worst_where = fmt::format("{}({},{}): analytic {:.17g}, fd {:.17g}", name, i, j, to_double(g.data()[k]),
                                  to_double(fd));
      }
    }
  };
  auto row_dir = [&](std::size_t i) { return [&U, i](std::size_t a) { return U(a, i); }; };
  block("W_Q", d, h, gradient.W_Q, [&](std::size_t i, std::size_t j, const R& s) { return loss_moved(j, row_dir(i), s); });
  block("W_K", d, h, gradient.W_K,
        [&](std::size_t i, std::size_t j, const R& s) { return loss_moved(h + j, row_dir(i), s); });
  block("W_V", d, dv, gradient.W_V, [&](std::size_t i, std::size_t j, const R& s) {
    const R wo = p.w_O(j);
    return loss_moved(2 * h, [&U, i, wo](std::size_t a) { return U(a, i) * wo; }, s);
  });
  block("w_O", 1, dv, gradient.w_O, [&](std::size_t, std::size_t j, const R& s) {
    return loss_moved(2 * h, [&UV, j](std::size_t a) { return UV(a, j); }, s);
  });
  r.measured = worst;
  r.bound = tol;
  r.margin = tol - worst;
  r.holds = failed == 0;
  if (!r.holds) r.first_violation_step = step_index;
  r.detail = fmt::format("step {}: {} entries of ∇W_Q, ∇W_K, ∇W_V, ∇w_O vs mp50 central differences (h = {:g}); "
                         "worst relative error {:.3g} (tol {:.3g}) at {}",
                         step_index, checked, opt.step, worst, tol, worst_where);
  return r;
}

}  // namespace bovit::checks
