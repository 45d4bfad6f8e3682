#include "common.hpp"

#include "bovit/data/mnist.hpp"
#include "bovit/io/idx.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace bovit::cli {

void add_run_options(CLI::App& cmd, run_options& o, const std::string& default_preset) {
  o.preset = default_preset;
  cmd.add_option("--preset", o.preset, "preset name (configs/<name>.toml) or path to a TOML file")
      ->capture_default_str();
  cmd.add_option("--set", o.sets, "override a config value: section.key=value (repeatable; see 'bovit keys')")
      ->allow_extra_args(false);
  cmd.add_option("--engine", o.engine, "gradient engine (overrides run.engine)")
      ->check(CLI::IsMember({"dense", "span"}));
  cmd.add_option("--precision", o.precision, "scalar type (overrides run.precision)")
      ->check(CLI::IsMember({"double", "long-double", "mp50"}));
}

config resolve_config(const run_options& o) {
  config cfg = load_preset(o.preset);
  apply_overrides(cfg, o.sets);
  if (!o.engine.empty()) apply_override(cfg, "run.engine=" + o.engine);
  if (!o.precision.empty()) apply_override(cfg, "run.precision=" + o.precision);
  cfg.validate();
  return cfg;
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const config_error& e) {
    std::cerr << "bovit: " << e.what() << '\n';
    return exit_bad_input;
  } catch (const idx_error& e) {
    std::cerr << "bovit: " << e.what() << '\n';
    return exit_bad_input;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "bovit: " << e.what() << '\n';
    return exit_bad_input;
  } catch (const std::exception& e) {
    std::cerr << "bovit: error: " << e.what() << '\n';
    return 1;
  }
}

void write_json(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) throw std::filesystem::filesystem_error("cannot write", path, std::make_error_code(std::errc::io_error));
  out << text << '\n';
}

}  // namespace bovit::cli
