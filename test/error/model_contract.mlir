// A model without @forward, or whose first result is not a scalar loss, cannot be trained.
// RUN: not kiln compile %s -o %t 2>&1 | FileCheck %s
// CHECK: error: kiln-autodiff: no func.func @forward to differentiate
func.func @model(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}
