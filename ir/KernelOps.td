// Kernels: the fuse pass's unit of code generation. Each kiln.kernel becomes one Halide
// pipeline and one call in the step.
#ifndef KILN_KERNEL_OPS_TD
#define KILN_KERNEL_OPS_TD

include "ir/KilnDialect.td"

def Kiln_KernelOp : Op<Kiln_Dialect, "kernel", [IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "A group of primitives compiled as one kernel";
  let description = [{
    The region's arguments are the kernel's inputs (read from buffers), its `kiln.yield`
    gives the outputs (written to buffers); every other value inside lives only in registers
    or in the kernel's own tiles. The region is isolated from above, so what a kernel reads
    is exactly its operand list.

    ```mlir
    %h = kiln.kernel "conv2d_add" (%x, %w, %b) : (...) -> tensor<50x16x28x28xf32> {
    ^bb0(%x0: ..., %w0: ..., %b0: ...):
      %c = kiln.conv2d %x0, %w0 ...
      ...
      kiln.yield %sum : tensor<50x16x28x28xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Kiln_AnyTensor>:$inputs, StrAttr:$name);
  let results = (outs Variadic<Kiln_AnyTensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$name `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    mlir::Block &block() { return getBody().front(); }
  }];
}

def Kiln_YieldOp : Op<Kiln_Dialect, "yield", [Pure, Terminator, HasParent<"KernelOp">]> {
  let summary = "The outputs of a kiln.kernel";
  let arguments = (ins Variadic<Kiln_AnyTensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif
