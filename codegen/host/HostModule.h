// The host half of a compiled model: the step as kernel calls over arena buffers, in LLVM IR.
#ifndef KILN_CODEGEN_HOST_HOSTMODULE_H
#define KILN_CODEGEN_HOST_HOSTMODULE_H

#include "codegen/host/Plan.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>

namespace kiln {

// Defines kiln_manifest, kiln_model_ir, kiln_bind and kiln_run (runtime/core/include/kiln/model_abi.h)
// and declares each kernel as Halide's AOT calling convention has it:
//   int kernel(halide_buffer_t *input..., halide_buffer_t *output).
// It reads kiln_kernel_clock and kiln_kernel_probe, which the runtime library defines
// (model_abi.h): an object linked without kiln_runtime must define them (null).
// Also kiln_to_device and kiln_to_host. For a GPU `device`, kiln_bind makes one device
// allocation of the arena's bytes and gives every buffer the crop of it at its offset (a view
// shares its base's), values stay there between calls and steps, a
// run copies in only the inputs, lr and step and out only the loss and outputs, and kiln_to_*
// move the parameters and optimizer state when the runtime writes or reads them.
std::unique_ptr<llvm::Module> emitHostModule(const StepPlan &plan, llvm::LLVMContext &ctx,
                                             Device device = Device::host);

// Compiles `module` for the host CPU to a relocatable object. Returns "" or the error.
std::string emitObjectFile(llvm::Module &module, const std::string &path);

} // namespace kiln

#endif
