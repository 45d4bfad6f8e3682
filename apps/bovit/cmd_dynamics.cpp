#include "commands.hpp"
#include "common.hpp"

namespace bovit::cli {

void register_dynamics(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("dynamics", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace bovit::cli
