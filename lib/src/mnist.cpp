#include "bovit/data/mnist.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>

namespace bovit {
namespace {

namespace fs = std::filesystem;

// A parsed split with the indices of each digit's images.
struct indexed_split {
  fs::path images_file;
  mnist_split split;
  std::array<std::vector<std::size_t>, 10> by_digit;
};

// Size and modification time: a rewritten file is parsed again instead of served stale.
struct file_stamp {
  std::uintmax_t size = 0;
  fs::file_time_type modified{};
  bool operator==(const file_stamp&) const = default;
};

file_stamp stamp_of(const fs::path& file) {
  std::error_code ec;
  file_stamp s;
  s.size = fs::file_size(file, ec);
  s.modified = fs::last_write_time(file, ec);
  return s;
}

struct cache_entry {
  file_stamp images, labels;
  std::shared_ptr<const indexed_split> data;
};

void require_present(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw idx_error(fmt::format("{}: MNIST file missing; scripts/fetch-mnist.sh fetches the MNIST files "
                                "(or set data.mnist_dir to a folder holding them)", file.string()));
}

// Parses the split once per (images, labels) path pair and process; safe to call from many threads.
std::shared_ptr<const indexed_split> load_split(const fs::path& images, const fs::path& labels) {
  static std::mutex mutex;
  static std::map<std::pair<fs::path, fs::path>, cache_entry> cache;

  require_present(images);
  require_present(labels);
  std::error_code ec;
  auto key = std::make_pair(fs::absolute(images, ec).lexically_normal(), fs::absolute(labels, ec).lexically_normal());
  const file_stamp images_stamp = stamp_of(images), labels_stamp = stamp_of(labels);

  const std::lock_guard lock(mutex);
  if (auto it = cache.find(key);
      it != cache.end() && it->second.images == images_stamp && it->second.labels == labels_stamp)
    return it->second.data;

  auto parsed = std::make_shared<indexed_split>();
  parsed->images_file = images;
  parsed->split = read_mnist(images, labels);
  for (std::size_t i = 0; i < parsed->split.count(); ++i) parsed->by_digit[parsed->split.labels[i]].push_back(i);
  cache[std::move(key)] = cache_entry{images_stamp, labels_stamp, parsed};
  return parsed;
}

// Uniform on {0, …, n−1} without modulo bias (rejects the first 2^64 mod n values).
std::size_t uniform_index(rng_stream& stream, std::size_t n) {
  const std::uint64_t bound = n;
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = stream.next_u64();
    if (r >= threshold) return static_cast<std::size_t>(r % bound);
  }
}

void check_digit(int digit, const char* key) {
  if (digit < 0 || digit > 9) throw std::invalid_argument(fmt::format("data.{} = {} is not a digit 0..9", key, digit));
}

}  // namespace

fs::path mnist_directory(const data_config& cfg) {
  if (!cfg.mnist_dir.empty()) return cfg.mnist_dir;
  if (const char* cache = std::getenv("BOVIT_CACHE"); cache != nullptr && *cache != '\0')
    return fs::path(cache) / "mnist";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return fs::path(home) / ".cache" / "bovit" / "mnist";
  throw idx_error("cannot locate the MNIST files: set data.mnist_dir, BOVIT_CACHE or HOME");
}

std::vector<std::vector<double>> mnist_signal_tokens(const data_config& cfg, const std::vector<double>& labels,
                                                     const std::string& split, rng_stream stream) {
  if (split != "train" && split != "t10k")
    throw std::invalid_argument(fmt::format("MNIST split '{}' is neither 'train' nor 't10k'", split));
  check_digit(cfg.digit_pos, "digit_pos");
  check_digit(cfg.digit_neg, "digit_neg");
  for (std::size_t n = 0; n < labels.size(); ++n)
    if (labels[n] != 1.0 && labels[n] != -1.0)
      throw std::invalid_argument(fmt::format("label {} is {}, expected +1 or -1", n, labels[n]));

  const fs::path dir = mnist_directory(cfg);
  const auto data = load_split(dir / (split + "-images-idx3-ubyte"), dir / (split + "-labels-idx1-ubyte"));
  const mnist_split& images = data->split;
  const std::size_t pixels = static_cast<std::size_t>(images.rows) * static_cast<std::size_t>(images.cols);
  if (cfg.d < 0 || pixels > static_cast<std::size_t>(cfg.d))
    throw std::invalid_argument(fmt::format("data.d = {} is smaller than the {}x{} = {} pixels of an MNIST image",
                                            cfg.d, images.rows, images.cols, pixels));
  for (int digit : {cfg.digit_pos, cfg.digit_neg})
    if (data->by_digit[static_cast<std::size_t>(digit)].empty())
      throw idx_error(fmt::format("{}: no images of digit {}", data->images_file.string(), digit));

  std::vector<std::vector<double>> tokens;
  tokens.reserve(labels.size());
  for (std::size_t n = 0; n < labels.size(); ++n) {
    const int digit = labels[n] > 0 ? cfg.digit_pos : cfg.digit_neg;
    const auto& candidates = data->by_digit[static_cast<std::size_t>(digit)];
    rng_stream sample_stream = stream.split(static_cast<std::uint64_t>(n));
    const std::size_t index = candidates[uniform_index(sample_stream, candidates.size())];
    const std::uint8_t* image = images.image(index);

    std::vector<double> token(static_cast<std::size_t>(cfg.d), 0.0);
    double sum = 0.0;
    for (std::size_t j = 0; j < pixels; ++j) sum += image[j];
    const double mean = sum / static_cast<double>(pixels);
    double squares = 0.0;
    for (std::size_t j = 0; j < pixels; ++j) {
      token[j] = image[j] - mean;
      squares += token[j] * token[j];
    }
    const double norm = std::sqrt(squares);
    if (!(norm > 0.0))
      throw idx_error(fmt::format("{}: image {} (digit {}) is constant: nothing is left after centring, so it "
                                  "cannot be scaled to norm {}", data->images_file.string(), index, digit, cfg.mu_norm));
    const double scale = cfg.mu_norm / norm;
    for (std::size_t j = 0; j < pixels; ++j) token[j] *= scale;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace bovit
