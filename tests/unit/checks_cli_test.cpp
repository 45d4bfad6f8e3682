// `bovit check` as a subprocess: the JSON report's shape, exit 0 when everything holds, non-zero
// when a check fails, and exit 2 on bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;

int run(const std::string& args, const fs::path& log) {
  const std::string cmd = std::string(BOVIT_BINARY) + " check " + args + " >'" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path temp(const std::string& name) {
  return fs::temp_directory_path() / ("bovit-checks-cli-" + std::to_string(::getpid()) + "-" + name);
}

TEST(CheckCli, HarmfulPresetWritesAReportAndExitsZero) {
  const auto json = temp("report.json"), log = temp("log.txt");
  ASSERT_EQ(run("--preset theory-harmful --no-sweeps --json '" + json.string() + "'", log), 0);
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  EXPECT_TRUE(report["all_hold"].get<bool>());
  std::set<std::string> ids;
  for (const auto& r : report["results"]) {
    for (const char* key : {"id", "preset", "seed", "holds", "measured", "bound", "margin", "first_violation_step",
                            "paper_ref", "detail"})
      EXPECT_TRUE(r.contains(key)) << key;
    ids.insert(r["id"].get<std::string>());
  }
  for (const char* id : {"grad.fd", "engine.agree", "decomp.identity", "decomp.monotone", "decomp.rate",
                         "stage1.uniform_attention", "stage1.signal_vs_noise", "stage2.attention_concentration",
                         "stage2.qk_direction", "stages.order", "conv.train_loss", "gen.harmful"})
    EXPECT_TRUE(ids.count(id)) << id;
  fs::remove(json);
  fs::remove(log);
}

TEST(CheckCli, AFailingCheckGivesANonZeroExit) {
  const auto json = temp("fail.json"), log = temp("fail.txt");
  // A budget of 60 steps: conv.train_loss (and the checks that need the fit) cannot hold.
  EXPECT_EQ(run("--preset theory-benign --no-sweeps --set train.max_steps=60 --json '" + json.string() + "'", log), 1);
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  EXPECT_FALSE(report["all_hold"].get<bool>());
  bool conv_failed = false;
  for (const auto& r : report["results"])
    if (r["id"] == "conv.train_loss") conv_failed = !r["holds"].get<bool>();
  EXPECT_TRUE(conv_failed);
  fs::remove(json);
  fs::remove(log);
}

TEST(CheckCli, BadInputExitsTwo) {
  const auto log = temp("bad.txt");
  EXPECT_EQ(run("--preset no-such-preset", log), 2);
  EXPECT_EQ(run("--set check.kappa=0.5", log), 2);
  fs::remove(log);
}

}  // namespace
