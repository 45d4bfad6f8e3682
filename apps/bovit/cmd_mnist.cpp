#include "commands.hpp"
#include "phase_cli.hpp"

namespace bovit::cli {

void register_mnist(CLI::App& app, int& exit_code) {
  register_phase_like(app, exit_code, "mnist",
                      "the phase diagram with real MNIST images as signal tokens (configs/mnist.toml); same "
                      "options and outputs as `phase`",
                      "mnist");
}

}  // namespace bovit::cli
