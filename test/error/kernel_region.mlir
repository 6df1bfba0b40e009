// A kiln.kernel whose region has no kiln.yield is refused, not read past its end.
// RUN: not kiln compile %s -o %t 2>&1 | FileCheck %s
// CHECK: kernel_region.mlir:[[@LINE+2]]:8: error: 'kiln.kernel' op region must end in kiln.yield
func.func @kernel_arguments(%a: tensor<5xf32>) -> tensor<5xf32> {
  %0 = kiln.kernel "neg"(%a) : (tensor<5xf32>) -> tensor<5xf32> {
  ^bb0(%x: tensor<5xf32>):
  }
  return %0 : tensor<5xf32>
}
