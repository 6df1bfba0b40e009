// KernelTimes through the clock a compiled model calls (the fake model does not call it, so
// the test plays kiln_run's part).
#include "kiln/kernel_times.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/model_abi.h"
#include "kiln/roofline.h"

namespace {

// Runs entry `entry` as kiln_run would: a tick before each of `calls` kernels and one after.
void run_entry(int entry, int calls, std::chrono::microseconds each) {
  for (int c = 0; c < calls; ++c) {
    kiln_kernel_clock(entry, c);
    std::this_thread::sleep_for(each);
  }
  kiln_kernel_clock(entry, calls);
}

TEST(KernelTimes, TimesEachCallOfTheEntriesThatRan) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  m.entries[0].kernels = {"kiln_first", "kiln_second"}; // the eval entry names none
  std::string path = testing::TempDir() + "kernel_times.json";
  {
    ASSERT_EQ(kiln_kernel_clock, nullptr);
    kiln::KernelTimes times(m, 1);
    ASSERT_NE(kiln_kernel_clock, nullptr);
    for (int run = 0; run < 3; ++run)
      run_entry(0, 2, std::chrono::microseconds(2000));
    run_entry(2, 1, std::chrono::microseconds(0));
    times.write(path);
  }
  EXPECT_EQ(kiln_kernel_clock, nullptr); // unhooked with the KernelTimes

  nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
  ASSERT_EQ(j["entries"].size(), 2u); // the tail entry never ran
  const auto &train = j["entries"][0];
  EXPECT_EQ(train["name"], "train_step");
  EXPECT_EQ(train["runs"], 3);
  ASSERT_EQ(train["kernels"].size(), 2u);
  EXPECT_EQ(train["kernels"][0]["name"], "kiln_first");
  EXPECT_EQ(train["kernels"][1]["name"], "kiln_second");
  for (const auto &k : train["kernels"]) {
    EXPECT_GE(k["median_us"].get<double>(), 2000.0);
    EXPECT_LT(k["median_us"].get<double>(), 200000.0);
    EXPECT_GE(k["total_us"].get<double>(), 3 * 2000.0);
  }
  EXPECT_EQ(j["entries"][1]["name"], "eval");
  EXPECT_EQ(j["entries"][1]["kernels"][0]["name"], "call 0");
  std::remove(path.c_str());
}

// With each call's work in the manifest and this CPU's limits measured (a cache file written
// here with made-up limits), each kernel has its bound and the share of it reached; without the
// limits, only its work.
TEST(KernelTimes, RooflineWhereTheLimitsAreKnown) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  m.vector_lanes = 8;
  // 2 MFLOP at 100 GFLOP/s is 20 us; 1 MB at 10 GB/s is 100 us.
  m.entries[0].kernel_work = {{2'000'000, 1000}, {1000, 1'000'000}};
  std::string cache = testing::TempDir() + "kiln-roofline-cache", path = cache + "/times.json";
  std::filesystem::create_directories(cache + "/kiln");
  std::string old = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  auto timed = [&] {
    kiln::KernelTimes times(m, 2);
    run_entry(0, 2, std::chrono::microseconds(1000));
    times.write(path);
    return nlohmann::json::parse(std::ifstream(path))["entries"][0]["kernels"];
  };
  nlohmann::json unknown = timed(); // no cache file yet
  EXPECT_EQ(unknown[0]["flops"], 2000000);
  EXPECT_EQ(unknown[1]["bytes"], 1000000);
  EXPECT_FALSE(unknown[0].contains("bound_us"));
  std::ofstream(cache + "/kiln/machine-limits.json")
      << nlohmann::json{{kiln::roofline::cacheKey(8, 2), {{"gflops", 100.0}, {"gbps", 10.0}}}}.dump();
  nlohmann::json known = timed();
  if (old.empty())
    unsetenv("XDG_CACHE_HOME");
  else
    setenv("XDG_CACHE_HOME", old.c_str(), 1);
  EXPECT_DOUBLE_EQ(known[0]["bound_us"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(known[1]["bound_us"].get<double>(), 100.0);
  for (const auto &k : known) { // each call slept at least 1000 us: neither limit explains it
    EXPECT_NEAR(k["share"].get<double>(), k["bound_us"].get<double>() / k["median_us"].get<double>(), 1e-3);
    EXPECT_EQ(k["limit"], "schedule");
  }
  std::filesystem::remove_all(cache);
}

TEST(KernelTimes, AnUnwritableFileIsAnError) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  kiln::KernelTimes times(m, 1);
  run_entry(0, 1, std::chrono::microseconds(0));
  try {
    times.write("/nonexistent-dir/times.json");
    FAIL() << "no error";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/times.json"), std::string::npos) << e.what();
  }
}

} // namespace
