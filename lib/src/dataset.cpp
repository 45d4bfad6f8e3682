#include "bovit/data/dataset.hpp"

#include "bovit/data/mnist.hpp"
#include "bovit/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bovit {
namespace {

struct signal_pair {
  std::vector<double> plus, minus;
};

signal_pair make_signals(const data_config& cfg, rng_stream stream) {
  const auto d = static_cast<std::size_t>(cfg.d);
  signal_pair s{std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  if (cfg.signal_basis == "standard") {
    s.plus[0] = cfg.mu_norm;
    s.minus[1] = cfg.mu_norm;
    return s;
  }
  // Rotated: Gram–Schmidt on two Gaussian vectors.
  for (std::size_t j = 0; j < d; ++j) s.plus[j] = stream.normal();
  for (std::size_t j = 0; j < d; ++j) s.minus[j] = stream.normal();
  auto norm = [](const std::vector<double>& v) {
    double a = 0;
    for (double x : v) a += x * x;
    return std::sqrt(a);
  };
  const double np = norm(s.plus);
  for (double& x : s.plus) x /= np;
  double overlap = 0;
  for (std::size_t j = 0; j < d; ++j) overlap += s.plus[j] * s.minus[j];
  for (std::size_t j = 0; j < d; ++j) s.minus[j] -= overlap * s.plus[j];
  const double nm = norm(s.minus);
  for (double& x : s.minus) x /= nm;
  for (std::size_t j = 0; j < d; ++j) {
    s.plus[j] *= cfg.mu_norm;
    s.minus[j] *= cfg.mu_norm;
  }
  return s;
}

std::vector<double> make_labels(const data_config& cfg, int n_samples, rng_stream stream) {
  std::vector<double> y(static_cast<std::size_t>(n_samples));
  for (int n = 0; n < n_samples; ++n)
    y[static_cast<std::size_t>(n)] = cfg.labels == "balanced" ? (n % 2 == 0 ? 1.0 : -1.0) : stream.rademacher();
  return y;
}

// Removes the components along the (orthogonal) signal directions.
void project_off(double* x, const signal_pair& s, std::size_t d) {
  for (const auto* mu : {&s.plus, &s.minus}) {
    double dot = 0, nn = 0;
    for (std::size_t j = 0; j < d; ++j) {
      dot += x[j] * (*mu)[j];
      nn += (*mu)[j] * (*mu)[j];
    }
    if (nn == 0) continue;
    const double c = dot / nn;
    for (std::size_t j = 0; j < d; ++j) x[j] -= c * (*mu)[j];
  }
}

// Fills the noise rows of sample n: its own stream, one normal per coordinate and token.
void fill_noise(const data_config& cfg, token_set<double>& set, int n, int first_row, rng_stream stream,
                const signal_pair& s) {
  const auto d = static_cast<std::size_t>(cfg.d);
  for (int l = 1; l < cfg.M; ++l) {
    const double sigma = cfg.sigma(l);
    const int row = first_row + (l - 1);
    double* x = set.U.data() + static_cast<std::size_t>(row) * d;
    for (std::size_t j = 0; j < d; ++j) x[j] = sigma * stream.normal();
    if (cfg.orthogonal_noise) project_off(x, s, d);
    set.token_of(n, l) = row;
  }
}

// A split without its noise rows: labels, signal rows (zero-padded), token_of(n, 0). The noise
// rows are left to fill_noise, which writes every entry.
token_set<double> start_split(const data_config& cfg, int n_samples, rng_stream stream, const signal_pair& s,
                              const std::vector<std::vector<double>>* images) {
  const bool shared = images == nullptr;
  const int signal_rows = shared ? 2 : n_samples;
  const int T = signal_rows + n_samples * (cfg.M - 1);
  const auto d = static_cast<std::size_t>(cfg.d);
  token_set<double> set;
  set.U = matrix<double>::from_shape({static_cast<std::size_t>(T), d});
  std::fill(set.U.data(), set.U.data() + static_cast<std::size_t>(signal_rows) * d, 0.0);
  set.token_of = xt::xtensor<int, 2>::from_shape({static_cast<std::size_t>(n_samples), static_cast<std::size_t>(cfg.M)});
  const auto labels = make_labels(cfg, n_samples, stream.split("labels"));
  set.y = vector<double>::from_shape({static_cast<std::size_t>(n_samples)});
  if (shared) {
    std::copy(s.plus.begin(), s.plus.end(), set.U.data());
    std::copy(s.minus.begin(), s.minus.end(), set.U.data() + d);
  } else {
    set.plus_row = set.minus_row = -1;
  }
  for (int n = 0; n < n_samples; ++n) {
    const double y = labels[static_cast<std::size_t>(n)];
    set.y(n) = y;
    if (shared) {
      set.token_of(n, 0) = y > 0 ? 0 : 1;
    } else {
      const auto& img = (*images)[static_cast<std::size_t>(n)];
      std::copy(img.begin(), img.end(), set.U.data() + static_cast<std::size_t>(n) * d);
      set.token_of(n, 0) = n;
    }
  }
  return set;
}

// The noise of every training and test sample, each from its own sub-stream, on `threads`
// threads (1 when the draw is small): the result does not depend on the thread count.
void fill_all_noise(const data_config& cfg, dataset<double>& out, const seed_streams& streams, const signal_pair& s,
                    int threads) {
  const int N = out.train.samples(), N_test = out.test.samples();
  const auto total = static_cast<std::size_t>(N + N_test);
  const double normals = static_cast<double>(total) * (cfg.M - 1) * cfg.d;
  if (threads <= 0) threads = normals >= 65536 ? thread_budget() : 1;
  const int first_train = out.train.distinct_tokens() - N * (cfg.M - 1);
  const int first_test = out.test.distinct_tokens() - N_test * (cfg.M - 1);
  parallel_blocks(total, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) {
      const int n = static_cast<int>(k);
      if (n < N)
        fill_noise(cfg, out.train, n, first_train + n * (cfg.M - 1), streams.train.split(static_cast<std::uint64_t>(n)),
                   s);
      else
        fill_noise(cfg, out.test, n - N, first_test + (n - N) * (cfg.M - 1),
                   streams.test.split(static_cast<std::uint64_t>(n - N)), s);
    }
  });
}

}  // namespace

