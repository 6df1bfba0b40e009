// A function's part in training, as its kiln.role attribute spells it.
#include "ir/Roles.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

namespace kiln {

std::optional<FunctionRole> roleOf(mlir::Operation *func) {
  if (auto role = func->getAttrOfType<mlir::StringAttr>(attr::role))
    return parseSpelling(kFunctionRoles, std::string_view(role.getValue()));
  auto name = func->getAttrOfType<mlir::StringAttr>(mlir::SymbolTable::getSymbolAttrName());
  if (!name)
    return std::nullopt;
  std::optional<FunctionRole> byName = parseSpelling(kFunctionRoles, std::string_view(name.getValue()));
  if (byName == FunctionRole::forward || byName == FunctionRole::grad)
    return byName;
  return std::nullopt;
}

void setRole(mlir::Operation *func, FunctionRole role) {
  std::string_view name = spelling(kFunctionRoles, role);
  func->setAttr(attr::role, mlir::StringAttr::get(func->getContext(), llvm::StringRef(name.data(), name.size())));
}

} // namespace kiln
