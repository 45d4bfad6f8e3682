// A resumable, parallel sweep over the phase grid (grid.N × grid.mu_norm × grid.seeds).
//
// Worker threads pull cells from a shared queue; each cell's seed comes from cell_seed(master, N,
// ‖μ‖, k), so results do not depend on the thread count or the order cells finish in. OpenBLAS is
// set to one thread so that workers do not oversubscribe the cores (and BLAS sums are the same
// for any worker count). Every finished cell is appended to cells.csv and flushed at once; when
// the sweep ends the file is rewritten in grid order. With `resume`, the rows already in cells.csv
// are kept (a partial last line, left by a kill, is dropped) and only the missing cells run.
#pragma once

#include "bovit/config.hpp"
#include "bovit/experiments/cell.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace bovit {

struct sweep_cell {
  int N = 0;
  double mu_norm = 0;
  int seed_index = 0;
};

// grid.mu_norm, or 1, 2, …, 100 when it is empty.
std::vector<double> grid_mu_values(const grid_config& grid);
// Every (N, ‖μ‖, seed) of the grid, in grid order (N, then ‖μ‖, then seed).
std::vector<sweep_cell> grid_cells(const config& cfg);

struct sweep_options {
  int threads = 0;          // 0: all cores
  bool resume = false;      // keep the rows of an existing cells.csv
  bool progress = false;    // progress bar with ETA on stderr
  std::string label = "sweep";
};

struct sweep_stats {
  int total = 0;            // cells in the grid
  int reused = 0;           // taken from cells.csv (resume)
  int ran = 0;
  int threads = 0;
  double seconds = 0;
};

// Runs the sweep, writing `csv` as it goes; returns every cell of the grid in grid order.
// Throws config_error when `csv` exists without `resume`, or does not match the grid's columns.
std::vector<cell_result> run_sweep(const config& cfg, const std::filesystem::path& csv, const sweep_options& opt,
                                   sweep_stats* stats = nullptr);

// cells.csv: header, then one row per cell. Parsing skips a final line without a newline.
const std::string& cells_csv_header();
std::string format_cell_row(const cell_result& c);
std::vector<cell_result> read_cells_csv(const std::filesystem::path& csv);
void write_cells_csv(const std::filesystem::path& csv, const std::vector<cell_result>& cells);


}  // namespace bovit
