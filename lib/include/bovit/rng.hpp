// Splittable, counter-free random streams.
//
// A stream is a 64-bit key. `split(label)` derives an independent child key, so training data,
// test data and initialisation each get their own stream, and sample n of a data set its own
// sub-stream: draws never depend on thread count, order of evaluation or the scalar type.
// The generator is SplitMix64 (Steele, Lea, Flood 2014); normals use Box–Muller in double.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>

namespace bovit {

constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t hash_label(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

class rng_stream {
 public:
  explicit constexpr rng_stream(std::uint64_t key) : key_(key), state_(key) {}

  constexpr std::uint64_t key() const { return key_; }

  constexpr rng_stream split(std::uint64_t label) const {
    return rng_stream(mix64(key_ ^ mix64(label + 0x9e3779b97f4a7c15ULL)));
  }
  constexpr rng_stream split(std::string_view label) const { return split(hash_label(label)); }

  constexpr std::uint64_t next_u64() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }

  // Uniform on [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }

  double rademacher() { return (next_u64() >> 63) ? 1.0 : -1.0; }

 private:
  std::uint64_t key_;
  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace bovit
