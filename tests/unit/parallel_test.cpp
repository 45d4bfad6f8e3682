// The worker pool of parallel.hpp: every task runs once, a task's exception reaches the caller,
// the pool stays usable, and parallel_blocks covers [0, count) exactly once for any thread count.
#include "bovit/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bovit {
namespace {

TEST(ThreadPool, RunsEveryTaskOnceAndRethrowsTheFirstError) {
  auto& pool = thread_pool::instance();
  std::vector<std::atomic<int>> hits(50);
  pool.run(50, [&](int t) { ++hits[t]; });
  for (int t = 0; t < 50; ++t) EXPECT_EQ(hits[t].load(), 1) << "task " << t;
  EXPECT_THROW(pool.run(4, [](int t) {
    if (t == 3) throw std::runtime_error("task 3");
  }), std::runtime_error);
  std::atomic<int> after{0};
  pool.run(8, [&](int) { ++after; });  // still usable
  EXPECT_EQ(after.load(), 8);
}

TEST(ParallelBlocks, CoverTheRangeOnceForAnyThreadCount) {
  for (const int threads : {1, 2, 3, 7, 100}) {
    std::vector<std::atomic<int>> hits(37);
    parallel_blocks(hits.size(), threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) ++hits[i];
    });
    for (std::size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i].load(), 1) << threads << " threads, index " << i;
  }
}

TEST(ThreadBudget, SetsAndClampsToTheHardware) {
  const int before = thread_budget();
  set_thread_budget(1);
  EXPECT_EQ(thread_budget(), 1);
  set_thread_budget(static_cast<int>(std::thread::hardware_concurrency()) + 3);
  EXPECT_EQ(thread_budget(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  set_thread_budget(before);
  EXPECT_EQ(thread_budget(), before);
}

}  // namespace
}  // namespace bovit
