// IDX reader and MNIST signal tokens, on small IDX files written by the tests themselves.
#include "bovit/data/mnist.hpp"
#include "bovit/io/idx.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using bovit::idx_error;

namespace {

using bytes = std::vector<std::uint8_t>;

constexpr int side = 28;
constexpr std::size_t pixels_per_image = side * side;
const bytes five_labels{0, 1, 0, 1, 7};

void append_u32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Header 0x00 0x00 <type> <ndims>, the dimensions, then the data.
bytes idx_file(const std::vector<std::uint32_t>& dims, const bytes& data, std::uint8_t type = 0x08) {
  bytes out{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims) append_u32(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_file(const fs::path& file, const bytes& content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << file;
}

// Image k: a non-constant pattern that differs from every other k.
bytes pattern_images(std::size_t count) {
  bytes data;
  for (std::size_t k = 0; k < count; ++k)
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) data.push_back(static_cast<std::uint8_t>((7 * r + 13 * c + 29 * k) % 256));
  return data;
}

// The token mnist_signal_tokens should make from one image: centred, scaled to mu_norm, padded to d.
std::vector<double> expected_token(const std::uint8_t* image, double mu_norm, int d) {
  std::vector<double> t(static_cast<std::size_t>(d), 0.0);
  double mean = 0;
  for (std::size_t j = 0; j < pixels_per_image; ++j) mean += image[j];
  mean /= pixels_per_image;
  double norm = 0;
  for (std::size_t j = 0; j < pixels_per_image; ++j) {
    t[j] = image[j] - mean;
    norm += t[j] * t[j];
  }
  norm = std::sqrt(norm);
  for (std::size_t j = 0; j < pixels_per_image; ++j) t[j] *= mu_norm / norm;
  return t;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t j = 0; j < a.size(); ++j) m = std::max(m, std::abs(a[j] - b[j]));
  return m;
}

// Runs f, expects idx_error, and returns its message.
template <class F>
std::string idx_error_message(F&& f) {
  try {
    f();
  } catch (const idx_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected idx_error";
  return "";
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("bovit_idx_test_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path path(const std::string& name) const { return dir_ / name; }

  // Writes <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte for the given images and labels.
  void write_split(const std::string& split, const bytes& images, const bytes& labels) {
    write_file(path(split + "-images-idx3-ubyte"),
               idx_file({static_cast<std::uint32_t>(labels.size()), side, side}, images));
    write_file(path(split + "-labels-idx1-ubyte"), idx_file({static_cast<std::uint32_t>(labels.size())}, labels));
  }

  bovit::data_config mnist_config(int digit_pos = 0, int digit_neg = 1) const {
    bovit::data_config cfg;
    cfg.source = "mnist";
    cfg.d = 1000;
    cfg.mu_norm = 12.5;
    cfg.digit_pos = digit_pos;
    cfg.digit_neg = digit_neg;
    cfg.mnist_dir = dir_.string();
    return cfg;
  }

  fs::path dir_;
};

TEST_F(IdxTest, ReadIdxRoundTripsImagesAndLabels) {
  const bytes images = pattern_images(5);
  write_file(path("images"), idx_file({5, side, side}, images));
  write_file(path("labels"), idx_file({5}, five_labels));

  const auto image_array = bovit::read_idx(path("images"));
  EXPECT_EQ(image_array.dims, (std::vector<std::uint32_t>{5, side, side}));
  EXPECT_EQ(image_array.data, images);
  const auto label_array = bovit::read_idx(path("labels"));
  EXPECT_EQ(label_array.dims, std::vector<std::uint32_t>{5});
  EXPECT_EQ(label_array.data, five_labels);
}

TEST_F(IdxTest, ReadIdxReadsLargeDimensionsBigEndian) {
  // 2 × 300 × 1: 300 = 0x0000012C, so a little-endian reader would see a different shape.
  const bytes data(600, 42);
  write_file(path("odd"), idx_file({2, 300, 1}, data));
  const auto a = bovit::read_idx(path("odd"));
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{2, 300, 1}));
  EXPECT_EQ(a.data.size(), 600u);
}

TEST_F(IdxTest, ReadMnistRoundTrip) {
  const bytes images = pattern_images(5);
  write_split("train", images, five_labels);
  const auto split = bovit::read_mnist(path("train-images-idx3-ubyte"), path("train-labels-idx1-ubyte"));
  EXPECT_EQ(split.count(), 5u);
  EXPECT_EQ(split.rows, side);
  EXPECT_EQ(split.cols, side);
  EXPECT_EQ(split.labels, five_labels);
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t j = 0; j < pixels_per_image; ++j)
      ASSERT_EQ(split.image(k)[j], images[k * pixels_per_image + j]) << "image " << k << " pixel " << j;
  EXPECT_THROW(split.image(5), std::out_of_range);
}

