// KernelTimes through the clock a compiled model calls (the fake model does not call it, so
// the test plays kiln_run's part).
#include "kiln/kernel_times.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/model_abi.h"

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
    kiln::KernelTimes times(m);
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

TEST(KernelTimes, AnUnwritableFileIsAnError) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  kiln::KernelTimes times(m);
  run_entry(0, 1, std::chrono::microseconds(0));
  try {
    times.write("/nonexistent-dir/times.json");
    FAIL() << "no error";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/times.json"), std::string::npos) << e.what();
  }
}

} // namespace
