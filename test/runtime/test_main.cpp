// main() of kiln_runtime_tests. Defined here, not taken from gtest_main, so the link never has to
// choose between it and the main() inside libkiln_runtime.a.
#include <gtest/gtest.h>

int main(int argc, char **argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
