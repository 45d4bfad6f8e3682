#include "bovit/parallel.hpp"

#include <atomic>

// Declared here rather than through <cblas.h>, whose enums clash with xtensor-blas's own; weak,
// so that another BLAS links too (and the calls are skipped).
extern "C" __attribute__((weak)) int openblas_get_num_threads(void);
extern "C" __attribute__((weak)) void openblas_set_num_threads(int);

namespace bovit {
namespace {
std::atomic<int> budget_set{0};  // 0: not set, follow OpenBLAS
}

int thread_budget() {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (const int n = budget_set.load(); n > 0) return std::min(n, hw);
  if (openblas_get_num_threads) return std::clamp(openblas_get_num_threads(), 1, hw);
  return hw;
}

void set_thread_budget(int n) {
  n = std::max(1, n);
  if (openblas_set_num_threads) openblas_set_num_threads(n);
  budget_set = n;
}

}  // namespace bovit
