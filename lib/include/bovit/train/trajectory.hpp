// A training trajectory: the theory quantities of spec §6 at recorded steps, and the observer
// that records them (in memory for the checks, and as trajectory.csv, one flushed row per step).
//
// γ and ρ are read off the value coefficients a_V of W_V w_O = W_V⁽⁰⁾ w_O + Uᵀ a_V, exactly:
//   γ₊ = ‖μ‖² a_V[μ₊],  γ₋ = −‖μ‖² a_V[μ₋],  ρ_{n,i} = y_n ‖ξ_{n,i}‖² a_V[ξ_{n,i}].
// The span engine holds a_V; the dense engine solves G a_V = U (W_V w_O − W_V⁽⁰⁾ w_O).
#pragma once

#include "bovit/engine/engine.hpp"
#include "bovit/train/trainer.hpp"

#include <fmt/format.h>
#include <fmt/os.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace bovit {

template <real_scalar Real>
struct snapshot {
  int step = 0;
  Real train_loss{0}, train_error{0};
  std::optional<Real> test_loss, test_error;
  vector<Real> lprime;        // ℓ'(y_n f_n), N
  matrix<Real> received;      // s̄_{n,i}, N × M
  Real max_attention_deviation{0};  // max_{n,l,i} |S_{n,l,i} − 1/M|
  vector<Real> values;        // V_a = u_aᵀ W_V w_O for every distinct training token, T
  vector<Real> coefficients;  // a_V, T (empty when not defined)
  Real qk_mu_mu{0}, qk_mu_xi2{0}, qk_xi_mu{0}, qk_xi_xi2{0};  // on training sample 0
  matrix<Real> column_logits;  // (1/M) Σ_l q_{n,l}·k_{n,i}: the mean logit token i of sample n receives (τ = 1), N × M
};

// What does not change along a run.
template <real_scalar Real>
struct trajectory_frame {
  xt::xtensor<int, 2> token_of;  // N × M
  vector<Real> y;
  int plus_row = -1, minus_row = -1;
  matrix<Real> gram;             // G = U Uᵀ
  vector<Real> initial_values;   // V_a at step 0
  Real eta{0}, w_O_norm_sq{0};
  int M = 0;
};

template <real_scalar Real>
struct trajectory {
  trajectory_frame<Real> frame;
  std::vector<snapshot<Real>> steps;

  int samples() const { return static_cast<int>(frame.token_of.shape(0)); }
  Real token_norm_sq(int row) const { return frame.gram(row, row); }
  bool has_coefficients() const { return !steps.empty() && steps.front().coefficients.size() > 0; }
  Real gamma_plus(const snapshot<Real>& s) const { return token_norm_sq(frame.plus_row) * s.coefficients(frame.plus_row); }
  Real gamma_minus(const snapshot<Real>& s) const {
    return -token_norm_sq(frame.minus_row) * s.coefficients(frame.minus_row);
  }
  // ρ_{n,l} for noise token l ≥ 1 of sample n.
  Real rho(const snapshot<Real>& s, int n, int l) const {
    const int row = frame.token_of(n, l);
    return frame.y(n) * token_norm_sq(row) * s.coefficients(row);
  }
};

namespace detail {
template <real_scalar Real>
Real qk(const matrix<Real>& P, std::size_t h, int a, int b) {
  return dot(P.data() + static_cast<std::size_t>(a) * P.shape(1), P.data() + static_cast<std::size_t>(b) * P.shape(1) + h, h);
}
}  // namespace detail

// The column logits cost N M² d_h per row and only the in-memory checks read them: with_logits =
// false leaves them empty (the CSV does not have them).
template <real_scalar Real>
snapshot<Real> take_snapshot(const step_record<Real>& r, bool with_coefficients, bool with_logits = true) {
  const auto& st = r.state;
  const auto& P = r.eng.projections();
  const auto& tok = r.eng.data().train.token_of;
  const std::size_t h = r.eng.d_h(), N = tok.shape(0), M = tok.shape(1);
  snapshot<Real> s;
  s.step = r.step;
  s.train_loss = st.loss;
  s.train_error = st.error;
  s.lprime = st.lprime;
  s.received = matrix<Real>::from_shape({N, M});
  Real dev(0);
  const Real uniform = Real(1) / Real(M);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t i = 0; i < M; ++i) {
      s.received(n, i) = st.received(int(n), int(i));
      for (std::size_t l = 0; l < M; ++l) {
        using std::abs;
        const Real e = abs(st.S(n, l, i) - uniform);
        if (e > dev) dev = e;
      }
    }
  s.max_attention_deviation = dev;
  s.values = xt::view(P, xt::all(), 2 * h);
  if (with_coefficients) s.coefficients = r.eng.value_coefficients();
  const int mu = tok(0, 0), xi2 = tok(0, 1), xi3 = tok(0, M >= 3 ? 2 : 1);
  s.qk_mu_mu = detail::qk(P, h, mu, mu);
  s.qk_mu_xi2 = detail::qk(P, h, mu, xi2);
  s.qk_xi_mu = detail::qk(P, h, xi3, mu);
  s.qk_xi_xi2 = detail::qk(P, h, xi3, xi2);
  if (!with_logits) return s;
  s.column_logits = matrix<Real>::from_shape({N, M});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t i = 0; i < M; ++i) {
      Real z(0);
      for (std::size_t l = 0; l < M; ++l) z += detail::qk(P, h, tok(n, l), tok(n, i));
      s.column_logits(n, i) = z / Real(M);
    }
  return s;
}

