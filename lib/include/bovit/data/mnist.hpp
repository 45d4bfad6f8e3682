// MNIST images as signal tokens (data.source = mnist).
//
// Each sample's signal token is a real MNIST image of the digit of its class, flattened, centred,
// scaled to ‖μ‖ and zero-padded to the token dimension. The IDX files are read once per path and
// process (thread-safe); scripts/fetch-mnist.sh puts them in the default cache directory.
#pragma once

#include "bovit/config.hpp"
#include "bovit/io/idx.hpp"
#include "bovit/rng.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace bovit {

// cfg.mnist_dir if set, else $BOVIT_CACHE/mnist, else $HOME/.cache/bovit/mnist.
std::filesystem::path mnist_directory(const data_config& cfg);

// One signal token per label: +1 draws an image of cfg.digit_pos, −1 one of cfg.digit_neg,
// uniformly from that digit's images in `split` ("train" or "t10k"; sample n uses stream.split(n)).
// The image is flattened to rows·cols values, centred on its own mean pixel, scaled to Euclidean
// norm cfg.mu_norm and zero-padded to cfg.d. Throws idx_error for missing or corrupt files and for
// a constant image (nothing left after centring).
std::vector<std::vector<double>> mnist_signal_tokens(const data_config& cfg, const std::vector<double>& labels,
                                                     const std::string& split, rng_stream stream);

}  // namespace bovit
