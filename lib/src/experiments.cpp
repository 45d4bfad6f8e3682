#include "bovit/experiments/boundary.hpp"
#include "bovit/experiments/cell.hpp"
#include "bovit/rng.hpp"
#include "bovit/run.hpp"
#include "bovit/train/trainer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <numeric>

namespace bovit {

std::uint64_t cell_seed(std::uint64_t master, int N, double mu_norm, int seed_index) {
  return rng_stream(master)
      .split("cell")
      .split(static_cast<std::uint64_t>(N))
      .split(std::bit_cast<std::uint64_t>(mu_norm))
      .split(static_cast<std::uint64_t>(seed_index))
      .key();
}

namespace {
template <real_scalar Real>
cell_result train_cell(const config& cfg) {
  auto eng = build_engine<Real>(cfg);
  const auto r = train<Real>(*eng, cfg.train);
  cell_result c;
  c.N = cfg.data.N;
  c.mu_norm = cfg.data.mu_norm;
  c.snr = cfg.data.snr();
  c.seed = cfg.run.seed;
  c.train_loss = to_double(r.train_loss);
  c.test_loss = to_double(r.test.loss);
  c.test_error = to_double(r.test.error);
  c.steps = r.steps;
  c.converged = r.converged();
  const auto& st = eng->state();
  for (int n = 0; n < st.samples(); ++n) c.attn_signal += to_double(st.received(n, 0));
  c.attn_signal /= st.samples();
  if (!r.error.empty()) {
    c.converged = false;
    c.test_loss = c.train_loss = std::nan("");
  }
  return c;
}
}  // namespace

cell_result run_cell(const config& base, int N, double mu_norm, int seed_index) {
  config cfg = base;
  cfg.data.N = N;
  cfg.data.mu_norm = mu_norm;
  cfg.run.seed = cell_seed(base.run.seed, N, mu_norm, seed_index);
  cfg.validate();
  cell_result c = with_precision(cfg.run.precision, [&]<class Real>() { return train_cell<Real>(cfg); });
  c.seed_index = seed_index;
  return c;
}

std::vector<cell_summary> summarise(const std::vector<cell_result>& cells) {
  std::map<std::pair<int, double>, std::vector<const cell_result*>> groups;
  for (const auto& c : cells) groups[{c.N, c.mu_norm}].push_back(&c);
  std::vector<cell_summary> out;
  for (const auto& [key, members] : groups) {
    cell_summary s;
    s.N = key.first;
    s.mu_norm = key.second;
    s.snr = members.front()->snr;
    s.seeds = static_cast<int>(members.size());
    double sum = 0, sq = 0, conv = 0;
    int finite = 0;
    for (const auto* m : members) {
      conv += m->converged ? 1 : 0;
      if (m->converged && std::isfinite(m->test_loss)) {  // a non-converged run has no test loss to report
        sum += m->test_loss;
        sq += m->test_loss * m->test_loss;
        ++finite;
      }
    }
    s.mean_test_loss = finite ? sum / finite : std::nan("");
    s.std_test_loss = finite > 1 ? std::sqrt(std::max(0.0, (sq - sum * sum / finite) / (finite - 1))) : 0.0;
    s.converged_fraction = conv / static_cast<double>(members.size());
    out.push_back(s);
  }
  return out;
}

boundary_fit fit_boundary(const std::vector<cell_summary>& cells, double cutoff) {
  boundary_fit fit;
  fit.method =
      "per N: log-SNR threshold with fewest misclassified cells (mean test loss vs cutoff), geometric midpoint of "
      "ties; rows without a crossing dropped; least squares of log SNR* on log N; c = exp(mean log(N SNR*^2)); "
      "non-converged cells excluded";
  std::map<int, std::vector<const cell_summary*>> rows;
  for (const auto& c : cells)
    if (c.converged_fraction >= 0.5 && std::isfinite(c.mean_test_loss)) rows[c.N].push_back(&c);
  for (auto& [N, row] : rows) {
    std::sort(row.begin(), row.end(), [](auto* a, auto* b) { return a->snr < b->snr; });
    const std::size_t k = row.size();
    bool any_benign = false, any_harmful = false;
    for (auto* c : row) (c->mean_test_loss <= cutoff ? any_benign : any_harmful) = true;
    if (!any_benign || !any_harmful) continue;
    // Threshold between row[j-1] and row[j] (j = 1..k-1): harmful below, benign above.
    int best = static_cast<int>(k) + 1;
    std::size_t first = 0, last = 0;
    for (std::size_t j = 1; j < k; ++j) {
      int wrong = 0;
      for (std::size_t i = 0; i < k; ++i) {
        const bool benign = row[i]->mean_test_loss <= cutoff;
        wrong += (i < j) == benign ? 1 : 0;
      }
      if (wrong < best) {
        best = wrong;
        first = last = j;
      } else if (wrong == best) {
        last = j;
      }
    }
    const double lo = std::sqrt(row[first - 1]->snr * row[first]->snr);
    const double hi = std::sqrt(row[last - 1]->snr * row[last]->snr);
    fit.points.push_back({N, std::sqrt(lo * hi), best});
    fit.cells += static_cast<int>(k);
  }
  const std::size_t m = fit.points.size();
  if (m < 2) return fit;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, slogc = 0;
  for (const auto& p : fit.points) {
    const double x = std::log(p.N), y = std::log(p.snr_star);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    slogc += x + 2 * y;
  }
  const double n = static_cast<double>(m);
  const double var = sxx - sx * sx / n;
  if (var <= 0) return fit;
  const double slope = (sxy - sx * sy / n) / var;
  const double intercept = (sy - slope * sx) / n;
  double rss = 0;
  for (const auto& p : fit.points) {
    const double r = std::log(p.snr_star) - (intercept + slope * std::log(p.N));
    rss += r * r;
  }
  fit.alpha = -slope;
  fit.intercept = intercept;
  fit.alpha_stderr = m > 2 ? std::sqrt(rss / (n - 2) / var) : 0.0;
  fit.c = std::exp(slogc / n);
  fit.ok = true;
  return fit;
}

double agreement_with_curve(const std::vector<cell_summary>& cells, double cutoff, double c) {
  int agree = 0, total = 0;
  for (const auto& cell : cells) {
    if (cell.converged_fraction < 0.5 || !std::isfinite(cell.mean_test_loss)) continue;
    const bool predicted_benign = cell.N * cell.snr * cell.snr >= c;
    const bool benign = cell.mean_test_loss <= cutoff;
    agree += predicted_benign == benign ? 1 : 0;
    ++total;
  }
  return total ? static_cast<double>(agree) / total : 0.0;
}

}  // namespace bovit
