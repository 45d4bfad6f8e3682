#include "bovit/experiments/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

namespace bovit {

namespace fs = std::filesystem;

std::string gnuplot_command() {
  if (const char* env = std::getenv("BOVIT_GNUPLOT"); env && *env) return env;
  return "gnuplot";
}

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

bool gnuplot_available() {
  const std::string cmd = shell_quote(gnuplot_command()) + " --version >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

void run_gnuplot(const fs::path& script) {
  if (!gnuplot_available())
    throw plot_error(fmt::format("cannot run '{}' to draw {}: install gnuplot (Debian: apt-get install gnuplot-nox) "
                                 "or set BOVIT_GNUPLOT, or pass --no-plots",
                                 gnuplot_command(), script.string()));
  const fs::path log = script.string() + ".log";
  const std::string cmd = fmt::format("cd {} && {} {} >{} 2>&1", shell_quote(script.parent_path().string()),
                                      shell_quote(gnuplot_command()), shell_quote(script.filename().string()),
                                      shell_quote(log.filename().string()));
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw plot_error(fmt::format("gnuplot failed on {}:\n{}", script.string(), text));
  }
  fs::remove(log);
}

namespace {

// Cell edges for each distinct value: midpoints to its neighbours (the end cells are symmetric).
std::map<double, std::pair<double, double>> cell_edges(const std::set<double>& values, double fallback) {
  std::map<double, std::pair<double, double>> e;
  std::vector<double> v(values.begin(), values.end());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double below = i > 0 ? (v[i] - v[i - 1]) / 2 : (i + 1 < v.size() ? (v[i + 1] - v[i]) / 2 : fallback);
    const double above = i + 1 < v.size() ? (v[i + 1] - v[i]) / 2 : below;
    e[v[i]] = {v[i] - below, v[i] + above};
  }
  return e;
}

std::string gp_string(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '\n') {
      q += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

std::vector<fs::path> plot_phase_heatmaps(const std::vector<cell_summary>& cells, const boundary_fit& fit,
                                          const heatmap_options& opt, const fs::path& dir) {
  if (cells.empty()) throw plot_error("plot_phase_heatmaps: no cells to draw");
  fs::create_directories(dir);
  std::set<double> Ns, snrs;
  for (const auto& c : cells) {
    Ns.insert(c.N);
    snrs.insert(c.snr);
  }
  const auto eN = cell_edges(Ns, 1.0);
  const auto eS = cell_edges(snrs, 0.5 * *snrs.begin());
  double max_loss = 0;
  for (const auto& c : cells)
    if (std::isfinite(c.mean_test_loss)) max_loss = std::max(max_loss, c.mean_test_loss);

  // Block 0: cells with a mean; block 1: cells where fewer than half of the seeds converged.
  {
    std::ofstream out(dir / "heatmap_cells.dat");
    out << "# N snr N_lo N_hi snr_lo snr_hi mean_test_loss benign converged_fraction seeds\n";
    for (int block = 0; block < 2; ++block) {
      if (block == 1) out << "\n\n";
      int written = 0;
      for (const auto& c : cells) {
        const bool shown = c.converged_fraction >= 0.5 && std::isfinite(c.mean_test_loss);
        if (shown != (block == 0)) continue;
        const auto [nlo, nhi] = eN.at(c.N);
        const auto [slo, shi] = eS.at(c.snr);
        out << fmt::format("{} {:.9g} {:.9g} {:.9g} {:.9g} {:.9g} {:.9g} {} {:.3g} {}\n", c.N, c.snr, nlo, nhi, slo, shi, shown ? c.mean_test_loss : 0.0,
                           shown && c.mean_test_loss <= opt.cutoff ? 1 : 0, c.converged_fraction, c.seeds);
        ++written;
      }
      if (written == 0) out << "NaN NaN NaN NaN NaN NaN NaN 0 0 0\n";  // keep the block for gnuplot
    }
  }
  {
    std::ofstream out(dir / "heatmap_boundary.dat");
    out << "# N snr_star misclassified_cells\n";
    for (const auto& p : fit.points) out << fmt::format("{} {:.9g} {}\n", p.N, p.snr_star, p.misclassified);
    if (fit.points.empty()) out << "NaN NaN 0\n";
  }

  const double xlo = eN.begin()->second.first, xhi = eN.rbegin()->second.second;
  const double ylo = std::max(0.0, eS.begin()->second.first), yhi = eS.rbegin()->second.second;
  const std::string ref_title = fmt::format("paper: N·SNR² = {:g}", opt.reference_c);
  const std::string fit_title =
      fit.ok ? fmt::format("fit: SNR* = {:.3g}·N^{{-{:.2f}}}  (N·SNR*² ≈ {:.0f})", std::exp(fit.intercept), fit.alpha, fit.c)
             : std::string("fit: none (fewer than 2 rows cross the cutoff)");

  const fs::path script = dir / "heatmap.gp";
  std::ofstream gp(script);
  gp << "# Drawn by bovit (lib/src/plot.cpp). Data: heatmap_cells.dat, heatmap_boundary.dat.\n";
  gp << "set terminal pngcairo size 1000,760 enhanced font 'DejaVu Sans,12'\n";
  gp << "set encoding utf8\n";
  gp << fmt::format("set xrange [{:.9g}:{:.9g}]\nset yrange [{:.9g}:{:.9g}]\n", xlo, xhi, ylo, yhi);
  gp << "set xlabel 'N (training samples)'\n";
  gp << fmt::format("set ylabel {}\n", gp_string(opt.snr_label + " (dimensionless)"));
  gp << "set xtics (";
  bool first = true;
  for (double n : Ns) {
    gp << (first ? "" : ", ") << fmt::format("'{}' {}", n, n);
    first = false;
  }
  gp << ")\nset tics out nomirror\n";
  gp << "set bmargin 8\nset key at screen 0.5,0.015 center bottom horizontal box opaque samplen 2 spacing 1.2 font ',11'\n";
  gp << "set samples 400\n";
  gp << fmt::format("ref(x) = sqrt({:.9g}/x)\n", opt.reference_c);
  gp << fmt::format("fitc(x) = {}\n", fit.ok ? fmt::format("exp({:.9g}) * x**(-{:.9g})", fit.intercept, fit.alpha)
                                              : std::string("NaN"));
  gp << "set style fill solid 1.0 noborder\n";
  const std::string nonconv =
      "'heatmap_cells.dat' index 1 using 1:2:3:4:5:6 with boxxyerror fs pattern 4 border lc rgb '#606060' "
      "fc rgb '#909090' title 'not converged (< half the seeds)'";
  auto curves = [&](const char* ref_color, const char* fit_color) {
    return fmt::format(", ref(x) with lines lw 3 lc rgb '{}' title {}", ref_color, gp_string(ref_title)) +
           fmt::format(", fitc(x) with lines lw 3 dt 2 lc rgb '{}' title {}", fit_color, gp_string(fit_title)) +
           fmt::format(", 'heatmap_boundary.dat' using 1:2 with points pt 7 ps 1.3 lc rgb '{}' title "
                       "'fitted SNR*(N) per N'",
                       fit_color);
  };

  // (a) raw mean test loss.
  gp << "set output 'test_loss.png'\n";
  gp << fmt::format("set title {}\n", gp_string(fmt::format("{}\n(a) test loss, mean over converged seeds", opt.title)));
  gp << "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";
  gp << fmt::format("set cbrange [0:{:.4g}]\n", std::max(0.7, max_loss));
  gp << "set cblabel 'test loss (logistic, nats)'\nset colorbox\n";
  gp << "plot 'heatmap_cells.dat' index 0 using 1:2:3:4:5:6:7 with boxxyerror fc palette notitle, " << nonconv
     << curves("#ffffff", "#ff7f00") << "\n";

  // (b) thresholded at the cutoff.
  gp << "set output 'test_loss_cutoff.png'\n";
  gp << fmt::format("set title {}\n",
                    gp_string(fmt::format("{}\n(b) test loss thresholded at {:g}", opt.title, opt.cutoff)));
  gp << "unset colorbox\n";
  gp << "plot 'heatmap_cells.dat' index 0 using 1:2:3:4:5:6:($8 > 0 ? 0x2c7bb6 : 0xd7191c) with boxxyerror "
        "fc rgb variable notitle, "
     << nonconv << ", NaN with boxes fs solid fc rgb '#2c7bb6' title "
     << gp_string(fmt::format("benign: test loss ≤ {:g}", opt.cutoff)) << ", NaN with boxes fs solid fc rgb '#d7191c' title "
     << gp_string(fmt::format("harmful: test loss > {:g}", opt.cutoff))
     << curves("#000000", "#ffd700") << "\n";
  gp.close();
  run_gnuplot(script);
  return {dir / "test_loss.png", dir / "test_loss_cutoff.png"};
}

}  // namespace bovit
