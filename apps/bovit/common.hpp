// Options shared by the subcommands, and the error policy of the tool:
// bad input (config, arguments, files) → message on stderr, exit 2; a run that stops on a
// non-finite value → exit 3 (its partial output is kept); anything else → exit 1.
#pragma once

#include "bovit/config.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bovit::cli {

inline constexpr int exit_bad_input = 2;
inline constexpr int exit_non_finite = 3;

struct run_options {
  std::string preset;
  std::vector<std::string> sets;
  std::string engine;
  std::string precision;
};

void add_run_options(CLI::App& cmd, run_options& o, const std::string& default_preset);
// The preset, then every --set, then --engine/--precision; validated.
config resolve_config(const run_options& o);
// Runs a subcommand body under the error policy above.
int guarded(const std::function<int()>& body);
void write_json(const std::string& path, const std::string& text);

}  // namespace bovit::cli
