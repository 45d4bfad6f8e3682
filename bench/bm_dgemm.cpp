// The hardware reference: OpenBLAS dgemm on square sizes and on the dense engine's own shapes.
#include "bench_common.hpp"

#include "bovit/linalg.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

namespace bovit::bench {
namespace {

matrix<double> random_matrix(std::size_t r, std::size_t c, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  matrix<double> m = matrix<double>::from_shape({r, c});
  for (auto& x : m) x = u(gen);
  return m;
}

void BM_dgemm(benchmark::State& state) {
  const auto m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
  const auto a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
  matrix<double> c = matrix<double>::from_shape({m, n});
  for (auto _ : state) {
    gemm(op::none, op::none, 1.0, a, b, 0.0, c);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * double(m) * double(k) * double(n),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("OpenBLAS");
}

// Square sizes, then the fig1 N = 20 step shapes: P = U W (302 × 1024 × 1025) and Uᵀ D (1024 × 302 × 1025).
BENCHMARK(BM_dgemm)
    ->Args({512, 512, 512})
    ->Args({1024, 1024, 1024})
    ->Args({2048, 2048, 2048})
    ->Args({302, 1024, 1025})
    ->Args({1024, 302, 1025})
    ->UseRealTime()  // OpenBLAS runs on every core: CPU time of the calling thread undercounts
    ->Unit(benchmark::kMillisecond);

}  // namespace

double dgemm_reference_rate() {
  static const double rate = [] {
    const std::size_t n = 2048;
    const auto a = random_matrix(n, n, 3), b = random_matrix(n, n, 4);
    matrix<double> c = matrix<double>::from_shape({n, n});
    gemm(op::none, op::none, 1.0, a, b, 0.0, c);  // warm-up (threads, pages)
    std::vector<double> rates;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      gemm(op::none, op::none, 1.0, a, b, 0.0, c);
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      rates.push_back(2.0 * double(n) * double(n) * double(n) / dt.count());
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
  }();
  return rate;
}

const dataset<double>& cached_dataset(const size_spec& s) {
  static std::map<std::string, dataset<double>> cache;
  auto it = cache.find(s.name);
  if (it == cache.end()) {
    const config cfg = size_config(s, "dense");
    it = cache.emplace(s.name, make_dataset(cfg.data, cfg.run.seed)).first;
  }
  return it->second;
}

}  // namespace bovit::bench
