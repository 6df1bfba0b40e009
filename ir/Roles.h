// A function's part in training, read from and written to its kiln.role attribute.
#ifndef KILN_IR_ROLES_H
#define KILN_IR_ROLES_H

#include "kiln/contract.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace kiln {

// The role `func` is given by kiln.role; @forward and @grad without one are taken as such.
// None for a helper function that plays no part.
std::optional<FunctionRole> roleOf(mlir::Operation *func);

// Gives `func` its kiln.role.
void setRole(mlir::Operation *func, FunctionRole role);

} // namespace kiln

#endif
