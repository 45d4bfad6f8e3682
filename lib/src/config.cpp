#include "bovit/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#ifndef BOVIT_CONFIG_DIR
#define BOVIT_CONFIG_DIR ""
#endif

namespace bovit {

double data_config::sigma(int token) const {
  if (token < 1 || token >= M) throw config_error(fmt::format("noise token index {} outside 1..{}", token, M - 1));
  const auto i = static_cast<std::size_t>(token - 1);
  return i < noise_sigma.size() ? noise_sigma[i] : noise_sigma.back();
}

double data_config::snr() const { return mu_norm / (sigma_ref * std::sqrt(static_cast<double>(d))); }

namespace {

struct field {
  std::string key;
  std::string accepts;
  std::string help;
  std::function<void(config&, const toml::node&)> set;
  std::function<nlohmann::json(const config&)> get;
};

[[noreturn]] void reject(const std::string& key, const std::string& accepts, const std::string& got) {
  throw config_error(fmt::format("{}: got {}; accepts {}", key, got, accepts));
}

std::string show(const toml::node& n) {
  std::ostringstream s;
  n.visit([&](const auto& v) {
    if constexpr (toml::is_string<decltype(v)>) s << '"' << v.get() << '"';
    else if constexpr (toml::is_table<decltype(v)>) s << "a table";
    else s << v;
  });
  return s.str();
}

double read_real(const toml::node& n, const std::string& key, const std::string& accepts) {
  if (auto v = n.value_exact<double>()) return *v;
  if (auto v = n.value_exact<std::int64_t>()) return static_cast<double>(*v);
  reject(key, accepts, show(n));
}

std::int64_t read_int(const toml::node& n, const std::string& key, const std::string& accepts) {
  if (auto v = n.value_exact<std::int64_t>()) return *v;
  reject(key, accepts, show(n));
}

template <class Section, class T>
using member = T Section::*;

template <class Section>
Section& section_of(config& c) {
  if constexpr (std::is_same_v<Section, data_config>) return c.data;
  else if constexpr (std::is_same_v<Section, model_config>) return c.model;
  else if constexpr (std::is_same_v<Section, train_config>) return c.train;
  else if constexpr (std::is_same_v<Section, run_config>) return c.run;
  else if constexpr (std::is_same_v<Section, record_config>) return c.record;
  else if constexpr (std::is_same_v<Section, grid_config>) return c.grid;
  else return c.check;
}
template <class Section>
const Section& section_of(const config& c) {
  return section_of<Section>(const_cast<config&>(c));
}

template <class Section>
field int_field(std::string key, member<Section, int> m, std::int64_t lo, std::int64_t hi, std::string help) {
  std::string accepts = fmt::format("an integer in [{}, {}]", lo, hi);
  return {key, accepts, std::move(help),
          [=](config& c, const toml::node& n) {
            const auto v = read_int(n, key, accepts);
            if (v < lo || v > hi) reject(key, accepts, show(n));
            section_of<Section>(c).*m = static_cast<int>(v);
          },
          [=](const config& c) { return nlohmann::json(section_of<Section>(c).*m); }};
}

template <class Section>
field real_field(std::string key, member<Section, double> m, double lo, double hi, std::string help,
                 bool lo_open = false) {
  std::string accepts = fmt::format("a number in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
  return {key, accepts, std::move(help),
          [=](config& c, const toml::node& n) {
            const double v = read_real(n, key, accepts);
            if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) reject(key, accepts, show(n));
            section_of<Section>(c).*m = v;
          },
          [=](const config& c) { return nlohmann::json(section_of<Section>(c).*m); }};
}

template <class Section>
field bool_field(std::string key, member<Section, bool> m, std::string help) {
  std::string accepts = "true or false";
  return {key, accepts, std::move(help),
          [=](config& c, const toml::node& n) {
            auto v = n.value_exact<bool>();
            if (!v) reject(key, accepts, show(n));
            section_of<Section>(c).*m = *v;
          },
          [=](const config& c) { return nlohmann::json(section_of<Section>(c).*m); }};
}

template <class Section>
field choice_field(std::string key, member<Section, std::string> m, std::vector<std::string> choices,
                   std::string help) {
  std::string accepts = fmt::format("one of {}", fmt::join(choices, ", "));
  if (choices.empty()) accepts = "a string";
  return {key, accepts, std::move(help),
          [=](config& c, const toml::node& n) {
            auto v = n.value_exact<std::string>();
            if (!v) reject(key, accepts, show(n));
            if (!choices.empty() && std::find(choices.begin(), choices.end(), *v) == choices.end())
              reject(key, accepts, show(n));
            section_of<Section>(c).*m = *v;
          },
          [=](const config& c) { return nlohmann::json(section_of<Section>(c).*m); }};
}

template <class Section, class T>
field list_field(std::string key, member<Section, std::vector<T>> m, double lo, double hi, std::string help,
                 bool allow_empty, bool lo_open = false) {
  std::string accepts = fmt::format("a {}list of {} in {}{}, {}]", allow_empty ? "" : "non-empty ",
                                    std::is_integral_v<T> ? "integers" : "numbers", lo_open ? "(" : "[", lo, hi);
  return {key, accepts, std::move(help),
          [=](config& c, const toml::node& n) {
            std::vector<T> out;
            auto push = [&](const toml::node& e) {
              double v = std::is_integral_v<T> ? static_cast<double>(read_int(e, key, accepts))
                                               : read_real(e, key, accepts);
              if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) reject(key, accepts, show(n));
              out.push_back(static_cast<T>(v));
            };
            if (const auto* arr = n.as_array()) {
              for (const auto& e : *arr) push(e);
            } else {
              push(n);  // a single value is a one-element list
            }
            if (out.empty() && !allow_empty) reject(key, accepts, show(n));
            section_of<Section>(c).*m = out;
          },
          [=](const config& c) { return nlohmann::json(section_of<Section>(c).*m); }};
}

field seed_field() {
  std::string key = "run.seed", accepts = "a non-negative integer";
  return {key, accepts, "master seed: every random stream derives from it",
          [=](config& c, const toml::node& n) {
            const auto v = read_int(n, key, accepts);
            if (v < 0) reject(key, accepts, show(n));
            c.run.seed = static_cast<std::uint64_t>(v);
          },
          [](const config& c) { return nlohmann::json(c.run.seed); }};
}

constexpr double inf = std::numeric_limits<double>::infinity();

const std::vector<field>& schema() {
  using D = data_config;
  using Mo = model_config;
  using Tr = train_config;
  using Ru = run_config;
  using Re = record_config;
  using G = grid_config;
  using C = check_config;
  static const std::vector<field> fields = {
      choice_field<D>("data.source", &D::source, {"synthetic", "mnist"}, "where the signal token comes from"),
      int_field<D>("data.N", &D::N, 1, 1000000, "number of training samples"),
      int_field<D>("data.M", &D::M, 2, 100000, "tokens per sample (token 1 is the signal)"),
      int_field<D>("data.d", &D::d, 2, 100000000, "token dimension"),
      real_field<D>("data.mu_norm", &D::mu_norm, 0, 1e12, "signal norm ‖μ‖", true),
      list_field<D, double>("data.noise_sigma", &D::noise_sigma, 0, 1e12,
                            "noise stds σ_2, σ_3, …; the last entry repeats up to σ_M", false),
      real_field<D>("data.sigma_ref", &D::sigma_ref, 0, 1e12, "reference std in SNR = ‖μ‖/(σ_ref √d)", true),
      bool_field<D>("data.orthogonal_noise", &D::orthogonal_noise, "project noise off span{μ₊, μ₋}"),
      choice_field<D>("data.labels", &D::labels, {"balanced", "rademacher"}, "label scheme"),
      choice_field<D>("data.signal_basis", &D::signal_basis, {"standard", "rotated"},
                      "μ± along e₁, e₂ or a random orthonormal pair"),
      int_field<D>("data.N_test", &D::N_test, 1, 10000000, "test samples"),
      int_field<D>("data.digit_pos", &D::digit_pos, 0, 9, "mnist: digit of class +1"),
      int_field<D>("data.digit_neg", &D::digit_neg, 0, 9, "mnist: digit of class −1"),
      choice_field<D>("data.mnist_dir", &D::mnist_dir, {}, "mnist: folder of IDX files (empty: setup cache)"),
      int_field<Mo>("model.d_h", &Mo::d_h, 1, 10000000, "query/key width"),
      int_field<Mo>("model.d_v", &Mo::d_v, 1, 10000000, "value width"),
      real_field<Mo>("model.tau", &Mo::tau, 0, 1e6, "attention logit scale", true),
      bool_field<Mo>("model.train_w_O", &Mo::train_w_O, "train the output head w_O (dense engine)"),
      choice_field<Mo>("model.init", &Mo::init, {"uniform_fan_in", "gaussian"}, "initialisation scheme"),
      real_field<Mo>("model.init_divisor", &Mo::init_divisor, 0, 1e12, "uniform_fan_in: divisor of W_Q, W_K, W_V", true),
      real_field<Mo>("model.sigma_h", &Mo::sigma_h, 0, 1e6, "gaussian: std of W_Q, W_K"),
      real_field<Mo>("model.sigma_V", &Mo::sigma_V, 0, 1e6, "gaussian: std of W_V"),
      real_field<Mo>("model.sigma_O", &Mo::sigma_O, 0, 1e6, "gaussian: std of w_O (0 means 1/√d_v)"),
      real_field<Tr>("train.eta", &Tr::eta, 0, 1e6, "learning rate η", true),
      int_field<Tr>("train.max_steps", &Tr::max_steps, 0, 100000000, "step budget"),
      real_field<Tr>("train.stop_loss", &Tr::stop_loss, 0, 1e6, "stop once the training loss is below this (0: never)"),
      seed_field(),
      choice_field<Ru>("run.engine", &Ru::engine, {"dense", "span"}, "gradient engine"),
      choice_field<Ru>("run.precision", &Ru::precision, {"double", "long-double", "mp50"}, "scalar type"),
      int_field<Re>("record.every", &Re::every, 1, 100000000, "trajectory row every k steps, plus the last"),
      int_field<Re>("record.test_every", &Re::test_every, 0, 100000000,
                    "test loss every k recorded rows (0: only the last row)"),
      list_field<G, int>("grid.N", &G::N, 1, 1000000, "phase grid: sample sizes", false),
      list_field<G, double>("grid.mu_norm", &G::mu_norm, 0, 1e12, "phase grid: ‖μ‖ values (empty: 1..100)", true, true),
      int_field<G>("grid.seeds", &G::seeds, 1, 100000, "phase grid: seeds per cell"),
      real_field<G>("grid.cutoff", &G::cutoff, 0, 1e6, "test-loss cutoff of the thresholded panel", true),
      real_field<G>("grid.reference_c", &G::reference_c, 0, 1e12, "reference curve N·SNR² = c", true),
      real_field<C>("check.delta_att", &C::delta_att, 0, 1, "stage 1: max |S − 1/M| while attention is uniform", true),
      real_field<C>("check.kappa", &C::kappa, 1, 1e6, "stage 1: factor allowed between γ/ρ̄ and its prediction"),
      real_field<C>("check.delta_conc", &C::delta_conc, 0, 1, "stage 2: the winner's attention ends ≥ 1 − δ", true),
      real_field<C>("check.monotone_slack", &C::monotone_slack, 0, 1, "stage 2: allowed dip of the winner's attention"),
      real_field<C>("check.benign_max_test_loss", &C::benign_max_test_loss, 0, 1e6, "gen.benign: test loss bound", true),
      real_field<C>("check.harmful_min_test_loss", &C::harmful_min_test_loss, 0, 1e6, "gen.harmful: test loss floor", true),
      real_field<C>("check.alpha_tolerance", &C::alpha_tolerance, 0, 10, "phase.boundary: allowed |α − 1/2|", true),
      real_field<C>("check.slope_tolerance", &C::slope_tolerance, 0, 10, "conv.time_scaling: allowed |slope + 1|", true),
  };
  return fields;
}

const field* find_field(const std::string& key) {
  for (const auto& f : schema())
    if (f.key == key) return &f;
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& key) {
  const auto dot = key.find('.');
  const std::string section = key.substr(0, dot);
  std::vector<std::string> same_section, sections;
  for (const auto& f : schema()) {
    const auto s = f.key.substr(0, f.key.find('.'));
    if (s == section) same_section.push_back(f.key);
    if (std::find(sections.begin(), sections.end(), s) == sections.end()) sections.push_back(s);
  }
  if (same_section.empty())
    throw config_error(fmt::format("unknown key '{}': sections are [{}]", key, fmt::join(sections, ", ")));
  throw config_error(fmt::format("unknown key '{}': [{}] accepts {}", key, section, fmt::join(same_section, ", ")));
}

void apply_node(config& cfg, const std::string& key, const toml::node& node) {
  const field* f = find_field(key);
  if (!f) unknown_key(key);
  f->set(cfg, node);
}

void walk(config& cfg, const toml::table& table, const std::string& prefix) {
  for (const auto& [k, node] : table) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      if (!prefix.empty()) unknown_key(key);
      walk(cfg, *sub, key);
    } else if (key == "preset") {
      if (auto v = node.value<std::string>()) cfg.preset = *v;
    } else {
      if (prefix.empty()) unknown_key(key);
      apply_node(cfg, key, node);
    }
  }
}

}  // namespace

