// The data model (spec §1): reproducibility, independent streams, labels, the noise profile,
// orthogonal noise and the signal bases, and thread independence of generation (concurrent calls,
// and the thread count of one call).
#include "bovit/data/dataset.hpp"
#include "bovit/model/parameters.hpp"

#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace bovit {
namespace {

data_config small_data(int N = 6, int M = 4, int d = 10) {
  data_config c;
  c.N = N;
  c.M = M;
  c.d = d;
  c.mu_norm = 3.0;
  c.noise_sigma = {2.0, 0.5};
  c.N_test = 8;
  return c;
}

template <class T, std::size_t R>
bool bit_identical(const xt::xtensor<T, R>& a, const xt::xtensor<T, R>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

bool same_split(const token_set<double>& a, const token_set<double>& b) {
  return bit_identical(a.U, b.U) && bit_identical(a.token_of, b.token_of) && bit_identical(a.y, b.y) &&
         a.plus_row == b.plus_row && a.minus_row == b.minus_row;
}

bool same_data(const dataset<double>& a, const dataset<double>& b) {
  return same_split(a.train, b.train) && same_split(a.test, b.test);
}

double dot_rows(const matrix<double>& U, int a, int b) {
  double s = 0;
  for (std::size_t j = 0; j < U.shape(1); ++j) s += U(a, j) * U(b, j);
  return s;
}

TEST(Data, SameSeedGivesBitIdenticalData) {
  for (const char* basis : {"standard", "rotated"}) {
    auto c = small_data();
    c.signal_basis = basis;
    c.labels = "rademacher";
    EXPECT_TRUE(same_data(make_dataset(c, 42), make_dataset(c, 42))) << basis;
  }
}

TEST(Data, DifferentSeedGivesDifferentData) {
  auto c = small_data();
  c.signal_basis = "rotated";
  const auto a = make_dataset(c, 1), b = make_dataset(c, 2);
  EXPECT_FALSE(bit_identical(a.train.U, b.train.U));
  EXPECT_FALSE(bit_identical(a.test.U, b.test.U));
  // Within one seed, test noise is not a copy of training noise.
  EXPECT_NE(a.train.U(2, 0), a.test.U(2, 0));
}

TEST(Data, TrainTestAndInitStreamsAreIndependent) {
  auto c = small_data();
  const auto base = make_dataset(c, 7);
  auto more_test = c;
  more_test.N_test = 20;
  const auto t = make_dataset(more_test, 7);
  EXPECT_TRUE(same_split(base.train, t.train)) << "changing N_test changed the training data";
  // Sample n of a split has its own sub-stream: the first 8 test samples are unchanged too.
  const std::size_t d = static_cast<std::size_t>(c.d);
  for (int n = 0; n < c.N_test; ++n)
    for (int l = 0; l < c.M; ++l)
      for (std::size_t j = 0; j < d; ++j)
        ASSERT_EQ(base.test.U(base.test.token_of(n, l), j), t.test.U(t.test.token_of(n, l), j));
  auto more_train = c;
  more_train.N = 10;
  EXPECT_TRUE(same_split(base.test, make_dataset(more_train, 7).test)) << "changing N changed the test data";
  // Initial weights come from the init stream: the data settings do not move them.
  config a = test::tiny_config(), b = a;
  b.data.N = 8;
  b.data.N_test = 30;
  b.data.mu_norm = 9.0;
  const auto pa = init_parameters(a, seed_streams(a.run.seed).init);
  const auto pb = init_parameters(b, seed_streams(b.run.seed).init);
  EXPECT_TRUE(bit_identical(pa.W_Q, pb.W_Q) && bit_identical(pa.W_K, pb.W_K) && bit_identical(pa.W_V, pb.W_V) &&
              bit_identical(pa.w_O, pb.w_O));
}

TEST(Data, BalancedLabelsAreExactlyHalfAndHalf) {
  for (int N : {2, 10, 64}) {
    auto c = small_data(N);
    c.N_test = N + 2;
    const auto data = make_dataset(c, 3);
    for (const auto* s : {&data.train, &data.test}) {
      int plus = 0, minus = 0;
      for (int n = 0; n < s->samples(); ++n) (s->y(n) > 0 ? plus : minus)++;
      EXPECT_EQ(plus, s->samples() / 2);
      EXPECT_EQ(minus, s->samples() / 2);
    }
  }
  auto r = small_data(41);
  r.labels = "rademacher";
  const auto data = make_dataset(r, 3);
  for (int n = 0; n < 41; ++n) EXPECT_TRUE(data.train.y(n) == 1.0 || data.train.y(n) == -1.0);
}

TEST(Data, TokenLayoutPutsTheLabelsSignalFirst) {
  const auto c = small_data(6, 4, 10);
  const auto data = make_dataset(c, 5);
  const auto& tr = data.train;
  EXPECT_EQ(tr.distinct_tokens(), 2 + c.N * (c.M - 1));
  for (int n = 0; n < c.N; ++n) {
    EXPECT_EQ(tr.token_of(n, 0), tr.y(n) > 0 ? tr.plus_row : tr.minus_row);
    for (int l = 1; l < c.M; ++l) EXPECT_GE(tr.token_of(n, l), 2);
  }
}

TEST(Data, OrthogonalNoiseIsOrthogonalToBothSignalsInBothBases) {
  for (const char* basis : {"standard", "rotated"}) {
    for (bool project : {true, false}) {
      auto c = small_data(8, 4, 12);
      c.signal_basis = basis;
      c.orthogonal_noise = project;
      const auto data = make_dataset(c, 11);
      double worst_cos = 0;
      for (const auto* s : {&data.train, &data.test})
        for (int row = 2; row < s->distinct_tokens(); ++row)
          for (int mu : {s->plus_row, s->minus_row}) {
            const double cos = dot_rows(s->U, row, mu) / std::sqrt(dot_rows(s->U, row, row) * dot_rows(s->U, mu, mu));
            worst_cos = std::max(worst_cos, std::abs(cos));
          }
      if (project) EXPECT_LT(worst_cos, 1e-14) << basis;
      else EXPECT_GT(worst_cos, 1e-2) << basis << ": raw noise should overlap the signals";
    }
  }
}

TEST(Data, NoiseProfileSetsEachTokensStd) {
  auto c = small_data(200, 5, 50);
  c.noise_sigma = {3.0, 0.5, 0.1};  // σ_2 = 3, σ_3 = 0.5, σ_4 = σ_5 = 0.1
  const auto data = make_dataset(c, 13);
  for (int l = 1; l < c.M; ++l) {
    double sum = 0, sq = 0;
    long count = 0;
    for (int n = 0; n < c.N; ++n)
      for (int j = 0; j < c.d; ++j) {
        const double x = data.train.U(data.train.token_of(n, l), j);
        sum += x;
        sq += x * x;
        ++count;
      }
    const double mean = sum / count, sd = std::sqrt(sq / count - mean * mean);
    // 10000 draws: the std estimate has relative standard error ≈ 0.7%.
    EXPECT_NEAR(sd / c.sigma(l), 1.0, 0.04) << "token " << l + 1;
    EXPECT_NEAR(mean / c.sigma(l), 0.0, 0.04) << "token " << l + 1;
  }
}

TEST(Data, SignalBasesAreOrthogonalWithNormMu) {
  for (const char* basis : {"standard", "rotated"}) {
    auto c = small_data(4, 3, 16);
    c.signal_basis = basis;
    c.mu_norm = 7.5;
    const auto data = make_dataset(c, 17);
    const auto& U = data.train.U;
    const double mu2 = c.mu_norm * c.mu_norm;
    EXPECT_NEAR(dot_rows(U, 0, 0) / mu2, 1.0, 1e-14) << basis;
    EXPECT_NEAR(dot_rows(U, 1, 1) / mu2, 1.0, 1e-14) << basis;
    EXPECT_NEAR(dot_rows(U, 0, 1) / mu2, 0.0, 1e-14) << basis;
    int nonzero = 0;
    for (std::size_t j = 0; j < U.shape(1); ++j) nonzero += U(0, j) != 0.0;
    if (std::string(basis) == "standard") {
      EXPECT_EQ(U(0, 0), c.mu_norm);
      EXPECT_EQ(U(1, 1), c.mu_norm);
      EXPECT_EQ(nonzero, 1);
    } else {
      EXPECT_GT(nonzero, 8) << "a rotated μ₊ should spread over the coordinates";
    }
    // The test split shares the signals.
    for (std::size_t j = 0; j < U.shape(1); ++j) ASSERT_EQ(U(0, j), data.test.U(0, j));
  }
}

TEST(Data, ConcurrentGenerationMatchesSequential) {
  auto c = small_data(16, 4, 64);
  c.signal_basis = "rotated";
  c.labels = "rademacher";
  const std::vector<std::uint64_t> seeds = {1, 2, 3, 1, 2, 3};
  std::vector<dataset<double>> sequential;
  for (auto s : seeds) sequential.push_back(make_dataset(c, s));
  std::vector<dataset<double>> concurrent(seeds.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seeds.size(); ++i)
    threads.emplace_back([&, i] { concurrent[i] = make_dataset(c, seeds[i]); });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < seeds.size(); ++i) EXPECT_TRUE(same_data(sequential[i], concurrent[i])) << "seed " << seeds[i];
}

// The noise and the initial weights are drawn on several threads (one sub-stream per sample and
// per matrix): any thread count gives the same bits, orthogonal noise and both init schemes too.
TEST(Data, DrawThreadCountDoesNotChangeTheBits) {
  for (const bool orthogonal : {false, true}) {
    auto c = small_data(7, 5, 48);
    c.orthogonal_noise = orthogonal;
    c.N_test = 11;
    const auto one = make_dataset(c, 9, 1);
    for (int threads : {2, 3, 64}) EXPECT_TRUE(same_data(one, make_dataset(c, 9, threads))) << threads;
    EXPECT_TRUE(same_data(one, make_dataset(c, 9))) << "default thread count";
  }
  for (const char* init : {"gaussian", "uniform_fan_in"}) {
    config cfg = test::tiny_config(4, 3, 40, 6, 5);
    cfg.model.init = init;
    const auto stream = seed_streams(cfg.run.seed).init;
    const auto a = init_parameters(cfg, stream, 1);
    for (int threads : {0, 2, 3}) {
      const auto b = init_parameters(cfg, stream, threads);
      EXPECT_TRUE(bit_identical(a.W_Q, b.W_Q) && bit_identical(a.W_K, b.W_K) && bit_identical(a.W_V, b.W_V) &&
                  bit_identical(a.w_O, b.w_O))
          << init << ", " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace bovit