TEST_F(IdxTest, WrongMagicIsRejected) {
  bytes file = idx_file({5}, five_labels);
  file[0] = 0x1f;  // e.g. a gzip file that was not unpacked
  file[1] = 0x8b;
  write_file(path("labels"), file);
  const std::string message = idx_error_message([&] { bovit::read_idx(path("labels")); });
  EXPECT_NE(message.find(path("labels").string()), std::string::npos) << message;
  EXPECT_NE(message.find("magic"), std::string::npos) << message;
}

TEST_F(IdxTest, NonUbyteTypeIsRejectedByName) {
  write_file(path("floats"), idx_file({2}, bytes(8, 0), 0x0D));
  const std::string message = idx_error_message([&] { bovit::read_idx(path("floats")); });
  EXPECT_NE(message.find("0x0d"), std::string::npos) << message;
  EXPECT_NE(message.find("float"), std::string::npos) << message;
  EXPECT_NE(message.find(path("floats").string()), std::string::npos) << message;
}

TEST_F(IdxTest, ZeroDimensionCountIsRejected) {
  write_file(path("nodims"), bytes{0, 0, 0x08, 0});
  const std::string message = idx_error_message([&] { bovit::read_idx(path("nodims")); });
  EXPECT_NE(message.find("zero dimensions"), std::string::npos) << message;
}

TEST_F(IdxTest, TruncatedDataIsRejectedWithSizes) {
  bytes file = idx_file({5, side, side}, pattern_images(5));
  file.erase(file.end() - 100, file.end());
  write_file(path("images"), file);
  const std::string message = idx_error_message([&] { bovit::read_idx(path("images")); });
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("3920"), std::string::npos) << message;  // 5·28·28 bytes promised
  EXPECT_NE(message.find("3820"), std::string::npos) << message;  // bytes present
}

TEST_F(IdxTest, TruncatedHeaderIsRejected) {
  write_file(path("tiny"), bytes{0, 0});
  EXPECT_NE(idx_error_message([&] { bovit::read_idx(path("tiny")); }).find("too short"), std::string::npos);
  write_file(path("halfdims"), bytes{0, 0, 0x08, 3, 0, 0, 0, 5});  // 3 dims promised, 1 present
  EXPECT_NE(idx_error_message([&] { bovit::read_idx(path("halfdims")); }).find("truncated header"), std::string::npos);
}

TEST_F(IdxTest, TrailingBytesAreRejected) {
  bytes file = idx_file({5}, five_labels);
  file.push_back(0);
  write_file(path("labels"), file);
  const std::string message = idx_error_message([&] { bovit::read_idx(path("labels")); });
  EXPECT_NE(message.find("trailing"), std::string::npos) << message;
}

TEST_F(IdxTest, ZeroDimensionIsRejected) {
  write_file(path("empty"), idx_file({0, side, side}, {}));
  const std::string message = idx_error_message([&] { bovit::read_idx(path("empty")); });
  EXPECT_NE(message.find("dimension 0 is zero"), std::string::npos) << message;
}

TEST_F(IdxTest, OverflowingDimensionsAreRejectedWithoutAllocating) {
  write_file(path("huge"), idx_file({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, bytes(16, 1)));
  const std::string message = idx_error_message([&] { bovit::read_idx(path("huge")); });
  EXPECT_NE(message.find("overflow"), std::string::npos) << message;
  // Large but representable: must be reported as truncated, not allocated.
  write_file(path("big"), idx_file({0xFFFFFFFFu, 0xFFFFu}, bytes(16, 1)));
  EXPECT_NE(idx_error_message([&] { bovit::read_idx(path("big")); }).find("truncated"), std::string::npos);
}

TEST_F(IdxTest, MissingFileAndDirectoryAreRejected) {
  const std::string message = idx_error_message([&] { bovit::read_idx(path("no-such-file")); });
  EXPECT_NE(message.find(path("no-such-file").string()), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
  EXPECT_NE(idx_error_message([&] { bovit::read_idx(dir_); }).find("not a regular file"), std::string::npos);
}

TEST_F(IdxTest, ReadMnistRejectsCountMismatch) {
  write_file(path("images"), idx_file({5, side, side}, pattern_images(5)));
  write_file(path("labels"), idx_file({4}, bytes{0, 1, 0, 1}));
  const std::string message = idx_error_message([&] { bovit::read_mnist(path("images"), path("labels")); });
  EXPECT_NE(message.find("4 labels"), std::string::npos) << message;
  EXPECT_NE(message.find("5 images"), std::string::npos) << message;
}

TEST_F(IdxTest, ReadMnistRejectsLabelAboveNine) {
  write_file(path("images"), idx_file({5, side, side}, pattern_images(5)));
  write_file(path("labels"), idx_file({5}, bytes{0, 1, 10, 1, 7}));
  const std::string message = idx_error_message([&] { bovit::read_mnist(path("images"), path("labels")); });
  EXPECT_NE(message.find("label 2 is 10"), std::string::npos) << message;
  EXPECT_NE(message.find(path("labels").string()), std::string::npos) << message;
}

TEST_F(IdxTest, ReadMnistRejectsWrongRanks) {
  write_file(path("images"), idx_file({5, side, side}, pattern_images(5)));
  write_file(path("labels"), idx_file({5}, five_labels));
  // Swapped arguments: labels are not 3-D.
  EXPECT_NE(idx_error_message([&] { bovit::read_mnist(path("labels"), path("images")); }).find("3-D"),
            std::string::npos);
  write_file(path("labels2d"), idx_file({5, 1}, five_labels));
  EXPECT_NE(idx_error_message([&] { bovit::read_mnist(path("images"), path("labels2d")); }).find("1-D"),
            std::string::npos);
}

TEST_F(IdxTest, SignalTokensHaveNormZeroMeanAndZeroPadding) {
  write_split("train", pattern_images(5), five_labels);
  const auto cfg = mnist_config();
  const std::vector<double> labels{1, -1, 1, -1, -1, 1};
  const auto tokens = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(3));
  ASSERT_EQ(tokens.size(), labels.size());
  for (const auto& t : tokens) {
    ASSERT_EQ(t.size(), static_cast<std::size_t>(cfg.d));
    double sum = 0, squares = 0;
    for (std::size_t j = 0; j < pixels_per_image; ++j) {
      sum += t[j];
      squares += t[j] * t[j];
    }
    EXPECT_NEAR(std::sqrt(squares), cfg.mu_norm, 1e-12);
    EXPECT_NEAR(sum / pixels_per_image, 0.0, 1e-12);
    for (std::size_t j = pixels_per_image; j < t.size(); ++j) ASSERT_EQ(t[j], 0.0) << "padding entry " << j;
  }
}

TEST_F(IdxTest, SignalTokensUseAnImageOfTheLabelsDigit) {
  const bytes images = pattern_images(5);  // digits 0, 1, 0, 1, 7
  write_split("t10k", images, five_labels);
  const auto cfg = mnist_config(/*digit_pos=*/7, /*digit_neg=*/0);
  std::vector<double> labels;
  for (int n = 0; n < 40; ++n) labels.push_back(n % 3 == 0 ? 1.0 : -1.0);
  const auto tokens = bovit::mnist_signal_tokens(cfg, labels, "t10k", bovit::rng_stream(11));
  ASSERT_EQ(tokens.size(), labels.size());
  std::vector<int> times_drawn(5, 0);
  for (std::size_t n = 0; n < tokens.size(); ++n) {
    std::optional<std::size_t> source;
    for (std::size_t k = 0; k < 5; ++k)
      if (max_abs_difference(tokens[n], expected_token(&images[k * pixels_per_image], cfg.mu_norm, cfg.d)) < 1e-12)
        source = k;
    ASSERT_TRUE(source.has_value()) << "token " << n << " matches no image";
    EXPECT_EQ(five_labels[*source], labels[n] > 0 ? 7 : 0) << "token " << n;
    ++times_drawn[*source];
  }
  // Both images of digit 0 are drawn; digit 1 never is.
  EXPECT_GT(times_drawn[0], 0);
  EXPECT_GT(times_drawn[2], 0);
  EXPECT_EQ(times_drawn[1] + times_drawn[3], 0);
}

TEST_F(IdxTest, SignalTokensAreBitIdenticalForTheSameStream) {
  write_split("train", pattern_images(5), five_labels);
  const auto cfg = mnist_config();
  std::vector<double> labels;
  for (int n = 0; n < 30; ++n) labels.push_back(n % 2 == 0 ? 1.0 : -1.0);
  const auto a = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(5).split("images"));
  const auto b = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(5).split("images"));
  EXPECT_EQ(a, b);  // exact equality of every double
  const auto c = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(6).split("images"));
  EXPECT_NE(a, c);  // 30 draws between two images each: another stream picks differently
}

