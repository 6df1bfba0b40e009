// kiln.kernel: the region's signature must be the op's.
#include "ir/Dialect.h"

using namespace mlir;

namespace kiln {

LogicalResult KernelOp::verify() {
  Block &body = block();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("has ") << getInputs().size() << " inputs but its region takes " << body.getNumArguments()
                               << " arguments";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(getInputs(), body.getArguments())))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return emitOpError("input ") << i << " is " << std::get<0>(pair).getType() << " but region argument " << i
                                   << " is " << std::get<1>(pair).getType();
  auto yield = body.empty() ? YieldOp() : llvm::dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("region must end in kiln.yield");
  if (yield.getValues().getTypes() != getOutputs().getTypes())
    return emitOpError("yields ") << yield.getValues().size() << " values whose types differ from the kernel's results";
  if (getOutputs().empty())
    return emitOpError("must have at least one output");
  return success();
}

} // namespace kiln
