// Tests name primitives by their dialect mnemonics; the family comes from the op's traits.
#ifndef KILN_TEST_UNIT_PRIMITIVE_UTIL_H
#define KILN_TEST_UNIT_PRIMITIVE_UTIL_H

#include "codegen/host/Plan.h"
#include "ir/Dialect.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

// The family of a primitive, from its op's traits in the dialect (as codegen reads them); none
// if the dialect has no such op. The tests' context lives as long as the test program.
inline std::optional<kiln::Family> familyOf(kiln::Primitive primitive) {
  static mlir::MLIRContext context;
  context.loadDialect<kiln::KilnDialect>();
  mlir::OperationName name(
      kiln::KilnDialect::getDialectNamespace().str() + "." + std::string(kiln::mnemonic(primitive)), &context);
  if (!name.isRegistered())
    return std::nullopt;
  return kiln::familyOf(name);
}

inline void setPrimitive(kiln::KernelSpec &s, std::string_view mnemonic) {
  std::optional<kiln::Primitive> p = kiln::primitiveNamed(mnemonic);
  EXPECT_TRUE(p.has_value()) << mnemonic;
  s.op = p.value_or(kiln::Primitive::add);
  std::optional<kiln::Family> f = familyOf(s.op);
  EXPECT_TRUE(f.has_value()) << mnemonic;
  s.family = f.value_or(kiln::Family::elementwise);
}

#endif
