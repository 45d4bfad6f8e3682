// A one-line progress display on standard error for long runs; silent when stderr is not a
// terminal, so logs and CI output stay clean.
#pragma once

#include "bovit/train/trainer.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace bovit {

inline bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

template <real_scalar Real>
class progress_display final : public observer<Real> {
 public:
  explicit progress_display(std::string label, bool enabled = stderr_is_terminal())
      : label_(std::move(label)), enabled_(enabled) {}

  void on_begin(const engine<Real>&, const train_config& cfg) override {
    max_steps_ = cfg.max_steps;
    start_ = last_ = std::chrono::steady_clock::now();
  }

  action on_step(const step_record<Real>& r) override {
    if (!enabled_) return action::proceed;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && !r.last) return action::proceed;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = r.step > 0 ? secs / r.step : 0.0;
    std::fprintf(stderr, "\r%s step %d/%d  loss %.4g  %.1fs elapsed, ≤%.0fs left   ", label_.c_str(), r.step,
                 max_steps_, to_double(r.state.loss), secs, rate * (max_steps_ - r.step));
    std::fflush(stderr);
    return action::proceed;
  }

  void on_end(const engine<Real>&, const train_result<Real>&) override {
    if (enabled_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  std::string label_;
  bool enabled_;
  int max_steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace bovit
