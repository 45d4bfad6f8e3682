// Step and setup benchmarks for the double scalar (one file per scalar: they compile in parallel).
#include "bench_step.hpp"

namespace {
[[maybe_unused]] const bool registered = bovit::bench::register_steps<double>();
}
