// The bovit command-line tool, run as a subprocess: exit codes and messages for bad input, the
// files `train` writes, and `export` checked by the independent numpy autograd script.
#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bovit {
namespace {

namespace fs = std::filesystem;
using test::slurp;

struct outcome {
  int code = -1;
  std::string out, err;
};


std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs `command` through the shell with stdout and stderr captured in `dir`.
outcome shell(const std::string& command, const fs::path& dir) {
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  const int status = std::system((command + " >" + quote(out.string()) + " 2>" + quote(err.string())).c_str());
  outcome o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = slurp(out);
  o.err = slurp(err);
  return o;
}

outcome bovit(const std::string& args, const fs::path& dir) { return shell(quote(BOVIT_BINARY) + " " + args, dir); }

std::string describe(const outcome& o) { return "exit " + std::to_string(o.code) + "\nstdout: " + o.out + "\nstderr: " + o.err; }

TEST(Cli, BadSetExitsWith2AndNamesTheKey) {
  test::temp_dir dir("cli-bad-set");
  const auto out = quote((dir.path() / "run").string());
  for (const std::string& set : {"data.nope=1", "data.N=abc", "data.N=0", "model.tau=-1", "data.N=5"}) {
    const auto key = set.substr(0, set.find('='));
    const auto o = bovit("train --set " + set + " --out " + out, dir.path());
    EXPECT_EQ(o.code, 2) << set << "\n" << describe(o);
    EXPECT_NE(o.err.find(key), std::string::npos) << set << "\n" << describe(o);
  }
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "result.json"));
}

TEST(Cli, UnknownPresetExitsWith2) {
  test::temp_dir dir("cli-preset");
  const auto o = bovit("train --preset no-such-preset --out " + quote((dir.path() / "run").string()), dir.path());
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_NE(o.err.find("no-such-preset"), std::string::npos) << describe(o);
}

TEST(Cli, BadArgumentsExitWith2) {
  test::temp_dir dir("cli-args");
  EXPECT_EQ(bovit("train", dir.path()).code, 2);  // --out is required
  EXPECT_EQ(bovit("no-such-command", dir.path()).code, 2);
  EXPECT_EQ(bovit("train --engine sparse --out x", dir.path()).code, 2);
}

TEST(Cli, TrainWritesRunTrajectoryAndResult) {
  test::temp_dir dir("cli-train");
  const auto run = dir.path() / "run";
  const auto o = bovit("train --preset theory-benign --set data.d=60 --set data.N=6 --set train.max_steps=30 "
                       "--set train.stop_loss=0 --set record.test_every=0 --out " + quote(run.string()),
                       dir.path());
  ASSERT_EQ(o.code, 0) << describe(o);
  for (const char* f : {"run.json", "trajectory.csv", "result.json"}) ASSERT_TRUE(fs::exists(run / f)) << f;
  const auto meta = nlohmann::json::parse(slurp(run / "run.json"));
  EXPECT_EQ(meta["config"]["data"]["d"].get<int>(), 60);
  EXPECT_EQ(meta["config"]["data"]["N"].get<int>(), 6);
  EXPECT_EQ(meta["config"]["preset"].get<std::string>(), "theory-benign");
  EXPECT_EQ(meta["precision"].get<std::string>(), "double");
  const auto res = nlohmann::json::parse(slurp(run / "result.json"));
  EXPECT_EQ(res["steps"].get<int>(), 30);
  EXPECT_EQ(res["stop_reason"].get<std::string>(), "budget");
  EXPECT_TRUE(std::isfinite(res["train_loss"].get<double>()));
  EXPECT_TRUE(std::isfinite(res["test_loss"].get<double>()));
  std::istringstream csv(slurp(run / "trajectory.csv"));
  std::string header, line, last;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("step,train_loss,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    last = line;
  }
  EXPECT_EQ(rows, 31);  // steps 0..30
  EXPECT_EQ(last.rfind("30,", 0), 0u) << last;
}

bool python_has_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// Exports `steps` GD steps and runs scripts/autograd_check.py on them; returns the elapsed seconds.
double export_and_check(const std::string& preset, const std::string& engine, const std::string& sets, int steps) {
  test::temp_dir dir("cli-export");
  const auto out = dir.path() / "export";
  const auto t0 = std::chrono::steady_clock::now();
  const auto e = bovit("export --preset " + preset + " --engine " + engine + " " + sets + " --steps " +
                           std::to_string(steps) + " --out " + quote(out.string()),
                       dir.path());
  EXPECT_EQ(e.code, 0) << preset << "/" << engine << "\n" << describe(e);
  if (e.code != 0) return 0;
  const auto script = fs::path(BOVIT_SOURCE_DIR) / "scripts" / "autograd_check.py";
  const auto c = shell("/usr/bin/python3 " + quote(script.string()) + " " + quote(out.string()) + " --tol 1e-9", dir.path());
  EXPECT_EQ(c.code, 0) << preset << "/" << engine << "\n" << describe(c);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class CliExport : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy: the autograd cross-check cannot run";
  }
};

TEST_P(CliExport, TheoryBenignAgreesWithNumpyAutograd) {
  export_and_check("theory-benign", GetParam(), "", 25);
}

TEST_P(CliExport, Fig1ShapesWithFewSamplesAgreeWithNumpyAutograd) {
  export_and_check("fig1", GetParam(), "--set data.N=4", 25);
}

TEST_P(CliExport, Fig1FullShapesAgreeWithNumpyAutograd) {
  const double seconds = export_and_check("fig1", GetParam(), "", 25);
  EXPECT_LT(seconds, 60.0) << "the full-shape fig1 export and check took too long";
}

INSTANTIATE_TEST_SUITE_P(Engines, CliExport, ::testing::Values("dense", "span"),
                         [](const auto& info) { return info.param; });

// A trained output head (dense engine only) and τ ≠ 1.
TEST(Cli, TrainedOutputHeadAgreesWithNumpyAutograd) {
  if (!python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  export_and_check("theory-benign", "dense", "--set model.train_w_O=true --set model.tau=0.5 --set data.d=200", 25);
}

// The cross-check must be able to fail: a corrupted gradient file is reported with exit 1.
TEST(Cli, AutogradCheckRejectsACorruptedExport) {
  if (!python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  test::temp_dir dir("cli-corrupt");
  const auto out = dir.path() / "export";
  ASSERT_EQ(bovit("export --preset theory-benign --set data.d=100 --steps 2 --out " + quote(out.string()), dir.path()).code, 0);
  const auto script = fs::path(BOVIT_SOURCE_DIR) / "scripts" / "autograd_check.py";
  // Move one entry of an exported gradient by 1e-4 of the array's largest entry.
  fs::path grad;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().filename().string().find("grad") != std::string::npos && e.path().extension() == ".npy") {
      grad = e.path();
      break;
    }
  ASSERT_FALSE(grad.empty()) << "no gradient file in the export";
  const auto edit = shell("/usr/bin/python3 -c \"import numpy as np; p=" + quote(grad.string()) +
                              "; a=np.load(p); a.flat[0] += 1e-4 * abs(a).max(); np.save(p, a)\"",
                          dir.path());
  ASSERT_EQ(edit.code, 0) << describe(edit);
  const auto c = shell("/usr/bin/python3 " + quote(script.string()) + " " + quote(out.string()) + " --tol 1e-9", dir.path());
  EXPECT_EQ(c.code, 1) << describe(c);
}

}  // namespace
}  // namespace bovit
