#include "commands.hpp"
#include "common.hpp"

namespace bovit::cli {

void register_check(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace bovit::cli
