// The engine interface: one gradient step of full-batch GD on the attention model.
//
// Both engines keep P, the [q | k | v] projections of the distinct training tokens (rows of U,
// see data/dataset.hpp), run the shared kernel of model/attention.hpp on it, and differ only in
// how P is kept up to date:
//   dense  holds W = [W_Q | W_K | W_V w_O] explicitly; each step P = U W, then W −= η Uᵀ D.
//   span   holds P itself and the coefficients A of W = W⁽⁰⁾ + Uᵀ A (spec §5); each step
//          P −= η G D and A −= η D with the Gram matrix G = U Uᵀ: no term depends on d.
// The gradient is ∇W_Q = Uᵀ D_Q, ∇W_K = Uᵀ D_K, ∇W_V = (Uᵀ D_v) w_Oᵀ, ∇w_O = W_Vᵀ Uᵀ D_v.
#pragma once

#include "bovit/config.hpp"
#include "bovit/data/dataset.hpp"
#include "bovit/model/attention.hpp"
#include "bovit/model/parameters.hpp"

#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

namespace bovit {

template <real_scalar Real>
struct test_metrics {
  Real loss{0};
  Real error{0};
};

template <real_scalar Real>
class engine {
 public:
  engine(dataset<Real> data, const parameters<Real>& init, const model_config& model)
      : data_(std::move(data)),
        d_h_(static_cast<std::size_t>(model.d_h)),
        tau_(model.tau),
        train_w_O_(model.train_w_O),
        w_O_(init.w_O) {
    if (init.W_Q.shape(0) != static_cast<std::size_t>(data_.train.dim()))
      throw std::invalid_argument("engine: weights and tokens disagree on d");
  }
  virtual ~engine() = default;
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  virtual std::string_view name() const = 0;

  // Forward and backward pass at the current weights.
  const attention_state<Real>& evaluate() {
    refresh_projections();
    const auto& tr = data_.train;
    attention_forward(P_, tr.token_of, tr.y, d_h_, tau_, state_);
    attention_backward(P_, tr.token_of, tr.y, d_h_, tau_, state_, D_);
    return state_;
  }

  // W ← W − η ∇L_S with the gradient of the last evaluate().
  void descend(const Real& eta) {
    step(eta);
    ++weights_version_;
  }

  // Loss and error on the test set at the current weights; `out` receives its attention state.
  // Evaluated once per weights: a second call before the next descend returns the same result
  // (so the recorder's last row and the run's result agree to the bit, and the work is not redone).
  test_metrics<Real> evaluate_test(attention_state<Real>* out = nullptr) const {
    if (test_version_ != weights_version_) {
      project_test(P_test_);
      attention_forward(P_test_, data_.test.token_of, data_.test.y, d_h_, tau_, test_state_);
      test_version_ = weights_version_;
    }
    if (out) *out = test_state_;
    return {test_state_.loss, test_state_.error};
  }

  // The explicit weights (span: rebuilt as W⁽⁰⁾ + Uᵀ A).
  virtual parameters<Real> weights() const = 0;

  // The explicit gradient at the weights of the last evaluate().
  parameters<Real> gradient() const {
    const auto& U = data_.train.U;
    matrix<Real> full = matrix<Real>::from_shape({U.shape(1), D_.shape(1)});
    gemm(op::transpose, op::none, Real(1), U, D_, Real(0), full);
    const auto w = weights();
    parameters<Real> g;
    g.W_Q = xt::view(full, xt::all(), xt::range(0, d_h_));
    g.W_K = xt::view(full, xt::all(), xt::range(d_h_, 2 * d_h_));
    vector<Real> gv = xt::view(full, xt::all(), 2 * d_h_);
    g.W_V = matrix<Real>::from_shape({gv.size(), w_O_.size()});
    for (std::size_t i = 0; i < gv.size(); ++i)
      for (std::size_t j = 0; j < w_O_.size(); ++j) g.W_V(i, j) = gv(i) * w_O_(j);
    g.w_O = vector<Real>::from_shape({w_O_.size()});
    for (std::size_t j = 0; j < w_O_.size(); ++j) {
      Real acc(0);
      for (std::size_t i = 0; i < gv.size(); ++i) acc += w.W_V(i, j) * gv(i);
      g.w_O(j) = acc;
    }
    return g;
  }

  // Coefficients a_V of W_V w_O − W_V⁽⁰⁾ w_O = Uᵀ a_V on the training tokens (spec §6). Throws when
  // they are not defined (trained w_O, or dependent tokens for the dense engine's solve).
  virtual vector<Real> value_coefficients() const = 0;

  const dataset<Real>& data() const { return data_; }
  const attention_state<Real>& state() const { return state_; }
  // [q | k | v] of every distinct training token at the weights of the last evaluate().
  const matrix<Real>& projections() const { return P_; }
  // D = ∂L_S/∂P of the last evaluate().
  const matrix<Real>& derivative() const { return D_; }
  // The training Gram matrix G = U Uᵀ when the engine keeps it (span), else nullptr.
  virtual const matrix<Real>* held_gram() const { return nullptr; }
  std::size_t d_h() const { return d_h_; }
  const vector<Real>& w_O() const { return w_O_; }
  Real w_O_norm_sq() const { return dot(w_O_.data(), w_O_.data(), w_O_.size()); }

 protected:
  virtual void refresh_projections() = 0;
  virtual void project_test(matrix<Real>& P_test) const = 0;

  // [W_Q | W_K | W_V w_O] as one d × (2 d_h + 1) matrix, filled row by row.
  matrix<Real> stack_weights(const parameters<Real>& p) const {
    const std::size_t d = p.W_Q.shape(0), h = d_h_, w = 2 * h + 1;
    if (p.W_Q.shape(1) != h || p.W_K.shape(0) != d || p.W_K.shape(1) != h || p.W_V.shape(0) != d)
      throw std::invalid_argument("engine: W_Q, W_K, W_V shapes disagree with d and d_h");
    vector<Real> u = vector<Real>::from_shape({d});
    gemv(p.W_V, p.w_O.data(), u.data());
    matrix<Real> W = matrix<Real>::from_shape({d, w});
    for (std::size_t i = 0; i < d; ++i) {
      Real* row = W.data() + i * w;
      std::copy_n(p.W_Q.data() + i * h, h, row);
      std::copy_n(p.W_K.data() + i * h, h, row + h);
      row[2 * h] = u(i);
    }
    return W;
  }

  dataset<Real> data_;
  std::size_t d_h_;
  Real tau_;
  bool train_w_O_;
  vector<Real> w_O_;
  matrix<Real> P_, D_;
  attention_state<Real> state_;

 private:
  // The update of descend(); engines implement it.
  virtual void step(const Real& eta) = 0;

  std::uint64_t weights_version_ = 0;                  // descend() calls so far
  mutable std::uint64_t test_version_ = ~std::uint64_t(0);  // weights_version_ of test_state_
  mutable matrix<Real> P_test_;                        // test projections, a cache of evaluate_test()
  mutable attention_state<Real> test_state_;
};

template <real_scalar Real>
std::unique_ptr<engine<Real>> make_engine(const std::string& kind, dataset<Real> data, parameters<Real> init,
                                          const model_config& model);

}  // namespace bovit
