// The kiln dialect: statically shaped tensor primitives for training graphs.
#ifndef KILN_DIALECT_TD
#define KILN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::kiln";
  let hasConstantMaterializer = 1;
  let hasCanonicalizer = 1;
  // The model contract (ModelContract.cpp): every kiln.* attribute where it belongs, of its type.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let summary = "Primitive tensor ops that kiln differentiates, fuses and lowers to Halide.";
  let description = [{
    Values are ranked, statically shaped builtin tensors of f32 (data), i1 (masks) or i32
    (labels). Composites such as relu or mse are built from these primitives by the frontend,
    so autodiff and codegen only ever see the ops defined here.
  }];
}

include "ir/KilnInterfaces.td"

// Kinds of op, as traits: fusion, canonicalization and codegen learn what an op is from these,
// never from its name. (MLIR's Elementwise trait would do for the first, but its verifier
// runs before the op's own and reports a shape mismatch without the shapes.)
class Kiln_Kind<string name> : NativeOpTrait<name> { let cppNamespace = "::kiln::OpTrait"; }
// Computes each result element from the operand elements at the same index (arithmetic,
// math, compare, select); all operands and the result have one shape.
def Kiln_Elementwise : Kiln_Kind<"Elementwise">;
// The result's elements are operand elements moved or repeated, or functions of their index
// alone: no arithmetic on values (broadcast, reshape, transpose, stop_gradient, one_hot).
def Kiln_IndexOnly : Kiln_Kind<"IndexOnly">;
// Sums of products over a reduction dimension: matmul, convolutions and their gradients.
def Kiln_Contraction : Kiln_Kind<"Contraction">;
// Sums, means or maxima over dimensions that are removed.
def Kiln_Reduction : Kiln_Kind<"Reduction">;
// Windows over the spatial dimensions of NCHW images, and their gradients.
def Kiln_Pooling : Kiln_Kind<"Pooling">;
// Exchanges values between the ranks of a data-parallel run: not a kernel, never fused.
def Kiln_Communication : Kiln_Kind<"Communication">;
// Draws numbers from the run's counter-based generator: a function of a key (seed, step)
// and the element's index, computed in a kernel of its own.
def Kiln_Random : Kiln_Kind<"Random">;

def Kiln_Dimensions : DeclareOpInterfaceMethods<Kiln_DimensionsOpInterface>;

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits,
        [Pure, InferTypeOpAdaptor, DeclareOpInterfaceMethods<Kiln_GradientOpInterface>])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Shapes are static (every kernel is compiled for its exact sizes) and countable: the product
// of the dimensions fits in 64 bits, so element counts of verified shapes and their parts do.
class Kiln_TensorOf<list<Type> types>
    : RankedTensorOf<types, [HasStaticShapePred, CPred<"::kiln::isCountable($_self)">],
                     "statically shaped tensor (fewer than 2^63 elements)">;
def Kiln_F32Tensor : Kiln_TensorOf<[F32]>;
def Kiln_MaskTensor : Kiln_TensorOf<[I1]>;
def Kiln_AnyTensor : Kiln_TensorOf<[F32, I1, I32]>;

#endif