config parse_config(const std::string& toml_text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw config_error(fmt::format("{}:{}:{}: {}", origin, where.line, where.column, e.description()));
  }
  config cfg;
  walk(cfg, table, "");
  return cfg;
}

std::vector<std::filesystem::path> preset_search_path() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("BOVIT_CONFIG_DIR"); env && *env) dirs.emplace_back(env);
  dirs.emplace_back("configs");
  if (std::string(BOVIT_CONFIG_DIR).size()) dirs.emplace_back(BOVIT_CONFIG_DIR);
  return dirs;
}

std::vector<std::string> list_presets() {
  std::vector<std::string> names;
  for (const auto& dir : preset_search_path()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".toml") {
        auto n = e.path().stem().string();
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      }
  }
  std::sort(names.begin(), names.end());
  return names;
}

config load_preset(const std::string& name_or_path) {
  std::filesystem::path file;
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml")) {
    file = name_or_path;
  } else {
    for (const auto& dir : preset_search_path())
      if (std::filesystem::exists(dir / (name_or_path + ".toml"))) {
        file = dir / (name_or_path + ".toml");
        break;
      }
    if (file.empty())
      throw config_error(fmt::format("unknown preset '{}': known presets are {}", name_or_path,
                                     fmt::join(list_presets(), ", ")));
  }
  std::ifstream in(file);
  if (!in) throw config_error(fmt::format("cannot read preset file '{}'", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  config cfg = parse_config(text.str(), file.string());
  if (cfg.preset == "default") cfg.preset = file.stem().string();
  return cfg;
}

void apply_override(config& cfg, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error(fmt::format("--set '{}': expected section.key=value", assignment));
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  if (!find_field(key)) unknown_key(key);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};  // a bare word is a string
  }
  apply_node(cfg, key, *parsed.get("v"));
}

