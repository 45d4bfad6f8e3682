// Data model (spec §1, Definition 3.1 generalised), as a table of distinct tokens.
//
// A sample X_n = [x_1, …, x_M]ᵀ is stored as indices into U, the T×d matrix of distinct tokens:
// row 0 is μ₊, row 1 is μ₋ (synthetic data), and every noise token ξ_{n,i} has a row of its own,
// so T = 2 + N(M−1). token_of(n, l) is the row of token l of sample n. Both engines work on U;
// the span engine's coefficients live on its rows (spec §5). With per-sample signals (MNIST) every
// sample's signal has its own row and plus_row = minus_row = −1.
#pragma once

#include "bovit/config.hpp"
#include "bovit/linalg.hpp"
#include "bovit/rng.hpp"

#include <xtensor/xtensor.hpp>

#include <cstdint>
#include <string>

namespace bovit {

template <real_scalar Real>
struct token_set {
  matrix<Real> U;                  // T × d distinct tokens
  xt::xtensor<int, 2> token_of;    // N × M rows of U
  vector<Real> y;                  // N labels in {+1, −1}
  int plus_row = 0;                // row of μ₊ in U, or −1
  int minus_row = 1;               // row of μ₋ in U, or −1

  int samples() const { return static_cast<int>(token_of.shape(0)); }
  int tokens_per_sample() const { return static_cast<int>(token_of.shape(1)); }
  int distinct_tokens() const { return static_cast<int>(U.shape(0)); }
  int dim() const { return static_cast<int>(U.shape(1)); }
  bool shared_signals() const { return plus_row >= 0 && minus_row >= 0; }
};

template <real_scalar Real>
struct dataset {
  token_set<Real> train;
  token_set<Real> test;
  double mu_norm = 0.0;
  double snr = 0.0;
};

template <real_scalar To, real_scalar From>
token_set<To> convert(const token_set<From>& s) {
  return {convert<To>(s.U), s.token_of, convert<To>(s.y), s.plus_row, s.minus_row};
}
template <real_scalar To, real_scalar From>
dataset<To> convert(const dataset<From>& d) {
  return {convert<To>(d.train), convert<To>(d.test), d.mu_norm, d.snr};
}

// Random streams derived from the master seed: one each for signals, training data, test data and
// initialisation. Different purposes never share a draw.
struct seed_streams {
  rng_stream signals, train, test, init;
  explicit seed_streams(std::uint64_t master)
      : signals(rng_stream(master).split("signals")),
        train(rng_stream(master).split("train")),
        test(rng_stream(master).split("test")),
        init(rng_stream(master).split("init")) {}
};

// Generates training and test data in double (bit-identical for a seed, whatever the scalar or
// thread count). For data.source = mnist the images are read from the IDX files. The noise is
// drawn on `threads` threads (0: thread_budget() when the draw is large enough to gain, else 1).
dataset<double> make_dataset(const data_config& cfg, std::uint64_t seed, int threads = 0);

}  // namespace bovit
