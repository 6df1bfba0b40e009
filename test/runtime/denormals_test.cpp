// Subnormal floats flushed or kept, on the calling thread and on threads it starts afterwards
// (as Halide's workers are).
#include "kiln/denormals.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>

namespace {

// A subnormal product of two normal floats, and the subnormal operand times one.
struct Results {
  float product, operand;
};

Results compute() {
  volatile float tiny = std::numeric_limits<float>::min(), half = 0.5f, one = 1.0f;
  volatile float subnormal = std::numeric_limits<float>::denorm_min();
  return {tiny * half, subnormal * one};
}

Results computeOnNewThread() {
  Results r{};
  std::thread([&] { r = compute(); }).join();
  return r;
}

TEST(Denormals, FlushedOrKeptHereAndOnLaterThreads) {
  if (!kiln::flush_denormals(true))
    GTEST_SKIP() << "not run: Denormals.FlushedOrKeptHereAndOnLaterThreads needs x86's FTZ and DAZ modes "
                    "(MXCSR), which this CPU does not have";
  for (Results r : {compute(), computeOnNewThread()}) {
    EXPECT_EQ(r.product, 0.0f);
    EXPECT_EQ(r.operand, 0.0f);
  }
  kiln::flush_denormals(false);
  for (Results r : {compute(), computeOnNewThread()}) {
    EXPECT_EQ(r.product, std::numeric_limits<float>::min() / 2);
    EXPECT_EQ(r.operand, std::numeric_limits<float>::denorm_min());
  }
}

} // namespace
