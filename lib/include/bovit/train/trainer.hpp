// Full-batch gradient descent with observers (spec §3).
//
// Step t evaluates the loss and gradient at W⁽ᵗ⁾, shows them to every observer, then descends.
// The run stops at the first step whose training loss is below train.stop_loss (0 disables it),
// after train.max_steps descents, when an observer asks to, or when a value is not finite: then
// it stops with an error that names the quantity and the step, and observers keep what they saw.
#pragma once

#include "bovit/config.hpp"
#include "bovit/engine/engine.hpp"

#include <fmt/format.h>

#include <span>
#include <string>

namespace bovit {

enum class action { proceed, stop };
enum class stop_reason { converged, budget, observer, non_finite };

inline std::string_view to_string(stop_reason r) {
  switch (r) {
    case stop_reason::converged: return "converged";
    case stop_reason::budget: return "budget";
    case stop_reason::observer: return "observer";
    case stop_reason::non_finite: return "non_finite";
  }
  return "unknown";
}

template <real_scalar Real>
struct step_record {
  int step;                             // descents done so far: the weights are W⁽ˢᵗᵉᵖ⁾
  const engine<Real>& eng;              // evaluated at W⁽ˢᵗᵉᵖ⁾
  const attention_state<Real>& state;   // training forward state at W⁽ˢᵗᵉᵖ⁾
  bool last;                            // no descent follows
};

template <real_scalar Real>
struct train_result {
  int steps = 0;                        // descents done
  stop_reason reason = stop_reason::budget;
  Real train_loss{0};
  Real train_error{0};
  test_metrics<Real> test;
  int hit_step = -1;                    // first step with training loss < stop_loss, or −1
  std::string error;                    // set when reason == non_finite
  bool converged() const { return hit_step >= 0; }
};

template <real_scalar Real>
class observer {
 public:
  virtual ~observer() = default;
  virtual void on_begin(const engine<Real>&, const train_config&) {}
  virtual action on_step(const step_record<Real>&) { return action::proceed; }
  virtual void on_end(const engine<Real>&, const train_result<Real>&) {}
};

namespace detail {
template <real_scalar Real>
std::string first_non_finite(const attention_state<Real>& st, const matrix<Real>& D) {
  if (!is_finite(st.loss)) return "train_loss";
  for (std::size_t n = 0; n < st.f.size(); ++n)
    if (!is_finite(st.f(n))) return fmt::format("output f(X_{})", n);
  for (const auto& x : D)
    if (!is_finite(x)) return "gradient";
  return {};
}
}  // namespace detail

template <real_scalar Real>
train_result<Real> train(engine<Real>& eng, const train_config& cfg, std::span<observer<Real>* const> observers = {}) {
  for (auto* o : observers) o->on_begin(eng, cfg);
  train_result<Real> result;
  const Real eta(cfg.eta), stop_loss(cfg.stop_loss);
  for (int t = 0;; ++t) {
    const auto& st = eng.evaluate();
    if (auto bad = detail::first_non_finite(st, eng.derivative()); !bad.empty()) {
      result.reason = stop_reason::non_finite;
      result.error = fmt::format("{} is not finite at step {}", bad, t);
      result.steps = t;
      result.train_loss = st.loss;
      break;
    }
    const bool converged = cfg.stop_loss > 0 && st.loss < stop_loss;
    if (converged && result.hit_step < 0) result.hit_step = t;
    const bool last = converged || t >= cfg.max_steps;
    bool stop = last;
    for (auto* o : observers)
      if (o->on_step(step_record<Real>{t, eng, st, last}) == action::stop) stop = true;
    result.steps = t;
    result.train_loss = st.loss;
    result.train_error = st.error;
    if (stop) {
      result.reason = converged ? stop_reason::converged : (last ? stop_reason::budget : stop_reason::observer);
      break;
    }
    eng.descend(eta);
  }
  if (result.reason != stop_reason::non_finite) result.test = eng.evaluate_test();
  for (auto* o : observers) o->on_end(eng, result);
  return result;
}

}  // namespace bovit
