// Tests name primitives by their dialect mnemonics; the family comes from the op's traits.
#ifndef KILN_TEST_UNIT_PRIMITIVE_UTIL_H
#define KILN_TEST_UNIT_PRIMITIVE_UTIL_H

#include "codegen/host/Plan.h"

#include <gtest/gtest.h>

inline void setPrimitive(kiln::KernelSpec &s, std::string_view mnemonic) {
  std::optional<kiln::Primitive> p = kiln::primitiveNamed(mnemonic);
  EXPECT_TRUE(p.has_value()) << mnemonic;
  s.op = p.value_or(kiln::Primitive::add);
  std::optional<kiln::Family> f = kiln::familyOf(s.op);
  EXPECT_TRUE(f.has_value()) << mnemonic;
  s.family = f.value_or(kiln::Family::elementwise);
}

#endif
