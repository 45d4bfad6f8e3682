// Each subcommand registers itself on the app and writes its exit code when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace bovit::cli {

void register_train(CLI::App& app, int& exit_code);
void register_export(CLI::App& app, int& exit_code);
void register_keys(CLI::App& app, int& exit_code);
void register_check(CLI::App& app, int& exit_code);
void register_phase(CLI::App& app, int& exit_code);
void register_dynamics(CLI::App& app, int& exit_code);
void register_mnist(CLI::App& app, int& exit_code);

}  // namespace bovit::cli
