// The dense engine: explicit weights, two BLAS-3 products per step (for double).
//
//   P = U W            (T × d) · (d × (2d_h + 1)),  W = [W_Q | W_K | W_V w_O]
//   ∇ = Uᵀ D           (d × T) · (T × (2d_h + 1))
// then W_Q, W_K −= η ∇ and the rank-one W_V −= η (Uᵀ D_v) w_Oᵀ. Cost O(T d d_h) per step.
#pragma once

#include "bovit/engine/engine.hpp"

namespace bovit {

template <real_scalar Real>
class dense_engine final : public engine<Real> {
  using base = engine<Real>;

 public:
  // W_ is declared (so built) before W_V_ takes init.W_V over.
  dense_engine(dataset<Real> data, parameters<Real> init, const model_config& model)
      : base(std::move(data), init, model), W_(this->stack_weights(init)), W_V_(std::move(init.W_V)) {
    u0_ = xt::view(W_, xt::all(), 2 * this->d_h_);
    const auto& U = this->data_.train.U;
    this->P_ = matrix<Real>::from_shape({U.shape(0), W_.shape(1)});
    grad_ = matrix<Real>::from_shape(W_.shape());
    u_ = vector<Real>::from_shape({W_.shape(0)});
    grad_w_O_ = vector<Real>::from_shape({W_V_.shape(1)});
  }

  std::string_view name() const override { return "dense"; }

 private:
  void step(const Real& eta) override {
    const auto& U = this->data_.train.U;
    gemm(op::transpose, op::none, Real(1), U, this->D_, Real(0), grad_);
    const std::size_t d = W_.shape(0), w = W_.shape(1), h2 = 2 * this->d_h_, dv = this->w_O_.size();
    const Real minus_eta = -eta;
    for (std::size_t i = 0; i < d; ++i) axpy(h2, minus_eta, grad_.data() + i * w, W_.data() + i * w);
    if (this->train_w_O_) {  // ∇w_O = W_Vᵀ g with the pre-step W_V
      grad_w_O_.fill(Real(0));
      for (std::size_t i = 0; i < d; ++i) axpy(dv, grad_(i, h2), W_V_.data() + i * dv, grad_w_O_.data());
      update_W_V(eta);
      axpy(dv, minus_eta, grad_w_O_.data(), this->w_O_.data());
    } else {
      update_W_V(eta);
    }
    gemv(W_V_, this->w_O_.data(), u_.data());
    for (std::size_t i = 0; i < d; ++i) W_(i, h2) = u_(i);
  }

 public:
  parameters<Real> weights() const override {
    parameters<Real> p;
    p.W_Q = xt::view(W_, xt::all(), xt::range(0, this->d_h_));
    p.W_K = xt::view(W_, xt::all(), xt::range(this->d_h_, 2 * this->d_h_));
    p.W_V = W_V_;
    p.w_O = this->w_O_;
    return p;
  }

  // Solves G a = U (W_V w_O − W_V⁽⁰⁾ w_O) with the training Gram matrix G = U Uᵀ.
  vector<Real> value_coefficients() const override {
    if (this->train_w_O_) throw std::logic_error("value coefficients are defined for a fixed w_O only");
    const auto& U = this->data_.train.U;
    const std::size_t T = U.shape(0), d = U.shape(1);
    if (!factored_) {  // the Gram matrix and its Cholesky factor are computed once
      matrix<Real> gram = matrix<Real>::from_shape({T, T});
      gemm(op::none, op::transpose, Real(1), U, U, Real(0), gram);
      independent_ = cholesky_factor(gram, chol_);
      factored_ = true;
    }
    vector<Real> du = xt::view(W_, xt::all(), 2 * this->d_h_);
    du -= u0_;
    vector<Real> rhs = vector<Real>::from_shape({T});
    for (std::size_t a = 0; a < T; ++a) rhs(a) = dot(U.data() + a * d, du.data(), d);
    if (!independent_)
      throw std::runtime_error("value coefficients: the training tokens are linearly dependent (T > d?)");
    vector<Real> coef;
    cholesky_substitute(chol_, rhs, coef);
    return coef;
  }

 private:
  void refresh_projections() override {
    gemm(op::none, op::none, Real(1), this->data_.train.U, W_, Real(0), this->P_);
  }

  void project_test(matrix<Real>& P_test) const override {
    const auto& U = this->data_.test.U;
    if (P_test.shape(0) != U.shape(0)) P_test = matrix<Real>::from_shape({U.shape(0), W_.shape(1)});
    gemm(op::none, op::none, Real(1), U, W_, Real(0), P_test);
  }

  void update_W_V(const Real& eta) {
    const std::size_t d = W_V_.shape(0), dv = W_V_.shape(1), h2 = 2 * this->d_h_;
    for (std::size_t i = 0; i < d; ++i) axpy(dv, Real(-(eta * grad_(i, h2))), this->w_O_.data(), W_V_.data() + i * dv);
  }

  matrix<Real> W_;       // [W_Q | W_K | W_V w_O]
  matrix<Real> W_V_;
  matrix<Real> grad_;    // Uᵀ D
  vector<Real> u_, u0_;  // W_V w_O now, and at initialisation
  vector<Real> grad_w_O_;
  mutable matrix<Real> chol_;  // Cholesky factor of G = U Uᵀ, at the first value_coefficients()
  mutable bool factored_ = false, independent_ = false;
};

}  // namespace bovit
