// The sweep commands end to end through the CLI: a sweep killed with SIGKILL mid-run resumes to
// the same cells.csv as an uninterrupted run; missing MNIST files exit 2; dynamics writes its CSV.
#include "bovit_test/fixtures.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using bovit::test::fresh_dir;
using bovit::test::slurp;

namespace {

int count_lines(const fs::path& p) {
  const auto s = slurp(p);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Runs bovit with `args`, stdout and stderr to `log`; returns the exit code.
int run_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::string cmd = BOVIT_BINARY;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >'" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const std::vector<std::string> sweep_args = {
    "phase", "--no-plots", "--threads", "1", "--set", "data.d=128", "--set", "model.d_h=64", "--set", "model.d_v=64",
    "--set", "grid.N=[4,8,12]", "--set", "grid.mu_norm=[10,20,30,40]", "--seeds", "2"};

}  // namespace

TEST(ExperimentsCli, KilledSweepResumesToTheSameCells) {
  const auto full = fresh_dir("full"), killed = fresh_dir("killed");
  auto args = sweep_args;
  args.insert(args.end(), {"--out", full.string()});
  ASSERT_EQ(run_cli(args, fs::temp_directory_path() / "bovit_cli_full.log"), 0);
  const auto reference = slurp(full / "cells.csv");
  ASSERT_EQ(count_lines(full / "cells.csv"), 1 + 24);

  // Start the same sweep, SIGKILL it once a few cells are on disk.
  std::vector<std::string> kargs = sweep_args;
  kargs.insert(kargs.end(), {"--out", killed.string()});
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(BOVIT_BINARY)};
    for (auto& a : kargs) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    execv(BOVIT_BINARY, argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         (!fs::exists(killed / "cells.csv") || count_lines(killed / "cells.csv") < 1 + 5))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  const int kept = count_lines(killed / "cells.csv") - 1;
  EXPECT_GE(kept, 5);
  EXPECT_LT(kept, 24);

  kargs.push_back("--resume");
  const auto log = fs::temp_directory_path() / "bovit_cli_resume.log";
  ASSERT_EQ(run_cli(kargs, log), 0) << slurp(log);
  EXPECT_NE(slurp(log).find("(" + std::to_string(kept) + " resumed)"), std::string::npos) << slurp(log);
  EXPECT_EQ(slurp(killed / "cells.csv"), reference);
  fs::remove_all(full);
  fs::remove_all(killed);
}

TEST(ExperimentsCli, MnistWithoutIdxFilesExitsTwoNamingTheFile) {
  const auto out = fresh_dir("mnist");
  const auto log = fs::temp_directory_path() / "bovit_cli_mnist.log";
  const int code = run_cli({"mnist", "--set", "data.mnist_dir=/nonexistent/bovit-mnist", "--out", out.string()}, log);
  const auto text = slurp(log);
  EXPECT_EQ(code, 2) << text;
  EXPECT_NE(text.find("/nonexistent/bovit-mnist"), std::string::npos) << text;
  EXPECT_NE(text.find("fetch-mnist.sh"), std::string::npos) << text;
  fs::remove_all(out);
}

TEST(ExperimentsCli, ExistingSweepWithoutResumeExitsTwo) {
  const auto out = fresh_dir("exists");
  fs::create_directories(out);
  std::ofstream(out / "cells.csv") << "N\n";
  const auto log = fs::temp_directory_path() / "bovit_cli_exists.log";
  auto args = sweep_args;
  args.insert(args.end(), {"--out", out.string()});
  EXPECT_EQ(run_cli(args, log), 2) << slurp(log);
  EXPECT_NE(slurp(log).find("--resume"), std::string::npos) << slurp(log);
  fs::remove_all(out);
}

TEST(ExperimentsCli, DynamicsWritesMeanAndStdPerStep) {
  const auto out = fresh_dir("dyn");
  const auto log = fs::temp_directory_path() / "bovit_cli_dyn.log";
  ASSERT_EQ(run_cli({"dynamics", "--preset", "dynamics-benign", "--runs", "2", "--no-plots", "--set", "data.d=256",
                     "--set", "model.d_h=128", "--set", "model.d_v=64", "--set", "train.max_steps=40", "--out",
                     out.string()},
                    log),
            0)
      << slurp(log);
  std::ifstream in(out / "dynamics.csv");
  std::string header, first, line, last;
  std::getline(in, header);
  std::getline(in, first);
  int rows = 1;
  while (std::getline(in, line)) last = line, ++rows;
  EXPECT_EQ(rows, 41);
  EXPECT_EQ(header.rfind("step,train_loss_mean,train_loss_std,test_loss_mean", 0), 0u) << header;
  // Benign setting: the training loss falls and attention moves onto μ₊ (column 6: attn_mu_mean).
  auto field = [](const std::string& row, int k) {
    std::stringstream s(row);
    std::string f;
    for (int i = 0; i <= k; ++i) std::getline(s, f, ',');
    return std::stod(f);
  };
  EXPECT_LT(field(last, 1), field(first, 1));
  EXPECT_GT(field(last, 5), field(first, 5));
  EXPECT_GT(field(last, 2), 0.0) << "two runs with different seeds should differ";
  fs::remove_all(out);
}
