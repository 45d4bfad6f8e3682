// bovit: train, check and reproduce "Unveil Benign Overfitting for Transformer in Vision".
#include "commands.hpp"

#include "bovit/run.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // A run allocates and frees matrices of several MB (initial weights, test projections): keep
  // freed memory in the heap for the next ones instead of unmapping it, which would cost a page
  // fault per 4 KiB at their first touch.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
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
