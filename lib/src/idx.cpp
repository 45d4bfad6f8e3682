#include "bovit/io/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>

namespace bovit {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t ubyte_type = 0x08;
constexpr std::uintmax_t magic_bytes = 4;

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "32-bit float";
    case 0x0E: return "64-bit float";
    default: return "unknown type";
  }
}

std::uint32_t big_endian_u32(const unsigned char* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

std::string shape(const std::vector<std::uint32_t>& dims) { return fmt::format("{}", fmt::join(dims, "x")); }

// Reads exactly `count` bytes or reports how many the file had.
void read_exactly(std::ifstream& in, char* out, std::uintmax_t count, const std::string& name, const char* what) {
  in.read(out, static_cast<std::streamsize>(count));
  const auto got = static_cast<std::uintmax_t>(in.gcount());
  if (got != count) throw idx_error(fmt::format("{}: read error in {}: expected {} bytes, got {}", name, what, count, got));
}

}  // namespace

idx_array read_idx(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (!fs::exists(status)) throw idx_error(fmt::format("{}: file not found", name));
  if (!fs::is_regular_file(status)) throw idx_error(fmt::format("{}: not a regular file", name));
  const std::uintmax_t file_size = fs::file_size(file, ec);
  if (ec) throw idx_error(fmt::format("{}: cannot determine the file size: {}", name, ec.message()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw idx_error(fmt::format("{}: cannot open for reading", name));

  if (file_size < magic_bytes)
    throw idx_error(fmt::format("{}: too short for an IDX header: {} bytes, need at least {}", name, file_size, magic_bytes));
  unsigned char magic[4];
  read_exactly(in, reinterpret_cast<char*>(magic), magic_bytes, name, "the magic number");
  const std::uint32_t magic_value = big_endian_u32(magic);
  if (magic[0] != 0 || magic[1] != 0)
    throw idx_error(fmt::format("{}: bad magic number 0x{:08x}: an IDX file starts with two zero bytes "
                                "(e.g. 0x00000803 for unsigned-byte images)", name, magic_value));
  const std::uint8_t type = magic[2];
  if (type != ubyte_type)
    throw idx_error(fmt::format("{}: element type 0x{:02x} ({}) is not supported: only unsigned byte (0x08)", name,
                                type, type_name(type)));
  const unsigned ndims = magic[3];
  if (ndims == 0) throw idx_error(fmt::format("{}: bad magic number 0x{:08x}: zero dimensions", name, magic_value));

  const std::uintmax_t header_size = magic_bytes + 4u * ndims;
  if (file_size < header_size)
    throw idx_error(fmt::format("{}: truncated header: {} dimensions need {} header bytes, file has {}", name, ndims,
                                header_size, file_size));
  std::vector<unsigned char> dim_bytes(4u * ndims);
  read_exactly(in, reinterpret_cast<char*>(dim_bytes.data()), dim_bytes.size(), name, "the dimensions");

  idx_array out;
  out.dims.resize(ndims);
  for (unsigned i = 0; i < ndims; ++i) out.dims[i] = big_endian_u32(dim_bytes.data() + 4u * i);

  // Product of the dimensions, refusing anything that overflows or cannot be held in memory.
  std::uintmax_t elements = 1;
  const std::uintmax_t max_elements =
      std::min<std::uintmax_t>(std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::streamsize>::max());
  for (unsigned i = 0; i < ndims; ++i) {
    const std::uint32_t dim = out.dims[i];
    if (dim == 0) throw idx_error(fmt::format("{}: dimension {} is zero (shape {})", name, i, shape(out.dims)));
    if (elements > max_elements / dim)
      throw idx_error(fmt::format("{}: shape {} has too many elements (overflow)", name, shape(out.dims)));
    elements *= dim;
  }

  const std::uintmax_t data_in_file = file_size - header_size;
  if (data_in_file < elements)
    throw idx_error(fmt::format("{}: truncated: header says {} bytes of data, file has {}", name, elements, data_in_file));
  if (data_in_file > elements)
    throw idx_error(fmt::format("{}: {} trailing bytes: header says {} bytes of data, file has {}", name,
                                data_in_file - elements, elements, data_in_file));

  out.data.resize(static_cast<std::size_t>(elements));
  read_exactly(in, reinterpret_cast<char*>(out.data.data()), elements, name, "the data");
  if (in.peek() != std::char_traits<char>::eof())
    throw idx_error(fmt::format("{}: trailing bytes after {} bytes of data (file changed while reading?)", name, elements));
  return out;
}

const std::uint8_t* mnist_split::image(std::size_t i) const {
  if (i >= count()) throw std::out_of_range(fmt::format("mnist image {} requested, split has {}", i, count()));
  return pixels.data() + i * static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
}

mnist_split read_mnist(const fs::path& images, const fs::path& labels) {
  idx_array image_array = read_idx(images);
  idx_array label_array = read_idx(labels);
  if (image_array.dims.size() != 3)
    throw idx_error(fmt::format("{}: MNIST images must be 3-D (count x rows x cols), file has shape {}",
                                images.string(), shape(image_array.dims)));
  if (label_array.dims.size() != 1)
    throw idx_error(fmt::format("{}: MNIST labels must be 1-D, file has shape {}", labels.string(),
                                shape(label_array.dims)));
  const std::uint32_t max_side = static_cast<std::uint32_t>(std::numeric_limits<int>::max());
  if (image_array.dims[1] > max_side || image_array.dims[2] > max_side)
    throw idx_error(fmt::format("{}: image size {}x{} is too large", images.string(), image_array.dims[1],
                                image_array.dims[2]));
  if (image_array.dims[0] != label_array.dims[0])
    throw idx_error(fmt::format("{}: {} labels, but {} has {} images", labels.string(), label_array.dims[0],
                                images.string(), image_array.dims[0]));
  for (std::size_t i = 0; i < label_array.data.size(); ++i)
    if (label_array.data[i] > 9)
      throw idx_error(fmt::format("{}: label {} is {}, not a digit 0..9", labels.string(), i, label_array.data[i]));

  mnist_split out;
  out.rows = static_cast<int>(image_array.dims[1]);
  out.cols = static_cast<int>(image_array.dims[2]);
  out.labels = std::move(label_array.data);
  out.pixels = std::move(image_array.data);
  return out;
}

}  // namespace bovit
