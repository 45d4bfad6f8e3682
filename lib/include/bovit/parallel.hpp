// Helper threads for independent random draws (data generation, initial weights).
//
// Every sample and every weight matrix is drawn from its own sub-stream, so splitting the draws
// over threads gives bit-identical results whatever the thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <future>
#include <vector>

namespace bovit {

// Threads for draws: as many as BLAS may use (sweep and dynamics workers set it to 1, so their
// cells draw on their own thread), at most the hardware's.
int draw_threads();

// Runs body(begin, end) over [0, count) in `threads` contiguous blocks, the calling thread taking
// the first; waits for all and rethrows the first exception.
template <class F>
void parallel_blocks(std::size_t count, int threads, F&& body) {
  const std::size_t t_count = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, threads)));
  if (t_count <= 1) {
    body(std::size_t{0}, count);
    return;
  }
  std::vector<std::future<void>> rest;
  rest.reserve(t_count - 1);
  for (std::size_t t = 1; t < t_count; ++t)
    rest.push_back(std::async(std::launch::async, [&body, b = count * t / t_count, e = count * (t + 1) / t_count] {
      body(b, e);
    }));
  std::exception_ptr error;
  try {
    body(std::size_t{0}, count / t_count);
  } catch (...) {
    error = std::current_exception();
  }
  for (auto& f : rest) try {
      f.get();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  if (error) std::rethrow_exception(error);
}

}  // namespace bovit
