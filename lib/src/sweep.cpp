#include "bovit/experiments/sweep.hpp"
#include "bovit/parallel.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>


namespace bovit {

std::vector<double> grid_mu_values(const grid_config& grid) {
  if (!grid.mu_norm.empty()) return grid.mu_norm;
  std::vector<double> mu(100);
  for (int i = 0; i < 100; ++i) mu[i] = i + 1;
  return mu;
}

std::vector<sweep_cell> grid_cells(const config& cfg) {
  std::vector<sweep_cell> cells;
  const auto mu = grid_mu_values(cfg.grid);
  for (int N : cfg.grid.N)
    for (double m : mu)
      for (int k = 0; k < cfg.grid.seeds; ++k) cells.push_back({N, m, k});
  return cells;
}


const std::string& cells_csv_header() {
  static const std::string h =
      "N,mu_norm,snr,seed,train_loss,test_loss,test_error,steps,converged,cell_seed,attn_signal";
  return h;
}

std::string format_cell_row(const cell_result& c) {
  return fmt::format("{},{:.17g},{:.17g},{},{:.17g},{:.17g},{:.17g},{},{},{},{:.17g}", c.N, c.mu_norm, c.snr,
                     c.seed_index, c.train_loss, c.test_loss, c.test_error, c.steps, c.converged ? 1 : 0, c.seed,
                     c.attn_signal);
}

namespace {

using cell_key = std::tuple<int, double, int>;
cell_key key_of(const cell_result& c) { return {c.N, c.mu_norm, c.seed_index}; }

double parse_double(const std::string& s, const std::filesystem::path& csv, int line) {
  if (s == "nan" || s == "-nan") return std::nan("");
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw config_error(fmt::format("{}:{}: '{}' is not a number", csv.string(), line, s));
  }
}

// Reads the complete lines of `csv`; returns the byte length of the complete part.
std::vector<cell_result> parse_cells(const std::filesystem::path& csv, std::size_t* complete_bytes) {
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw config_error(fmt::format("cannot read {}", csv.string()));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  const std::size_t end = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  if (complete_bytes) *complete_bytes = end;
  std::vector<cell_result> out;
  std::istringstream lines(text.substr(0, end));
  std::string line;
  int no = 0;
  while (std::getline(lines, line)) {
    ++no;
    if (no == 1) {
      if (line != cells_csv_header())
        throw config_error(fmt::format("{}: header is not '{}'", csv.string(), cells_csv_header()));
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (f.size() != 11)
      throw config_error(fmt::format("{}:{}: expected 11 columns, found {}", csv.string(), no, f.size()));
    cell_result c;
    c.N = static_cast<int>(parse_double(f[0], csv, no));
    c.mu_norm = parse_double(f[1], csv, no);
    c.snr = parse_double(f[2], csv, no);
    c.seed_index = static_cast<int>(parse_double(f[3], csv, no));
    c.train_loss = parse_double(f[4], csv, no);
    c.test_loss = parse_double(f[5], csv, no);
    c.test_error = parse_double(f[6], csv, no);
    c.steps = static_cast<int>(parse_double(f[7], csv, no));
    c.converged = f[8] == "1";
    try {
      c.seed = std::stoull(f[9]);
    } catch (const std::exception&) {
      throw config_error(fmt::format("{}:{}: '{}' is not a seed", csv.string(), no, f[9]));
    }
    c.attn_signal = parse_double(f[10], csv, no);
    out.push_back(c);
  }
  if (no == 0 && !text.empty()) {
    // Only a partial header: treat as empty.
  }
  return out;
}

class sweep_progress {
 public:
  sweep_progress(bool enabled, std::string label, int total)
      : enabled_(enabled), label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()) {}
  void update(int done, bool final = false) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double frac = total_ ? static_cast<double>(done) / total_ : 1.0;
    const int width = 30, fill = static_cast<int>(frac * width);
    const double eta = done > 0 ? secs / done * (total_ - done) : 0.0;
    std::fprintf(stderr, "\r%s [%s%s] %d/%d  %.0fs elapsed, ETA %.0fs   ", label_.c_str(),
                 std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(), done, total_, secs, eta);
    if (final) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::string label_;
  int total_;
  std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace

std::vector<cell_result> read_cells_csv(const std::filesystem::path& csv) { return parse_cells(csv, nullptr); }

void write_cells_csv(const std::filesystem::path& csv, const std::vector<cell_result>& cells) {
  const auto tmp = std::filesystem::path(csv.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw config_error(fmt::format("cannot write {}", tmp.string()));
    out << cells_csv_header() << '\n';
    for (const auto& c : cells) out << format_cell_row(c) << '\n';
    if (!out.flush()) throw config_error(fmt::format("cannot write {}", tmp.string()));
  }
  std::filesystem::rename(tmp, csv);
}

std::vector<cell_result> run_sweep(const config& cfg, const std::filesystem::path& csv, const sweep_options& opt,
                                   sweep_stats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto cells = grid_cells(cfg);
  std::map<cell_key, std::size_t> index;
  for (std::size_t i = 0; i < cells.size(); ++i) index[{cells[i].N, cells[i].mu_norm, cells[i].seed_index}] = i;

  std::vector<cell_result> results(cells.size());
  std::vector<char> done(cells.size(), 0);
  int reused = 0;
  const bool exists = std::filesystem::exists(csv);
  if (exists && !opt.resume)
    throw config_error(fmt::format("{} exists: pass --resume to continue that sweep, or choose another --out",
                                   csv.string()));
  if (exists) {
    std::size_t complete = 0;
    const auto old = parse_cells(csv, &complete);
    if (complete == 0) {
      std::filesystem::remove(csv);
    } else {
      std::filesystem::resize_file(csv, complete);  // drop a partial last line
      for (const auto& c : old) {
        auto it = index.find(key_of(c));
        if (it == index.end())
          throw config_error(fmt::format("{}: cell N={} mu_norm={} seed={} is not in this grid (grid.N, "
                                         "grid.mu_norm, grid.seeds differ from the interrupted sweep)",
                                         csv.string(), c.N, c.mu_norm, c.seed_index));
        if (c.seed != cell_seed(cfg.run.seed, c.N, c.mu_norm, c.seed_index))
          throw config_error(fmt::format("{}: cell N={} mu_norm={} seed={} was made with another run.seed",
                                         csv.string(), c.N, c.mu_norm, c.seed_index));
        if (!done[it->second]) ++reused;
        results[it->second] = c;
        done[it->second] = 1;
      }
    }
  }
  const bool fresh = !std::filesystem::exists(csv);
  std::FILE* out = std::fopen(csv.c_str(), "ab");
  if (!out) throw config_error(fmt::format("cannot write {}", csv.string()));
  if (fresh) {
    std::fprintf(out, "%s\n", cells_csv_header().c_str());
    std::fflush(out);
  }

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cells.size(); ++i)
    if (!done[i]) todo.push_back(i);
  int threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::max(1, std::min<int>(threads, static_cast<int>(todo.size())));
  set_thread_budget(1);

  std::atomic<std::size_t> next{0};
  std::atomic<int> finished{0};
  std::mutex io;
  std::exception_ptr first_error;
  sweep_progress bar(opt.progress, opt.label, static_cast<int>(todo.size()));
  auto worker = [&] {
    for (;;) {
      const std::size_t j = next.fetch_add(1);
      if (j >= todo.size()) return;
      const auto& c = cells[todo[j]];
      cell_result r;
      try {
        r = run_cell(cfg, c.N, c.mu_norm, c.seed_index);
      } catch (...) {
        std::lock_guard lock(io);
        if (!first_error) first_error = std::current_exception();
        next = todo.size();  // stop handing out cells
        return;
      }
      std::lock_guard lock(io);
      results[todo[j]] = r;
      const std::string row = format_cell_row(r) + "\n";
      std::fwrite(row.data(), 1, row.size(), out);
      std::fflush(out);
      bar.update(++finished);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  std::fclose(out);
  if (first_error) std::rethrow_exception(first_error);
  bar.update(finished, true);
  write_cells_csv(csv, results);

  if (stats) {
    stats->total = static_cast<int>(cells.size());
    stats->reused = reused;
    stats->ran = finished;
    stats->threads = threads;
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return results;
}

}  // namespace bovit
