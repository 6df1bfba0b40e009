// The two contents the kill test's writer alternates between; shared by the writer and the test.
#ifndef KILN_TEST_CHECKPOINT_CONTENT_H
#define KILN_TEST_CHECKPOINT_CONTENT_H

#include <cstddef>
#include <vector>

// Content 0 ("A") counts up, content 1 ("B") counts down: no position holds the same value in both,
// so any mix of the two is detected.
inline std::vector<float> checkpoint_content(int which, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = which == 0 ? float(i % 4096) : -1.0f - float(i % 4096);
  return v;
}

#endif
