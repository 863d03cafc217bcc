//===- MpcOps.td - mpc dialect ops ------------------------*- tablegen -*-===//
#ifndef MPC_OPS_TD
#define MPC_OPS_TD

include "mpc/Dialect/MpcDialect.td"
include "mpc/Dialect/MpcInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def Mpc_FloatElement : AnyTypeOf<[F64, F32, F16, BF16, F8E4M3FN, F8E5M2]>;
def Mpc_IndexElement : AnyTypeOf<[I32, I64]>;
def Mpc_Tensor : StaticShapeTensorOf<[AnyType]>;
def Mpc_FloatTensor : StaticShapeTensorOf<[Mpc_FloatElement]>;
// ONNX's uint32/uint64 stay unsigned (ui32, ui64): the lowering picks the
// unsigned arith ops for them. Narrower integers are widened to i32 first.
def Mpc_NumericTensor : StaticShapeTensorOf<[Mpc_FloatElement, I32, I64, UI32, UI64]>;
def Mpc_IndexTensor : StaticShapeTensorOf<[Mpc_IndexElement]>;
def Mpc_BoolTensor : StaticShapeTensorOf<[I1]>;
// Max pooling also takes ONNX's 8-bit integers (uint8 images).
def Mpc_MaxPoolTensor : StaticShapeTensorOf<[Mpc_FloatElement, I8, UI8]>;
def Mpc_IntegerTensor : StaticShapeTensorOf<[I8, I16, I32, I64, UI8, UI16, UI32, UI64]>;

//===----------------------------------------------------------------------===//
// Base classes: one per precision category
//===----------------------------------------------------------------------===//

class Mpc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mpc_Dialect, mnemonic, traits>;

// The category every op of a class has (mpc::traits::HasPrecisionCategory),
// read back by PrecisionOpInterface::getPrecisionCategory.
class Mpc_HasPrecisionCategory<string category>
    : ParamNativeOpTrait<"HasPrecisionCategory", "::mpc::PrecisionCategory::" # category> {
  let cppNamespace = "::mpc::traits";
}
// Accumulating ops carry an optional accumulator type chosen by precision
// assignment (f32 by default when they compute narrower).
def Mpc_Accumulates : NativeOpTrait<"Accumulates"> {
  let cppNamespace = "::mpc::traits";
}
// Ops with a value-range rule (lib/Dialect/RangeRules.cpp).
def Mpc_RangeRule : DeclareOpInterfaceMethods<Mpc_RangeOpInterface>;

// `precisionMethods` names the PrecisionOpInterface methods the op
// implements itself instead of taking the interface's default.
class Mpc_CategorizedOp<string mnemonic, string category, list<Trait> traits,
                        list<string> precisionMethods = []>
    : Mpc_Op<mnemonic, traits # [Pure, Mpc_HasPrecisionCategory<category>,
        DeclareOpInterfaceMethods<Mpc_PrecisionOpInterface, precisionMethods>]>;

// Contractions: their FLOPs are matrix-product FLOPs (getGemmFlops,
// lib/Dialect/MpcDialect.cpp).
class Mpc_ComputeBoundOp<string mnemonic, list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, "ComputeBound", traits # [Mpc_Accumulates],
                        ["getGemmFlops"]>;
class Mpc_SensitiveOp<string mnemonic, list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, "Sensitive", traits>;
class Mpc_FollowOp<string mnemonic, list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, "Follow", traits>;
class Mpc_DataMovementOp<string mnemonic, list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, "DataMovement", traits # [Mpc_RangeRule]>;


//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//
//
// Folders (lib/Dialect/MpcFolds.cpp) evaluate an op on constant operands
// exactly as the compiled code does, so they exist only for ops whose result
// is correctly rounded there (+ - * / sqrt, comparisons, selections). exp,
// log, tanh, erf, sigmoid, gelu and pow are approximated at run time and
// never fold.

