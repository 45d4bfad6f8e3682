// Reader for IDX files, the format of the MNIST distribution.
//
// An IDX file is a big-endian header — magic 0x00 0x00 <element type> <ndims>, then ndims 32-bit
// dimension sizes — followed by the elements in row-major order. Only unsigned-byte elements
// (type 0x08) are supported. Corrupt or unexpected files raise idx_error naming the file and the
// problem; nothing is allocated before the header has been checked against the file length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace bovit {

struct idx_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct idx_array {
  std::vector<std::uint32_t> dims;  // outermost first
  std::vector<std::uint8_t> data;   // row-major, product(dims) elements
};

// Reads any unsigned-byte IDX file. The file length must equal header + product(dims) exactly.
idx_array read_idx(const std::filesystem::path& file);

// One MNIST split: count() images of rows × cols pixels and their labels 0..9.
struct mnist_split {
  std::vector<std::uint8_t> labels;
  std::vector<std::uint8_t> pixels;  // count() × rows × cols, row-major
  int rows = 0, cols = 0;

  std::size_t count() const { return labels.size(); }
  // First pixel of image i; throws std::out_of_range when i >= count().
  const std::uint8_t* image(std::size_t i) const;
};

// Reads an images file (3-D) and its labels file (1-D) and checks that they belong together.
mnist_split read_mnist(const std::filesystem::path& images, const std::filesystem::path& labels);

}  // namespace bovit
