// The message of the kiln::Error a DSL call throws, or "" when it throws none.
#ifndef KILN_TEST_UNIT_ERROR_OF_H
#define KILN_TEST_UNIT_ERROR_OF_H

#include "kiln/Tensor.h"

#include <functional>
#include <string>

inline std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const kiln::Error &e) {
    return e.what();
  }
  return "";
}

#endif