dataset<double> make_dataset(const data_config& cfg, std::uint64_t seed, int threads) {
  const seed_streams streams(seed);
  dataset<double> out;
  out.mu_norm = cfg.mu_norm;
  out.snr = cfg.snr();
  if (cfg.source == "mnist") {
    const signal_pair none{std::vector<double>(static_cast<std::size_t>(cfg.d), 0.0),
                           std::vector<double>(static_cast<std::size_t>(cfg.d), 0.0)};
    const auto train_labels = make_labels(cfg, cfg.N, streams.train.split("labels"));
    const auto test_labels = make_labels(cfg, cfg.N_test, streams.test.split("labels"));
    const auto train_images = mnist_signal_tokens(cfg, train_labels, "train", streams.train.split("images"));
    const auto test_images = mnist_signal_tokens(cfg, test_labels, "t10k", streams.test.split("images"));
    out.train = start_split(cfg, cfg.N, streams.train, none, &train_images);
    out.test = start_split(cfg, cfg.N_test, streams.test, none, &test_images);
    fill_all_noise(cfg, out, streams, none, threads);
    return out;
  }
  const auto s = make_signals(cfg, streams.signals);
  out.train = start_split(cfg, cfg.N, streams.train, s, nullptr);
  out.test = start_split(cfg, cfg.N_test, streams.test, s, nullptr);
  fill_all_noise(cfg, out, streams, s, threads);
  return out;
}

}  // namespace bovit
