// `bovit phase` and `bovit mnist` share their options and outputs (lib: experiments/phase.hpp).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace bovit::cli {

void register_phase_like(CLI::App& app, int& exit_code, const std::string& name, const std::string& description,
                         const std::string& default_preset);

}  // namespace bovit::cli