void apply_overrides(config& cfg, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_override(cfg, a);
}

void config::validate() const {
  if (data.labels == "balanced" && data.N % 2 != 0)
    throw config_error(fmt::format("data.N: balanced labels need an even N, got {}", data.N));
  if (data.labels == "balanced" && data.N_test % 2 != 0)
    throw config_error(fmt::format("data.N_test: balanced labels need an even N_test, got {}", data.N_test));
  if (static_cast<int>(data.noise_sigma.size()) > data.M - 1)
    throw config_error(fmt::format("data.noise_sigma: has {} entries but M − 1 = {} noise tokens",
                                   data.noise_sigma.size(), data.M - 1));
  if (data.orthogonal_noise && data.d < 3)
    throw config_error("data.orthogonal_noise: needs data.d ≥ 3");
  if (data.source == "mnist") {
    if (data.d < 784) throw config_error(fmt::format("data.d: mnist needs d ≥ 784, got {}", data.d));
    if (data.digit_pos == data.digit_neg)
      throw config_error("data.digit_pos: must differ from data.digit_neg");
  }
  if (model.train_w_O && run.engine == "span")
    throw config_error("model.train_w_O: a trained w_O needs run.engine=dense (the span engine keeps w_O fixed)");
}

std::string describe_keys() {
  std::string out;
  for (const auto& f : schema()) out += fmt::format("  {:<28} {}; {}\n", f.key, f.help, f.accepts);
  return out;
}

nlohmann::json to_json(const config& cfg) {
  nlohmann::json j;
  j["preset"] = cfg.preset;
  for (const auto& f : schema()) {
    const auto dot = f.key.find('.');
    j[f.key.substr(0, dot)][f.key.substr(dot + 1)] = f.get(cfg);
  }
  return j;
}

}  // namespace bovit
