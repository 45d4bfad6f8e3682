// bovit: train, check and reproduce "Unveil Benign Overfitting for Transformer in Vision".
#include "commands.hpp"

#include "bovit/run.hpp"

int main(int argc, char** argv) {
  CLI::App app{"bovit " + bovit::version() +
               ": benign overfitting of a one-layer vision transformer (Jiang et al., NeurIPS 2024)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", bovit::version());
  int exit_code = 0;
  bovit::cli::register_train(app, exit_code);
  bovit::cli::register_export(app, exit_code);
  bovit::cli::register_keys(app, exit_code);
  bovit::cli::register_check(app, exit_code);
  bovit::cli::register_phase(app, exit_code);
  bovit::cli::register_dynamics(app, exit_code);
  bovit::cli::register_mnist(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
