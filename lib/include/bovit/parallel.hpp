// Threads inside one training: the random draws (data, initial weights) and the mp50 products.
//
// One budget governs them and OpenBLAS alike: sweeps and dynamics, which run one training per
// thread, set it to 1. Work is split into contiguous blocks, each handled by one thread only, so
// results are bit-identical whatever the thread count.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace bovit {

// Threads one product or draw may use: OpenBLAS's thread count, at most the hardware's (all
// hardware threads with another BLAS, unless set_thread_budget said otherwise).
int thread_budget();

// Sets that budget for OpenBLAS and for bovit's own loops.
void set_thread_budget(int n);

// A fixed set of worker threads, started on first use: starting threads per call would cost
// ~20 µs each time, as much as a small mp50 product.
class thread_pool {
 public:
  static thread_pool& instance() {
    static thread_pool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) - 1);
    return pool;
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs task(t) for t in [0, tasks) on the caller and the workers; returns when all are done and
  // rethrows the first exception of a task. A caller that finds the pool busy (another thread's
  // run, or a nested one) runs its tasks itself.
  void run(int tasks, const std::function<void(int)>& task) {
    std::unique_lock busy(dispatch_, std::try_to_lock);
    if (!busy.owns_lock() || tasks <= 1 || threads_.empty()) {
      for (int t = 0; t < tasks; ++t) task(t);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      task_ = &task;
      tasks_ = tasks;
      next_ = 1;  // task 0 is the caller's
      pending_ = tasks - 1;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr first;
    try {
      task(0);
    } catch (...) {
      first = std::current_exception();
    }
    take_tasks();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    task_ = nullptr;
    if (!first) first = error_;
    error_ = nullptr;
    if (first) std::rethrow_exception(first);
  }

  ~thread_pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  explicit thread_pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  void take_tasks() {
    for (;;) {
      int t;
      const std::function<void(int)>* task;
      {
        std::lock_guard lock(mutex_);
        if (!task_ || next_ >= tasks_) return;
        t = next_++;
        task = task_;
      }
      std::exception_ptr error;
      try {
        (*task)(t);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_all();
    }
  }
  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      take_tasks();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex dispatch_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int tasks_ = 0, next_ = 0, pending_ = 0;
  std::uint64_t generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
};

// Runs body(begin, end) over [0, count) in `threads` contiguous blocks on the pool, the calling
// thread taking the first; waits for all and rethrows the first exception.
template <class F>
void parallel_blocks(std::size_t count, int threads, F&& body) {
  const int blocks = static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, threads))));
  if (blocks <= 1) {
    body(std::size_t{0}, count);
    return;
  }
  thread_pool::instance().run(blocks, [&](int b) { body(count * b / blocks, count * (b + 1) / blocks); });
}

}  // namespace bovit