class Mpc_UnaryOp<string mnemonic, string category, Type elem = Mpc_FloatTensor,
                  list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, category,
        traits # [SameOperandsAndResultType, InferTypeOpInterface, Mpc_RangeRule]> {
  let arguments = (ins elem:$input);
  let results = (outs elem:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

let hasFolder = 1 in {
def Mpc_NegOp : Mpc_UnaryOp<"neg", "Follow", Mpc_NumericTensor> {
  let summary = "elementwise negation";
  let description = [{ `%r = mpc.neg %x : tensor<4xf32>` }];
}
def Mpc_AbsOp : Mpc_UnaryOp<"abs", "Follow", Mpc_NumericTensor> {
  let summary = "elementwise absolute value";
  let description = [{ `%r = mpc.abs %x : tensor<4xf32>` }];
}
def Mpc_SqrtOp : Mpc_UnaryOp<"sqrt", "Follow"> {
  let summary = "elementwise square root";
  let description = [{ `%r = mpc.sqrt %x : tensor<4xf32>` }];
}
def Mpc_ReciprocalOp : Mpc_UnaryOp<"reciprocal", "Sensitive"> {
  let summary = "elementwise 1/x";
  let description = [{ `%r = mpc.reciprocal %x : tensor<4xf32>` }];
}
def Mpc_ReluOp : Mpc_UnaryOp<"relu", "Follow"> {
  let summary = "elementwise max(x, 0)";
  let description = [{ `%r = mpc.relu %x : tensor<4xf32>` }];
}
} // hasFolder

def Mpc_ExpOp : Mpc_UnaryOp<"exp", "Sensitive"> {
  let summary = "elementwise e^x (overflows early in f16, hence sensitive)";
  let description = [{ `%r = mpc.exp %x : tensor<4xf32>` }];
}
def Mpc_LogOp : Mpc_UnaryOp<"log", "Sensitive"> {
  let summary = "elementwise natural logarithm";
  let description = [{ `%r = mpc.log %x : tensor<4xf32>` }];
}
def Mpc_TanhOp : Mpc_UnaryOp<"tanh", "Follow"> {
  let summary = "elementwise hyperbolic tangent";
  let description = [{ `%r = mpc.tanh %x : tensor<4xf32>` }];
}
def Mpc_SigmoidOp : Mpc_UnaryOp<"sigmoid", "Follow"> {
  let summary = "elementwise logistic function 1/(1+e^-x)";
  let description = [{ `%r = mpc.sigmoid %x : tensor<4xf32>` }];
}
def Mpc_ErfOp : Mpc_UnaryOp<"erf", "Follow"> {
  let summary = "elementwise error function";
  let description = [{ `%r = mpc.erf %x : tensor<4xf32>` }];
}

def Mpc_GeluOp : Mpc_FollowOp<"gelu", [SameOperandsAndResultType, InferTypeOpInterface,
                                       Mpc_RangeRule]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    x * Phi(x), with the exact erf form by default or the tanh approximation
    when `approximate_tanh` is set (ONNX Gelu `approximate="tanh"`).

    `%r = mpc.gelu %x {approximate_tanh = true} : tensor<4xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input,
                       DefaultValuedAttr<BoolAttr, "false">:$approximate_tanh);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Mpc_LeakyReluOp : Mpc_FollowOp<"leaky_relu", [SameOperandsAndResultType,
                                                  InferTypeOpInterface, Mpc_RangeRule]> {
  let summary = "elementwise x >= 0 ? x : alpha * x";
  let description = [{ `%r = mpc.leaky_relu %x {alpha = 0.01 : f64} : tensor<4xf32>` }];
  let arguments = (ins Mpc_FloatTensor:$input, F64Attr:$alpha);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Mpc_ClipOp : Mpc_FollowOp<"clip", [SameOperandsAndResultType, InferTypeOpInterface,
                                       Mpc_RangeRule]> {
  let summary = "elementwise clamp to [min, max]; a missing bound is unbounded";
  let description = [{ `%r = mpc.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>` }];
  let arguments = (ins Mpc_NumericTensor:$input, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
  let results = (outs Mpc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

// Binary ops broadcast their operands numpy-style (ONNX multidirectional
// broadcasting); the result shape is inferred.
class Mpc_BinaryOp<string mnemonic, string category, Type elem = Mpc_NumericTensor,
                   list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, category,
        traits # [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let arguments = (ins elem:$lhs, elem:$rhs);
  let results = (outs elem:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

let hasFolder = 1 in {
def Mpc_AddOp : Mpc_BinaryOp<"add", "Follow", Mpc_NumericTensor, [Commutative]> {
  let summary = "broadcasting elementwise addition";
  let description = [{ `%r = mpc.add %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>` }];
}
def Mpc_SubOp : Mpc_BinaryOp<"sub", "Follow"> {
  let summary = "broadcasting elementwise subtraction";
  let description = [{ `%r = mpc.sub %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}
