// Shared fixtures: small configurations (fixed and random), temporary folders, reading a file whole.
#pragma once

#include "bovit/config.hpp"

#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <ostream>
#include <string>
#include <vector>

namespace bovit {
// How rapidcheck prints a failing configuration (found by argument-dependent lookup).
inline void showValue(const config& c, std::ostream& os) { os << to_json(c).dump(); }
}  // namespace bovit

namespace bovit::test {

// A shipped preset, validated.
inline config validated_preset(const std::string& name) {
  config c = load_preset(name);
  c.validate();
  return c;
}

// A tiny synthetic problem: gaussian init with weights large enough that attention is far from
// uniform (so every gradient block is non-trivial).
inline config tiny_config(int N = 4, int M = 3, int d = 6, int d_h = 2, int d_v = 3) {
  config c;
  c.data.N = N;
  c.data.M = M;
  c.data.d = d;
  c.data.mu_norm = 2.0;
  c.data.noise_sigma = {1.0, 0.5};
  if (M < 3) c.data.noise_sigma = {1.0};
  c.data.sigma_ref = 1.0;
  c.data.N_test = 6;
  c.model.d_h = d_h;
  c.model.d_v = d_v;
  c.model.init = "gaussian";
  c.model.sigma_h = 0.4;
  c.model.sigma_V = 0.4;
  c.model.sigma_O = 0.5;
  c.train.eta = 0.1;
  c.train.max_steps = 20;
  c.train.stop_loss = 0.0;
  return c;
}

// A real in [lo, hi] on a grid of 1000 steps (rapidcheck shrinks integers well).
inline rc::Gen<double> gen_real(double lo, double hi) {
  return rc::gen::map(rc::gen::inRange(0, 1001), [lo, hi](int k) { return lo + (hi - lo) * k / 1000.0; });
}

struct shape_limits {
  int max_N = 4;   // even N up to this (balanced) or any N (rademacher)
  int max_M = 3;
  int min_d = 3;
  int max_d = 8;
  int max_h = 3;   // d_h and d_v
};

// A random small synthetic configuration: shapes, data options, init scales, τ and the seed.
inline rc::Gen<config> gen_small_config(shape_limits lim) {
  return rc::gen::exec([lim] {
    config c;
    c.data.labels = *rc::gen::element<std::string>("balanced", "rademacher");
    c.data.N = c.data.labels == "balanced" ? 2 * *rc::gen::inRange(1, lim.max_N / 2 + 1)
                                           : *rc::gen::inRange(1, lim.max_N + 1);
    c.data.M = *rc::gen::inRange(2, lim.max_M + 1);
    c.data.d = *rc::gen::inRange(lim.min_d, lim.max_d + 1);
    c.data.mu_norm = *gen_real(0.5, 3.0);
    const int n_sigma = *rc::gen::inRange(1, c.data.M);
    c.data.noise_sigma.clear();
    for (int i = 0; i < n_sigma; ++i) c.data.noise_sigma.push_back(*gen_real(0.2, 1.2));
    c.data.sigma_ref = 1.0;
    c.data.orthogonal_noise = *rc::gen::arbitrary<bool>();
    c.data.signal_basis = *rc::gen::element<std::string>("standard", "rotated");
    c.data.N_test = 2;
    c.model.d_h = *rc::gen::inRange(1, lim.max_h + 1);
    c.model.d_v = *rc::gen::inRange(1, lim.max_h + 1);
    c.model.tau = *rc::gen::element(1.0, 1.0, 0.5, 1.75);
    c.model.init = "gaussian";
    c.model.sigma_h = *gen_real(0.05, 0.6);
    c.model.sigma_V = *gen_real(0.05, 0.6);
    c.model.sigma_O = *gen_real(0.0, 1.0);
    c.run.seed = *rc::gen::inRange<std::uint32_t>(0, 1000000);
    c.validate();
    return c;
  });
}

// A fresh folder under the system temp dir, removed with its contents on destruction.
class temp_dir {
 public:
  explicit temp_dir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("bovit-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// An empty folder under the system temp dir, left in place afterwards for inspection.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("bovit_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace bovit::test
