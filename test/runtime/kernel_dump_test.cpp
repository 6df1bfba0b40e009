// KernelDump through the probe a compiled model calls (the fake model does not call it, so the
// test plays kiln_run's part).
#include "kiln/kernel_dump.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/model_abi.h"
#include "kiln/safetensors.h"
#include "kiln/types.h"

namespace {

// One run of an entry with two calls: a 2x3 f32 output, then an i32 scalar and a mask of 4.
void run_entry(int entry, float base) {
  const int64_t matrix[] = {2, 3}, mask[] = {4};
  float values[6];
  for (int i = 0; i < 6; ++i)
    values[i] = base + float(i);
  int32_t count = int32_t(base);
  uint8_t bits[4] = {1, 0, 0, 1};
  kiln_kernel_probe(entry, 0, 0, int(kiln::DType::f32), 2, matrix, values);
  kiln_kernel_probe(entry, 1, 0, int(kiln::DType::i32), 0, nullptr, &count);
  kiln_kernel_probe(entry, 1, 1, int(kiln::DType::i1), 1, mask, bits);
}

TEST(KernelDump, KeepsEachEntrysFirstRun) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  m.entries[0].kernels = {"kiln_first", "kiln_second"}; // the eval entry names none
  std::string path = testing::TempDir() + "kernel_dump.safetensors";
  {
    ASSERT_EQ(kiln_kernel_probe, nullptr);
    kiln::KernelDump dump(m);
    ASSERT_NE(kiln_kernel_probe, nullptr);
    for (int run = 0; run < 3; ++run)
      run_entry(0, float(10 * run + 1));
    run_entry(2, 100);
    run_entry(2, 200);
    dump.write(path);
  }
  EXPECT_EQ(kiln_kernel_probe, nullptr); // unhooked with the KernelDump

  kiln::SafetensorsFile f = kiln::SafetensorsFile::read(path);
  ASSERT_EQ(f.tensors().size(), 6u);
  float first[6];
  std::memcpy(first, f.expect("train_step/0/kiln_first/0", "F32", {2, 3}), sizeof first);
  EXPECT_EQ(first[0], 1.0f); // the first run's, not a later one's
  EXPECT_EQ(first[5], 6.0f);
  int32_t count;
  std::memcpy(&count, f.expect("train_step/1/kiln_second/0", "I32", {}), 4);
  EXPECT_EQ(count, 1);
  const uint8_t *bits = f.expect("train_step/1/kiln_second/1", "BOOL", {4});
  EXPECT_EQ(bits[0], 1);
  EXPECT_EQ(bits[1], 0);
  std::memcpy(first, f.expect("eval/0/kernel/0", "F32", {2, 3}), sizeof first);
  EXPECT_EQ(first[0], 100.0f);
  std::remove(path.c_str());
}

TEST(KernelDump, AnUnwritableFileIsAnError) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  kiln::KernelDump dump(m);
  run_entry(0, 1);
  try {
    dump.write("/nonexistent-dir/d.safetensors");
    FAIL() << "no error";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/d.safetensors"), std::string::npos) << e.what();
  }
}

} // namespace
