#include "bovit/parallel.hpp"

#include <thread>

// Declared here rather than through <cblas.h>, whose enums clash with xtensor-blas's own; weak,
// so that another BLAS links too (then every hardware thread is used).
extern "C" __attribute__((weak)) int openblas_get_num_threads(void);

namespace bovit {

int draw_threads() {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (openblas_get_num_threads) return std::clamp(openblas_get_num_threads(), 1, hw);
  return hw;
}

}  // namespace bovit
