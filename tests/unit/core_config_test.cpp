// Configuration: errors name the key, every preset loads and validates, --set overrides apply.
#include "bovit/config.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace bovit {
namespace {

// Runs `f`, expects config_error, and checks that its message contains every word of `names`.
::testing::AssertionResult fails_naming(const std::function<void()>& f, std::initializer_list<std::string> names) {
  try {
    f();
  } catch (const config_error& e) {
    const std::string msg = e.what();
    for (const auto& n : names)
      if (msg.find(n) == std::string::npos)
        return ::testing::AssertionFailure() << "message '" << msg << "' does not name '" << n << "'";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-config error: " << e.what();
  }
  return ::testing::AssertionFailure() << "no config_error";
}

TEST(Config, UnknownKeyIsNamed) {
  config c;
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.nope=1"); }, {"data.nope"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "nosection.N=1"); }, {"nosection.N"}));
  EXPECT_TRUE(fails_naming([&] { parse_config("[model]\nd_hh = 3\n", "inline.toml"); }, {"model.d_hh"}));
  EXPECT_TRUE(fails_naming([&] { parse_config("[extra]\nx = 3\n", "inline.toml"); }, {"extra.x"}));
}

TEST(Config, WrongTypeIsNamed) {
  config c;
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.N=abc"); }, {"data.N"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.N=2.5"); }, {"data.N"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.orthogonal_noise=3"); }, {"data.orthogonal_noise"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "train.eta=\"fast\""); }, {"train.eta"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "run.engine=sparse"); }, {"run.engine"}));
  EXPECT_TRUE(fails_naming([&] { parse_config("[data]\nM = \"many\"\n", "inline.toml"); }, {"data.M"}));
}

TEST(Config, OutOfRangeValueIsNamed) {
  config c;
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.N=0"); }, {"data.N"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.M=1"); }, {"data.M"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.mu_norm=-1"); }, {"data.mu_norm"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "model.tau=0"); }, {"model.tau"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "train.eta=nan"); }, {"train.eta"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "check.delta_att=2"); }, {"check.delta_att"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "run.seed=-3"); }, {"run.seed"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.noise_sigma=[]"); }, {"data.noise_sigma"}));
  EXPECT_TRUE(fails_naming([&] { apply_override(c, "data.N"); }, {"data.N"}));  // no '='
}

TEST(Config, InconsistentValuesFailValidation) {
  config c;
  c.data.N = 5;
  EXPECT_TRUE(fails_naming([&] { c.validate(); }, {"data.N"}));
  c.data.labels = "rademacher";
  EXPECT_NO_THROW(c.validate());
  config t;
  t.data.N_test = 7;
  EXPECT_TRUE(fails_naming([&] { t.validate(); }, {"data.N_test"}));
  config s;
  s.data.M = 2;
  s.data.noise_sigma = {1.0, 2.0};
  EXPECT_TRUE(fails_naming([&] { s.validate(); }, {"data.noise_sigma"}));
  config w;
  w.model.train_w_O = true;
  w.run.engine = "span";
  EXPECT_TRUE(fails_naming([&] { w.validate(); }, {"model.train_w_O"}));
}

TEST(Config, UnknownPresetIsNamed) {
  EXPECT_TRUE(fails_naming([] { load_preset("no-such-preset"); }, {"no-such-preset"}));
  EXPECT_TRUE(fails_naming([] { load_preset("/nonexistent/dir/x.toml"); }, {"/nonexistent/dir/x.toml"}));
}

TEST(Config, EveryPresetLoadsAndValidates) {
  const auto names = list_presets();
  for (const char* required : {"fig1", "dynamics-harmful", "dynamics-benign", "theory-benign", "theory-harmful"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required << " is not listed";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(BOVIT_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".toml") continue;
    ++files;
    SCOPED_TRACE(e.path().string());
    config c;
    ASSERT_NO_THROW(c = load_preset(e.path().string()));
    EXPECT_NO_THROW(c.validate());
    EXPECT_EQ(c.preset, e.path().stem().string());
    // The JSON record round-trips through the override path.
    const auto j = to_json(c);
    EXPECT_EQ(j["data"]["N"].get<int>(), c.data.N);
    EXPECT_EQ(j["preset"].get<std::string>(), c.preset);
  }
  EXPECT_GE(files, 5);
}

TEST(Config, PresetsCarryThePapersSettings) {
  const auto fig1 = load_preset("fig1");
  EXPECT_EQ(fig1.data.M, 16);
  EXPECT_EQ(fig1.data.d, 1024);
  EXPECT_EQ(fig1.model.d_h, 512);
  EXPECT_EQ(fig1.data.sigma(1), 4.0);
  EXPECT_EQ(fig1.data.sigma(15), 0.2);
  EXPECT_DOUBLE_EQ(fig1.data.snr(), 5.0);  // ‖μ‖ = 32 ↔ SNR = 5
  EXPECT_FALSE(fig1.model.train_w_O);
  const auto benign = load_preset("theory-benign");
  EXPECT_TRUE(benign.data.orthogonal_noise);
  EXPECT_EQ(benign.model.init, "gaussian");
}

TEST(Config, SetOverridesApply) {
  config c = load_preset("fig1");
  apply_overrides(c, {"data.N=20", "model.d_h=5", "train.max_steps=40", "train.stop_loss=0", "data.mu_norm=48",
                      "data.noise_sigma=[1.5, 0.25]", "run.engine=dense", "data.orthogonal_noise=true",
                      "data.signal_basis=rotated", "run.seed=99"});
  EXPECT_EQ(c.data.N, 20);
  EXPECT_EQ(c.model.d_h, 5);
  EXPECT_EQ(c.train.max_steps, 40);
  EXPECT_EQ(c.train.stop_loss, 0.0);
  EXPECT_EQ(c.data.mu_norm, 48.0);  // an integer literal is accepted for a real key
  EXPECT_EQ(c.data.noise_sigma, (std::vector<double>{1.5, 0.25}));
  EXPECT_EQ(c.run.engine, "dense");
  EXPECT_TRUE(c.data.orthogonal_noise);
  EXPECT_EQ(c.data.signal_basis, "rotated");
  EXPECT_EQ(c.run.seed, 99u);
  EXPECT_NO_THROW(c.validate());
  // Keys not overridden keep the preset's values.
  EXPECT_EQ(c.data.M, 16);
  EXPECT_EQ(c.model.d_v, 512);
  // Every key in the schema is listed by describe_keys.
  const auto keys = describe_keys();
  for (const char* k : {"data.N", "model.tau", "train.stop_loss", "run.precision", "check.kappa"})
    EXPECT_NE(keys.find(k), std::string::npos) << k;
}

}  // namespace
}  // namespace bovit
