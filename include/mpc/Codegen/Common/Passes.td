//===- Passes.td - passes every target wants ---------------*- tablegen -*-===//
//
// linalg-level transformations every target wants.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CODEGEN_COMMON_PASSES_TD
#define MPC_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def CheckLoweredToLLVMPass : Pass<"mpc-check-lowered-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Fail on any op left outside the LLVM dialect";
  let description = [{
    Some conversions leave ops they cannot handle in place and still succeed
    (fp8 arith.truncf is one); the JIT would then fail far from the cause.
    This pass names every such op and its location instead.
  }];
}

def FlattenConstantGlobalsPass : Pass<"mpc-flatten-constant-globals", "::mlir::ModuleOp"> {
  let summary = "Store N-D constant memref.globals (weights) as 1-D globals read through expand_shape";
  let description = [{
    LLVM lowers an N-D global to nested arrays, one constant object per
    innermost row; weights with small innermost dims (1x1 convolutions) made
    the JIT's compile time and memory explode (ResNet-50: over a minute,
    4 GB), and float arrays are written element by element. A global of
    bytes (i8) is one blob; memref.get_global of it is followed by
    memref.view to the element type and memref.expand_shape to the original
    shape (views, no copy). Splats, non-constant globals, i1 data and
    non-identity layouts are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def FuseElementwisePass : Pass<"mpc-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg.generic producers into consumers, unless that recomputes work";
  let description = [{
    linalg-fuse-elementwise-ops with a cost check. Upstream's default fuses a
    single-use producer into its consumer whatever the consumer's indexing
    map; when that map leaves out consumer loops (the producer feeds a
    contraction, e.g. GELU into the next matmul, softmax's exp/divide into
    attention x V), the fused body recomputes the producer once per value of
    the missing loops: the test encoder evaluated erf 32x and exp 8x too
    often. Here such a fusion is refused unless the producer's body is only
    float casts (extf/truncf, which mpc-tile-and-vectorize folds into its
    register tiles) or a plain copy/broadcast. Fusions that keep one
    producer evaluation per element (elementwise chains, a producer read
    through a permutation) are done as before, as are the reshape
    propagations of the upstream pass. A producer with several uses is
    fused into an elementwise consumer over the same loops that reads it at
    one permuted point, as a multi-result generic that also stores the
    producer's results for its other users (which must come after the
    consumer); upstream's pattern would instead keep the producer and
    evaluate its body again in the consumer. Per-element arithmetic is
    unchanged, so results are bit-identical to the upstream pass's.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def ResultsInPlacePass : Pass<"mpc-results-in-place", "::mlir::func::FuncOp"> {
  let summary = "Let each result be computed in its out-parameter instead of a buffer copied into it";
  let description = [{
    buffer-results-to-out-params ends a function with one memref.copy per
    result, from the buffer the result was computed in to the caller's
    out-parameter: a copy per result per call (in a train step, a copy of
    every state tensor, as a kernel of its own on the GPU). Where that buffer
    is a static memref.alloc of the out-parameter's type in the function
    body, not used after the copy (through views either) except by other
    copies reading it, and the out-parameter is used by that copy only, the
    allocation is replaced by the out-parameter and the copy disappears.
    A buffer returned twice keeps the later copies, which then read the
    first out-parameter. (Upstream's hoist-static-allocs option does the
    replacement without these checks and crashes on a buffer returned
    twice.) Out-parameters must not alias each other or the inputs, which
    every caller of mpc's entry points guarantees (docs/mpc-compile.md).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def PadInPlacePass : Pass<"mpc-pad-in-place", "::mlir::func::FuncOp"> {
  let summary = "Let the producer of a padded tensor write into the padded buffer's interior";
  let description = [{
    For a tensor.pad (static shapes, constant padding value) whose source is
    the only use of a linalg op's result that the op writes without reading
    (its init is a tensor.empty): a fill of the padded shape moves before the
    producer, the producer's init becomes the fill's interior slice, and the
    pad becomes the tensor.insert_slice of the producer's result into the
    fill. One-shot bufferization then has the producer write into the padded
    buffer, with no copy of the interior.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"keepLibraryConvPads", "keep-library-conv-pads", "bool", /*default=*/"false",
           "Leave alone pads that are the same on both sides and read only by convolutions a "
           "library runs (mpc::matchLibraryConvolution): the CUDA target folds them into "
           "cuDNN's padding">,
  ];
}

#endif // MPC_CODEGEN_COMMON_PASSES_TD