template <real_scalar Real>
trajectory_frame<Real> make_frame(const engine<Real>& eng, const train_config& train) {
  trajectory_frame<Real> f;
  const auto& tr = eng.data().train;
  f.token_of = tr.token_of;
  f.y = tr.y;
  f.plus_row = tr.plus_row;
  f.minus_row = tr.minus_row;
  if (const auto* held = eng.held_gram()) {  // the span engine's G, the same product
    f.gram = *held;
  } else {
    f.gram = matrix<Real>::from_shape({tr.U.shape(0), tr.U.shape(0)});
    gemm(op::none, op::transpose, Real(1), tr.U, tr.U, Real(0), f.gram);
  }
  f.eta = Real(train.eta);
  f.w_O_norm_sq = eng.w_O_norm_sq();
  f.M = tr.tokens_per_sample();
  return f;
}

// The CSV columns of trajectory.csv, in order.
inline const std::vector<std::string>& trajectory_columns() {
  static const std::vector<std::string> cols = {
      "step", "train_loss", "train_error", "test_loss", "test_error", "V_plus", "V_minus", "gamma_plus",
      "gamma_minus", "rho_mean", "rho_max", "attn_signal_mean", "attn_signal_min", "attn_xi2_mean",
      "max_attn_deviation", "qk_mu_mu", "qk_mu_xi2", "qk_xi_mu", "qk_xi_xi2"};
  return cols;
}

// Records every `every` steps and the last one; evaluates the test set every `test_every`
// recorded rows (0: only on the last). Keeps snapshots in memory and/or writes the CSV.
template <real_scalar Real>
class trajectory_recorder final : public observer<Real> {
 public:
  struct options {
    int every = 1;
    int test_every = 1;
    bool keep = true;            // keep snapshots in memory
    std::string csv_path;        // empty: no CSV
  };

  explicit trajectory_recorder(options opt) : opt_(std::move(opt)) {}

  void on_begin(const engine<Real>& eng, const train_config& train) override {
    traj_.frame = make_frame(eng, train);
    traj_.steps.clear();
    rows_ = 0;
    try {
      (void)eng.value_coefficients();
      coefficients_ = true;
    } catch (const std::exception&) {
      coefficients_ = false;
    }
    if (!opt_.csv_path.empty()) {
      csv_ = std::make_unique<fmt::ostream>(fmt::output_file(opt_.csv_path));
      csv_->print("{}\n", fmt::join(trajectory_columns(), ","));
      csv_->flush();
    }
  }

  action on_step(const step_record<Real>& r) override {
    if (r.step % opt_.every != 0 && !r.last) return action::proceed;
    auto s = take_snapshot(r, coefficients_, opt_.keep);
    if (r.step == 0) traj_.frame.initial_values = s.values;
    const bool test_now = r.last || (opt_.test_every > 0 && rows_ % opt_.test_every == 0);
    if (test_now) {
      const auto t = r.eng.evaluate_test();
      s.test_loss = t.loss;
      s.test_error = t.error;
    }
    ++rows_;
    if (csv_) write_row(s);
    if (opt_.keep) traj_.steps.push_back(std::move(s));
    return action::proceed;
  }

  void on_end(const engine<Real>&, const train_result<Real>&) override {
    if (csv_) csv_->flush();
  }

  const trajectory<Real>& result() const { return traj_; }
  trajectory<Real>& result() { return traj_; }

 private:
  void write_row(const snapshot<Real>& s) {
    const auto& f = traj_.frame;
    auto num = [](const std::optional<Real>& x) { return x ? fmt::format("{:.17g}", to_double(*x)) : std::string(); };
    const int N = traj_.samples(), M = f.M;
    std::optional<Real> gp, gm, rho_mean, rho_max;
    if (coefficients_ && f.plus_row >= 0) {
      gp = traj_.gamma_plus(s);
      gm = traj_.gamma_minus(s);
    }
    if (coefficients_) {
      Real sum(0), top = -std::numeric_limits<Real>::infinity();
      for (int n = 0; n < N; ++n)
        for (int l = 1; l < M; ++l) {
          const Real r = traj_.rho(s, n, l);
          sum += r;
          if (r > top) top = r;
        }
      rho_mean = sum / Real(N * (M - 1));
      rho_max = top;
    }
    Real sig_mean(0), sig_min(1), xi2_mean(0);
    for (int n = 0; n < N; ++n) {
      sig_mean += s.received(n, 0);
      if (s.received(n, 0) < sig_min) sig_min = s.received(n, 0);
      xi2_mean += s.received(n, 1);
    }
    sig_mean /= Real(N);
    xi2_mean /= Real(N);
    std::optional<Real> vp, vm;
    if (f.plus_row >= 0) {
      vp = s.values(f.plus_row);
      vm = s.values(f.minus_row);
    }
    csv_->print("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", s.step, num(s.train_loss),
                num(s.train_error), num(s.test_loss), num(s.test_error), num(vp), num(vm), num(gp), num(gm),
                num(rho_mean), num(rho_max), num(sig_mean), num(sig_min), num(xi2_mean),
                num(s.max_attention_deviation), num(s.qk_mu_mu), num(s.qk_mu_xi2), num(s.qk_xi_mu),
                num(s.qk_xi_xi2));
    csv_->flush();
  }

  options opt_;
  trajectory<Real> traj_;
  int rows_ = 0;
  bool coefficients_ = false;
  std::unique_ptr<fmt::ostream> csv_;
};

}  // namespace bovit
