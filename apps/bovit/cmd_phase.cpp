#include "commands.hpp"
#include "common.hpp"

namespace bovit::cli {

void register_phase(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("phase", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace bovit::cli
