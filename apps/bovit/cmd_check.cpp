// `bovit check`: the theorem-check suite (checks/suite.hpp) on the default or given presets.
// Prints a table (pass rate over seeds per check and preset, key measurements), optionally writes
// the JSON report, and exits 0 exactly when every check that ran holds (1 otherwise).
#include "commands.hpp"
#include "common.hpp"

#include "bovit/checks/suite.hpp"
#include "bovit/run.hpp"
#include "bovit/train/progress.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

namespace bovit::cli {
namespace {

// The first n code points of a UTF-8 string (fmt pads by code points, so columns stay aligned).
std::string clip_utf8(const std::string& s, std::size_t n) {
  std::size_t bytes = 0, points = 0;
  while (bytes < s.size() && points < n) {
    ++bytes;
    while (bytes < s.size() && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) ++bytes;
    ++points;
  }
  return s.substr(0, bytes);
}

std::string num(double x) {
  if (std::isnan(x)) return "-";
  if (x == std::round(x) && std::abs(x) < 1e7) return fmt::format("{}", static_cast<long long>(x));
  return fmt::format("{:.4g}", x);
}

double mean_of(const std::vector<const checks::suite_entry*>& rows, const std::string& key) {
  double s = 0;
  int n = 0;
  for (auto* e : rows) {
    const double v = e->result.value(key);
    if (!std::isnan(v)) s += v, ++n;
  }
  return n ? s / n : std::nan("");
}

nlohmann::json json_number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

int run_check(const checks::suite_options& opt, const std::string& json_path) {
  const auto start = std::chrono::steady_clock::now();
  const auto entries = checks::run_suite(opt);
  if (opt.progress) std::fprintf(stderr, "\r\033[K");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // One row per (check, preset), in first-seen order.
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::vector<const checks::suite_entry*>> groups;
  bool all = true;
  for (const auto& e : entries) {
    const auto key = std::make_pair(e.result.id, e.preset);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&e);
    all = all && e.result.holds;
  }
  fmt::print("{:<31} {:<30} {:<15} {:>6} {:>11} {:>11}  {}\n", "check", "paper ref", "preset", "pass", "measured",
             "bound", "key values");
  for (const auto& key : order) {
    const auto& rows = groups[key];
    int pass = 0;
    for (auto* e : rows) pass += e->result.holds ? 1 : 0;
    std::string keys;
    for (const auto& [k, v] : rows.front()->result.values)
      keys += fmt::format("{}{}={}", keys.empty() ? "" : " ", k, num(mean_of(rows, k)));
    const auto& r = rows.front()->result;
    fmt::print("{:<31} {:<30} {:<15} {:>3}/{:<2} {:>11} {:>11}  {}\n", r.id, clip_utf8(r.paper_ref, 30), key.second,
               pass, rows.size(), num(r.measured), num(r.bound), keys);
  }
  // The stage timeline per preset (means over seeds).
  fmt::print("\n{:<15} {:>7} {:>7} {:>7} {:>9} {:>10} {:>10}\n", "preset", "T_1", "T_2", "T_eps", "ratio",
             "attention", "test loss");
  std::vector<std::string> presets;
  for (const auto& [id, preset] : order)
    if (std::find(presets.begin(), presets.end(), preset) == presets.end()) presets.push_back(preset);
  for (const auto& p : presets) {
    auto get = [&](const std::string& id, const std::string& k) {
      auto it = groups.find({id, p});
      return it == groups.end() ? std::nan("") : mean_of(it->second, k);
    };
    const double test = std::isnan(get("gen.benign", "test_loss")) ? get("gen.harmful", "test_loss")
                                                                    : get("gen.benign", "test_loss");
    fmt::print("{:<15} {:>7} {:>7} {:>7} {:>9} {:>10} {:>10}\n", p, num(get("stages.order", "T_1")),
               num(get("stages.order", "T_2")), num(get("stages.order", "T_eps")),
               num(get("stage1.signal_vs_noise", "ratio")),
               num(get("stage2.attention_concentration", "final_attention")), num(test));
  }
  int failed = 0;
  for (const auto& e : entries)
    if (!e.result.holds) {
      ++failed;
      fmt::print("\nFAILED {} on {} (seed {}): {}", e.result.id, e.preset, e.seed, e.result.detail);
    }
  fmt::print("{}{} results, {} failed, {:.1f} s: {}\n", failed ? "\n\n" : "\n", entries.size(), failed, secs,
             all ? "every check holds" : "some checks do not hold");

  if (!json_path.empty()) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& e : entries) {
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [k, v] : e.result.values) values[k] = json_number(v);
      results.push_back({{"id", e.result.id},
                         {"preset", e.preset},
                         {"seed", e.seed},
                         {"holds", e.result.holds},
                         {"measured", json_number(e.result.measured)},
                         {"bound", json_number(e.result.bound)},
                         {"margin", json_number(e.result.margin)},
                         {"first_violation_step", e.result.first_violation_step},
                         {"paper_ref", e.result.paper_ref},
                         {"detail", e.result.detail},
                         {"values", values}});
    }
    nlohmann::json report = {{"all_hold", all}, {"version", version()}, {"seconds", secs}, {"results", results}};
    write_json(json_path, report.dump(2));
    fmt::print("wrote {}\n", json_path);
  }
  return all ? 0 : 1;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "run the theorem-check suite (docs/checks.md); exit 0 when every check holds");
  static std::vector<std::string> presets;
  static std::vector<std::string> sets;
  static int seeds = 1;
  static std::string json;
  static bool no_sweeps = false;
  cmd->add_option("--preset", presets, "preset to check (repeatable; default: theory-benign and theory-harmful)");
  cmd->add_option("--seeds", seeds, "seeds per preset (run.seed, run.seed + 1, …)")->check(CLI::Range(1, 1000));
  cmd->add_option("--json", json, "write the JSON report here");
  cmd->add_option("--set", sets, "override a config value in every preset: section.key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-sweeps", no_sweeps, "skip conv.time_scaling and phase.boundary");
  cmd->callback([&exit_code] {
    exit_code = guarded([] {
      checks::suite_options opt;
      if (!presets.empty()) opt.presets = presets;
      opt.sets = sets;
      opt.seeds = seeds;
      opt.theorem_sweeps = !no_sweeps;
      if (stderr_is_terminal())
        opt.progress = [](const std::string& s) {
          std::fprintf(stderr, "\r\033[Kbovit check: %s", s.c_str());
          std::fflush(stderr);
        };
      return run_check(opt, json);
    });
  });
}

}  // namespace bovit::cli