def Mpc_MulOp : Mpc_BinaryOp<"mul", "Follow", Mpc_NumericTensor, [Commutative]> {
  let summary = "broadcasting elementwise multiplication";
  let description = [{ `%r = mpc.mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}
def Mpc_DivOp : Mpc_BinaryOp<"div", "Follow"> {
  let summary = "broadcasting elementwise division (integer division truncates)";
  let description = [{ `%r = mpc.div %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}
// Not Commutative: for floats the result of +0 against -0, and which of two
// NaNs comes out, depend on the operand order (the right operand wins a tie,
// as the lowering computes), so folding and CSE must not swap operands.
def Mpc_MaxOp : Mpc_BinaryOp<"max", "Follow"> {
  let summary = "broadcasting elementwise maximum (NaN propagates)";
  let description = [{ `%r = mpc.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}
def Mpc_MinOp : Mpc_BinaryOp<"min", "Follow"> {
  let summary = "broadcasting elementwise minimum (NaN propagates)";
  let description = [{ `%r = mpc.min %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>` }];
}
} // hasFolder

def Mpc_PowOp : Mpc_BinaryOp<"pow", "Sensitive", Mpc_FloatTensor> {
  let summary = "broadcasting elementwise power";
  let description = [{ `%r = mpc.pow %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>` }];
}

// Float comparisons are ordered: any comparison with NaN is false.
class Mpc_CompareOp<string mnemonic>
    : Mpc_CategorizedOp<mnemonic, "Follow",
        [InferTypeOpAdaptor]> {
  let arguments = (ins Mpc_NumericTensor:$lhs, Mpc_NumericTensor:$rhs);
  let results = (outs Mpc_BoolTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}
def Mpc_EqualOp : Mpc_CompareOp<"equal"> {
  let summary = "broadcasting elementwise a == b";
  let description = [{ `%r = mpc.equal %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>` }];
}
def Mpc_LessOp : Mpc_CompareOp<"less"> {
  let summary = "broadcasting elementwise a < b";
  let description = [{ `%r = mpc.less %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Mpc_LessEqualOp : Mpc_CompareOp<"less_equal"> {
  let summary = "broadcasting elementwise a <= b";
  let description = [{ `%r = mpc.less_equal %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Mpc_GreaterOp : Mpc_CompareOp<"greater"> {
  let summary = "broadcasting elementwise a > b";
  let description = [{ `%r = mpc.greater %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}
def Mpc_GreaterEqualOp : Mpc_CompareOp<"greater_equal"> {
  let summary = "broadcasting elementwise a >= b";
  let description = [{ `%r = mpc.greater_equal %a, %b : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>` }];
}

def Mpc_WhereOp : Mpc_FollowOp<"where", [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let summary = "broadcasting elementwise select: cond ? x : y";
  let description = [{
    `%r = mpc.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>`
  }];
  let arguments = (ins Mpc_BoolTensor:$condition, Mpc_Tensor:$x, Mpc_Tensor:$y);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Mpc_CastOp : Mpc_Op<"cast", [Pure, SameOperandsAndResultShape,
    DeclareOpInterfaceMethods<Mpc_RangeOpInterface, ["inferResultRange"]>]> {
  let summary = "element type conversion (the only one in the dialect)";
  let description = [{
    Converts each element with round-to-nearest-even. Float to float casts
    into f8E4M3FN saturate to +-448 when `saturate` is set (ONNX Cast's default
    for fp8) and produce NaN otherwise. Float to int truncates toward zero;
    int to float rounds to nearest even; anything to i1 is `x != 0` (NaN is
    true).

    `%r = mpc.cast %x : tensor<4xf32> to tensor<4xbf16>`
  }];
  let arguments = (ins Mpc_Tensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// True when converting `from` to `to` is exact for every value, so a
    /// round trip through `to` changes nothing.
    static bool isLossless(::mlir::Type from, ::mlir::Type to);
  }];
}

// Trigonometric, hyperbolic and rounding functions (ONNX Sin ... Atanh,
// Floor, Ceil, Round, Sign). The math functions are libm's (CPU) and
// libdevice's (CUDA) calls, never the polynomial approximations.

def Mpc_SinOp : Mpc_UnaryOp<"sin", "Follow"> {
  let summary = "elementwise sine";
  let description = [{ `%r = mpc.sin %x : tensor<4xf32>` }];
}
def Mpc_CosOp : Mpc_UnaryOp<"cos", "Follow"> {
  let summary = "elementwise cosine";
  let description = [{ `%r = mpc.cos %x : tensor<4xf32>` }];
}
def Mpc_TanOp : Mpc_UnaryOp<"tan", "Follow"> {
  let summary = "elementwise tangent";
  let description = [{ `%r = mpc.tan %x : tensor<4xf32>` }];
}
def Mpc_AsinOp : Mpc_UnaryOp<"asin", "Follow"> {
  let summary = "elementwise arcsine (NaN outside [-1, 1])";
  let description = [{ `%r = mpc.asin %x : tensor<4xf32>` }];
}
def Mpc_AcosOp : Mpc_UnaryOp<"acos", "Follow"> {
  let summary = "elementwise arccosine (NaN outside [-1, 1])";
  let description = [{ `%r = mpc.acos %x : tensor<4xf32>` }];
}
def Mpc_AtanOp : Mpc_UnaryOp<"atan", "Follow"> {
  let summary = "elementwise arctangent";
  let description = [{ `%r = mpc.atan %x : tensor<4xf32>` }];
}
def Mpc_SinhOp : Mpc_UnaryOp<"sinh", "Sensitive"> {
  let summary = "elementwise hyperbolic sine (overflows early in f16, hence sensitive)";
  let description = [{ `%r = mpc.sinh %x : tensor<4xf32>` }];
}
def Mpc_CoshOp : Mpc_UnaryOp<"cosh", "Sensitive"> {
  let summary = "elementwise hyperbolic cosine (overflows early in f16, hence sensitive)";
  let description = [{ `%r = mpc.cosh %x : tensor<4xf32>` }];
}
def Mpc_AsinhOp : Mpc_UnaryOp<"asinh", "Follow"> {
  let summary = "elementwise inverse hyperbolic sine";
  let description = [{ `%r = mpc.asinh %x : tensor<4xf32>` }];
}
def Mpc_AcoshOp : Mpc_UnaryOp<"acosh", "Follow"> {
  let summary = "elementwise inverse hyperbolic cosine (NaN below 1)";
  let description = [{ `%r = mpc.acosh %x : tensor<4xf32>` }];
}
def Mpc_AtanhOp : Mpc_UnaryOp<"atanh", "Follow"> {
  let summary = "elementwise inverse hyperbolic tangent (NaN outside [-1, 1])";
  let description = [{ `%r = mpc.atanh %x : tensor<4xf32>` }];
}
def Mpc_FloorOp : Mpc_UnaryOp<"floor", "Follow"> {
  let summary = "elementwise round toward -inf";
  let description = [{ `%r = mpc.floor %x : tensor<4xf32>` }];
}
def Mpc_CeilOp : Mpc_UnaryOp<"ceil", "Follow"> {
  let summary = "elementwise round toward +inf";
  let description = [{ `%r = mpc.ceil %x : tensor<4xf32>` }];
}
def Mpc_RoundOp : Mpc_UnaryOp<"round", "Follow"> {
  let summary = "elementwise round half to even (ONNX Round)";
  let description = [{ `%r = mpc.round %x : tensor<4xf32>` }];
}
def Mpc_SignOp : Mpc_UnaryOp<"sign", "Follow", Mpc_NumericTensor> {
  let summary = "elementwise -1, 0 or 1 by the sign of x (NaN stays NaN)";
  let description = [{ `%r = mpc.sign %x : tensor<4xf32>` }];
}

// ONNX BitShift. Right shifts of signed integers are arithmetic. A shift by
// a negative amount or by the bit width or more gives what the fill alone
// gives (0, or -1 for a negative value shifted right), where arith's shifts
// would be poison.
def Mpc_BitShiftOp : Mpc_FollowOp<"bit_shift", [InferTypeOpAdaptor]> {
  let summary = "broadcasting elementwise shift of integers, left or right";
  let description = [{
    `%r = mpc.bit_shift %x, %n {left = true} : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>`
  }];
  let arguments = (ins Mpc_IntegerTensor:$lhs, Mpc_IntegerTensor:$rhs, BoolAttr:$left);
  let results = (outs Mpc_IntegerTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

// ONNX BitwiseAnd/Or/Xor/Not: the two's-complement bits, so signed and
// unsigned integers behave alike.
class Mpc_BitwiseOp<string mnemonic> : Mpc_FollowOp<mnemonic, [InferTypeOpAdaptor]> {
  let arguments = (ins Mpc_IntegerTensor:$lhs, Mpc_IntegerTensor:$rhs);
  let results = (outs Mpc_IntegerTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}
def Mpc_BitwiseAndOp : Mpc_BitwiseOp<"bitwise_and"> {
  let summary = "broadcasting elementwise bitwise and of integers";
  let description = [{
    `%r = mpc.bitwise_and %a, %b : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>`
  }];
}
def Mpc_BitwiseOrOp : Mpc_BitwiseOp<"bitwise_or"> {
  let summary = "broadcasting elementwise bitwise or of integers";
  let description = [{
    `%r = mpc.bitwise_or %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>`
  }];
}
def Mpc_BitwiseXorOp : Mpc_BitwiseOp<"bitwise_xor"> {
  let summary = "broadcasting elementwise bitwise exclusive or of integers";
  let description = [{
    `%r = mpc.bitwise_xor %a, %b : (tensor<2x4xi16>, tensor<4xi16>) -> tensor<2x4xi16>`
  }];
}
def Mpc_BitwiseNotOp : Mpc_FollowOp<"bitwise_not", [SameOperandsAndResultType,
                                                     InferTypeOpInterface]> {
  let summary = "elementwise bitwise complement of integers";
  let description = [{ `%r = mpc.bitwise_not %x : tensor<4xui16>` }];
  let arguments = (ins Mpc_IntegerTensor:$input);
  let results = (outs Mpc_IntegerTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Compute-bound
//===----------------------------------------------------------------------===//

def Mpc_MatmulOp : Mpc_ComputeBoundOp<"matmul", [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let summary = "batched matrix product with numpy broadcasting of batch dims";
  let description = [{
    Operands have rank >= 2; the last two dims multiply ([..., M, K] x
    [..., K, N] -> [..., M, N]) and the leading dims broadcast. `acc_type` is
    the accumulator element type (unset: chosen by getAccumulatorType()).

    `%r = mpc.matmul %a, %b {acc_type = f32} : (tensor<8x16xbf16>, tensor<16x4xbf16>) -> tensor<8x4xbf16>`
  }];
  let arguments = (ins Mpc_NumericTensor:$lhs, Mpc_NumericTensor:$rhs,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Mpc_ConvOp : Mpc_ComputeBoundOp<"conv", [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let summary = "N-d grouped convolution, NC[spatial] input, M(C/group)[kernel] weight";
  let description = [{
    `pads` holds the begin pads of every spatial dim, then the end pads.

    `%r = mpc.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, Mpc_FloatTensor:$weight,
                       Optional<Mpc_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Numerically sensitive
//===----------------------------------------------------------------------===//

class Mpc_SoftmaxLikeOp<string mnemonic>
    : Mpc_SensitiveOp<mnemonic, [SameOperandsAndResultType, InferTypeOpInterface,
                                 Mpc_Accumulates, Mpc_RangeRule]> {
  let arguments = (ins Mpc_FloatTensor:$input, I64Attr:$axis,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}
def Mpc_SoftmaxOp : Mpc_SoftmaxLikeOp<"softmax"> {
  let summary = "softmax along one (non-negative) axis";
  let description = [{ `%r = mpc.softmax %x {axis = 1 : i64} : tensor<2x10xf32>` }];
}
def Mpc_LogSoftmaxOp : Mpc_SoftmaxLikeOp<"log_softmax"> {
  let summary = "log of softmax along one (non-negative) axis";
  let description = [{ `%r = mpc.log_softmax %x {axis = 1 : i64} : tensor<2x10xf32>` }];
}

def Mpc_LayerNormOp : Mpc_SensitiveOp<"layer_norm", [InferTypeOpAdaptor, Mpc_Accumulates,
                                                    Mpc_RangeRule]> {
  let summary = "layer normalization over the dims from `axis` to the last";
  let description = [{
    (x - mean) / sqrt(var + epsilon) * scale + bias, with mean and (biased)
    variance over dims [axis, rank). `scale` and `bias` have the shape of those
    dims (or broadcast to it).

    `%r = mpc.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, Mpc_FloatTensor:$scale,
                       Optional<Mpc_FloatTensor>:$bias, I64Attr:$axis, F64Attr:$epsilon,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

def Mpc_BatchNormOp : Mpc_SensitiveOp<"batch_norm", [InferTypeOpAdaptor, Mpc_Accumulates,
                                                    Mpc_RangeRule]> {
  let summary = "batch normalization with given statistics (inference form)";
  let description = [{
    Channel dim 1: (x - mean) / sqrt(var + epsilon) * scale + bias. `momentum`
    is kept for training, where the running statistics are updated.

    `%r = mpc.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, Mpc_FloatTensor:$scale,
                       Mpc_FloatTensor:$bias, Mpc_FloatTensor:$mean,
                       Mpc_FloatTensor:$variance, F64Attr:$epsilon, F64Attr:$momentum,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// Reductions of constants fold where the order of the elements cannot
// matter: every integer reduction, and float max/min. A float sum depends on
// the order the compiled code adds in.
class Mpc_ReduceOp<string mnemonic, string category, list<Trait> traits = []>
    : Mpc_CategorizedOp<mnemonic, category, traits # [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let arguments = (ins Mpc_NumericTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}
def Mpc_ReduceSumOp : Mpc_ReduceOp<"reduce_sum", "Sensitive", [Mpc_Accumulates]> {
  let summary = "sum over `axes` (sorted, non-negative, unique)";
  let description = [{ `%r = mpc.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x8xf32>) -> tensor<2xf32>` }];
}
def Mpc_ReduceMeanOp : Mpc_ReduceOp<"reduce_mean", "Sensitive", [Mpc_Accumulates]> {
  let summary = "mean over `axes`";
  let description = [{ `%r = mpc.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>` }];
}
def Mpc_ReduceProdOp : Mpc_ReduceOp<"reduce_prod", "Sensitive", [Mpc_Accumulates]> {
  let summary = "product over `axes`";
  let description = [{ `%r = mpc.reduce_prod %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>` }];
}
def Mpc_ReduceMaxOp : Mpc_ReduceOp<"reduce_max", "Follow"> {
  let summary = "maximum over `axes` (exact in any precision)";
  let description = [{ `%r = mpc.reduce_max %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>` }];
}
def Mpc_ReduceMinOp : Mpc_ReduceOp<"reduce_min", "Follow"> {
  let summary = "minimum over `axes` (exact in any precision)";
  let description = [{ `%r = mpc.reduce_min %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>` }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def Mpc_MaxPoolOp : Mpc_FollowOp<"max_pool", [InferTypeOpAdaptor, Mpc_RangeRule]> {
  let summary = "N-d max pooling over the spatial dims of an NC[spatial] tensor";
  let description = [{
    Padding never wins the max. `ceil_mode` rounds the output size up.

    `%r = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>`
  }];
  let arguments = (ins Mpc_MaxPoolTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs Mpc_MaxPoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Mpc_AvgPoolOp : Mpc_FollowOp<"avg_pool", [InferTypeOpAdaptor, Mpc_Accumulates,
                                                Mpc_RangeRule]> {
  let summary = "N-d average pooling over the spatial dims of an NC[spatial] tensor";
  let description = [{
    Divides by the whole window when `count_include_pad`, else by the number
    of non-pad elements in it.

    `%r = mpc.avg_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>`
  }];
  let arguments = (ins Mpc_FloatTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       OptionalAttr<TypeAttr>:$acc_type);
  let results = (outs Mpc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// Every folder here moves constant elements as the lowering does; the
// trivial ones (to its own type, identity permutation, whole-tensor window)
// forward the input.
let hasFolder = 1 in {
def Mpc_ReshapeOp : Mpc_DataMovementOp<"reshape", [InferTypeOpAdaptor]> {
  let summary = "same elements in row-major order, new static shape";
  let description = [{ `%r = mpc.reshape %x {shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>` }];
  let arguments = (ins Mpc_Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Mpc_TransposeOp : Mpc_DataMovementOp<"transpose", [InferTypeOpAdaptor]> {
  let summary = "permute dims: result dim i is input dim perm[i]";
  let description = [{ `%r = mpc.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>` }];
  let arguments = (ins Mpc_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Mpc_ConcatOp : Mpc_DataMovementOp<"concat", [InferTypeOpAdaptor]> {
  let summary = "join tensors along a (non-negative) axis";
  let description = [{ `%r = mpc.concat %a, %b {axis = 0 : i64} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>` }];
  let arguments = (ins Variadic<Mpc_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Mpc_SliceOp : Mpc_DataMovementOp<"slice", [InferTypeOpAdaptor]> {
  let summary = "strided window: result[i] = input[offsets + i * strides], per dim";
  let description = [{
    One entry per dim in each attribute; strides may be negative (ONNX Slice
    with negative steps). Every index read must be in bounds.

    `%r = mpc.slice %x {offsets = array<i64: 0, 3>, sizes = array<i64: 2, 2>, strides = array<i64: 1, -1>} : (tensor<2x4xf32>) -> tensor<2x2xf32>`
  }];
  let arguments = (ins Mpc_Tensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Mpc_BroadcastOp : Mpc_DataMovementOp<"broadcast", [InferTypeOpAdaptor]> {
  let summary = "numpy broadcast of the input to exactly `shape`";
  let description = [{ `%r = mpc.broadcast %x {shape = array<i64: 3, 4>} : (tensor<1x4xf32>) -> tensor<3x4xf32>` }];
  let arguments = (ins Mpc_Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Mpc_GatherOp : Mpc_DataMovementOp<"gather", [InferTypeOpAdaptor]> {
  let summary = "take slices of `data` along `axis` at `indices` (embeddings)";
  let description = [{
    Result shape: data[:axis] + indices + data[axis+1:]. Negative indices count
    from the end; out-of-range indices are clamped by the lowering.

    `%r = mpc.gather %table, %ids {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x5xi64>) -> tensor<2x5x16xf32>`
  }];
  let arguments = (ins Mpc_Tensor:$data, Mpc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}
} // hasFolder

//===----------------------------------------------------------------------===//
// Parameters: the model's named state
//===----------------------------------------------------------------------===//

def Mpc_ParameterOp : Mpc_Op<"parameter", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a named model parameter (an ONNX initializer) and its value";
  let description = [{
    The model's state: weights and normalization statistics. Functions read it
    with `mpc.get_parameter`; training passes turn reads into function
    arguments and write new values back.

    `mpc.parameter @"fc1.weight" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>`
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$type,
                       ElementsAttr:$value, UnitAttr:$frozen);
  let assemblyFormat = "$sym_name (`frozen` $frozen^)? `:` $type `=` $value attr-dict";
  let hasVerifier = 1;
}

def Mpc_GetParameterOp : Mpc_DataMovementOp<"get_parameter",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "read a model parameter";
  let description = [{ `%w = mpc.get_parameter @"fc1.weight" : tensor<4x8xf32>` }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Mpc_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Training: losses and the ops gradients need (MpcTrainOps.td)
//===----------------------------------------------------------------------===//

include "mpc/Dialect/MpcTrainOps.td"

#endif // MPC_OPS_TD