TEST_F(IdxTest, ConcurrentCallsShareTheCacheAndAgree) {
  write_split("train", pattern_images(5), five_labels);
  const auto cfg = mnist_config();
  const std::vector<double> labels{1, -1, 1, -1, 1, -1, 1, -1};
  const auto reference = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(9));
  std::vector<std::vector<std::vector<double>>> results(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t)
    threads.emplace_back([&, t] { results[t] = bovit::mnist_signal_tokens(cfg, labels, "train", bovit::rng_stream(9)); });
  for (auto& thread : threads) thread.join();
  for (const auto& r : results) EXPECT_EQ(r, reference);
}

TEST_F(IdxTest, ConstantImageIsAnErrorNotNaN) {
  bytes images = pattern_images(5);
  std::fill(images.begin() + 4 * pixels_per_image, images.end(), 200);  // image 4 (digit 7) is flat
  write_split("train", images, five_labels);
  const auto cfg = mnist_config(/*digit_pos=*/7, /*digit_neg=*/1);
  const std::string message =
      idx_error_message([&] { bovit::mnist_signal_tokens(cfg, {1.0}, "train", bovit::rng_stream(1)); });
  EXPECT_NE(message.find("image 4"), std::string::npos) << message;
  EXPECT_NE(message.find("constant"), std::string::npos) << message;
}

TEST_F(IdxTest, MissingSplitFilesPointToTheFetchScript) {
  const auto cfg = mnist_config();
  const std::string message =
      idx_error_message([&] { bovit::mnist_signal_tokens(cfg, {1.0, -1.0}, "train", bovit::rng_stream(1)); });
  EXPECT_NE(message.find(path("train-images-idx3-ubyte").string()), std::string::npos) << message;
  EXPECT_NE(message.find("scripts/fetch-mnist.sh"), std::string::npos) << message;
}

TEST_F(IdxTest, SignalTokensRejectBadArguments) {
  write_split("train", pattern_images(5), five_labels);
  auto cfg = mnist_config();
  EXPECT_THROW(bovit::mnist_signal_tokens(cfg, {0.5}, "train", bovit::rng_stream(1)), std::invalid_argument);
  EXPECT_THROW(bovit::mnist_signal_tokens(cfg, {1.0}, "validation", bovit::rng_stream(1)), std::invalid_argument);
  cfg.digit_pos = 4;  // no image of digit 4 in this split
  EXPECT_NE(idx_error_message([&] { bovit::mnist_signal_tokens(cfg, {1.0}, "train", bovit::rng_stream(1)); })
                .find("no images of digit 4"),
            std::string::npos);
}

TEST_F(IdxTest, RewrittenFilesAreReadAgain) {
  write_split("train", pattern_images(5), five_labels);
  const auto cfg = mnist_config(/*digit_pos=*/7, /*digit_neg=*/1);
  const auto before = bovit::mnist_signal_tokens(cfg, {1.0}, "train", bovit::rng_stream(2));
  // Same paths, new content: image 5 is now the only 7.
  const bytes images = pattern_images(6);
  write_split("train", images, bytes{0, 1, 0, 1, 3, 7});
  const auto after = bovit::mnist_signal_tokens(cfg, {1.0}, "train", bovit::rng_stream(2));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_LT(max_abs_difference(after[0], expected_token(&images[5 * pixels_per_image], cfg.mu_norm, cfg.d)), 1e-12);
  EXPECT_NE(before, after);
}

TEST(MnistDirectory, PrefersConfigThenBovitCacheThenHome) {
  const auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto restore = [](const char* name, const std::optional<std::string>& v) {
    if (v) ::setenv(name, v->c_str(), 1);
    else ::unsetenv(name);
  };
  const auto old_cache = saved("BOVIT_CACHE"), old_home = saved("HOME");

  bovit::data_config cfg;
  cfg.mnist_dir = "/data/mnist";
  ::setenv("BOVIT_CACHE", "/cache", 1);
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(bovit::mnist_directory(cfg), fs::path("/data/mnist"));
  cfg.mnist_dir.clear();
  EXPECT_EQ(bovit::mnist_directory(cfg), fs::path("/cache/mnist"));
  ::unsetenv("BOVIT_CACHE");
  EXPECT_EQ(bovit::mnist_directory(cfg), fs::path("/home/someone/.cache/bovit/mnist"));

  restore("BOVIT_CACHE", old_cache);
  restore("HOME", old_home);
}

}  // namespace
