// One GD step (evaluate + descend) of an engine, for a scalar type, at each benchmark size.
//
// Benchmarks are named step/<engine>/<scalar>/<size> and setup/<engine>/<scalar>/<size>; counters:
//   FLOPS     the FLOP model of bench_common.hpp over the measured wall time
//   of_dgemm  that rate as a fraction of the dgemm reference (n = 2048) measured in the same run
// Combinations that would take minutes per step or per setup are skipped (see skip_reason).
#pragma once

#include "bench_common.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

namespace bovit::bench {

// Why a combination is not run, or empty. Estimates from the measured rates (long double ≈ 0.7
// GFLOP/s; mp50 ≈ 14 ns per multiply-add and core on limbs): see docs/performance.md.
template <real_scalar Real>
std::string skip_reason(const std::string& engine, const std::string& size) {
  if constexpr (std::same_as<Real, mp50>) {
    if (size == "theory-large") return "mp50 at theory-large: G = U Uᵀ and U_test Uᵀ are ~10¹⁰ products at d = 20000 (minutes, even exact-double)";
    if (engine == "dense" && size == "fig1") return "mp50 dense at fig1: ~0.65 G multiply-adds per step in mp50 (~5 s per step, ~20 s setup)";
  }
  return {};
}

// Setup benchmarks that take under ~10 s (mp50 dense evaluates the test set with a U_test W
// product on limbs, since W w_O is not double data: about a minute at dynamics; long double
// theory-large builds ~1 GB of tokens).
template <real_scalar Real>
bool setup_is_cheap(const std::string& engine, const std::string& size) {
  if constexpr (std::same_as<Real, mp50>) return engine == "span" && size != "fig1";
  if constexpr (std::same_as<Real, long double>) return size != "theory-large";
  return true;
}

template <real_scalar Real>
class engine_slot {
 public:
  engine<Real>& get(const size_spec& s, const std::string& kind) {
    const std::string key = std::string(s.name) + "/" + kind;
    if (key != key_) {
      eng_.reset();  // free the previous engine's tokens first
      eng_ = build_engine<Real>(size_config(s, kind), cached_dataset(s));
      key_ = key;
    }
    return *eng_;
  }

 private:
  std::string key_;
  std::unique_ptr<engine<Real>> eng_;
};

template <real_scalar Real>
std::string blas_label() {
  if constexpr (std::same_as<Real, mp50>) return "mp50: limb products, no BLAS";
  return uses_blas<Real> ? "OpenBLAS" : fmt::format("{}: generic loops, no BLAS", scalar_name<Real>());
}

template <real_scalar Real>
void bm_step(benchmark::State& state, const size_spec& s, const std::string& kind) {
  static engine_slot<Real> slot;
  const config cfg = size_config(s, kind);
  auto& eng = slot.get(s, kind);
  const Real eta(cfg.train.eta);
  const double reference = dgemm_reference_rate();  // measured before the first timed step
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto& st = eng.evaluate();
    benchmark::DoNotOptimize(&st);
    eng.descend(eta);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (!is_finite(eng.state().loss)) state.SkipWithError("the training loss is not finite");
  const double rate = step_flops(kind, shape_of(cfg)) * double(state.iterations()) / seconds;
  state.counters["FLOPS"] = rate;
  state.counters["of_dgemm"] = rate / reference;
  state.counters["dgemm_ref"] = reference;
  state.SetLabel(blas_label<Real>());
}

// The attention kernel alone: the span engine's evaluate() (forward + backward on P, no product).
template <real_scalar Real>
void bm_kernel(benchmark::State& state, const size_spec& s) {
  static engine_slot<Real> slot;
  const config cfg = size_config(s, "span");
  auto& eng = slot.get(s, "span");
  for (auto _ : state) benchmark::DoNotOptimize(&eng.evaluate());
  const double flops = kernel_flops(shape_of(cfg));
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(blas_label<Real>());
}

// Engine construction from the (cached) double data plus the first test evaluation: the span
// engine computes G = U Uᵀ, P⁽⁰⁾ = U W⁽⁰⁾ and, at the first test evaluation, U_test Uᵀ and U_test W⁽⁰⁾.
template <real_scalar Real>
void bm_setup(benchmark::State& state, const size_spec& s, const std::string& kind) {
  const config cfg = size_config(s, kind);
  const auto& data = cached_dataset(s);
  for (auto _ : state) {
    auto eng = build_engine<Real>(cfg, data);
    benchmark::DoNotOptimize(eng->evaluate_test());
  }
  state.SetLabel(blas_label<Real>());
}

template <real_scalar Real>
bool register_steps() {
  const std::string scalar(scalar_name<Real>());
  for (const auto& s : sizes()) {
    if (skip_reason<Real>("span", s.name).empty())
      benchmark::RegisterBenchmark(fmt::format("kernel/{}/{}", scalar, s.name).c_str(), bm_kernel<Real>, s)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    for (const std::string kind : {"dense", "span"}) {
      const std::string id = fmt::format("{}/{}/{}", kind, scalar, s.name);
      if (auto why = skip_reason<Real>(kind, s.name); !why.empty()) {
        std::cerr << "bovit_bench: skipping " << id << " (" << why << ")\n";
        continue;
      }
      auto* b = benchmark::RegisterBenchmark(("step/" + id).c_str(), bm_step<Real>, s, kind);
      b->UseRealTime()->Unit(benchmark::kMillisecond);
      // One timed step per repetition where a step takes seconds (mp50 dense, mp50 span at fig1).
      if (std::same_as<Real, mp50> && (kind == "dense" || std::string(s.name) == "fig1")) b->Iterations(1);
      else if (!uses_blas<Real>) b->MinTime(1.0);
      if (setup_is_cheap<Real>(kind, s.name)) {
        auto* su = benchmark::RegisterBenchmark(("setup/" + id).c_str(), bm_setup<Real>, s, kind);
        su->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);
      }
    }
  }
  return true;
}

}  // namespace bovit::bench
