//===- Passes.td - passes private to the lowering pipeline -*- tablegen -*-===//
//
// Steps of `mpc-lower-to-llvm` that are not mpc -> linalg proper. They are
// registered with mpc-opt (registerMpcPipelines) so lit can run each alone.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CONVERSION_PASSES_TD
#define MPC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def CheckLoweredToLLVMPass : Pass<"mpc-check-lowered-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Fail on any op left outside the LLVM dialect";
  let description = [{
    Some conversions leave ops they cannot handle in place and still succeed
    (fp8 arith.truncf is one); the JIT would then fail far from the cause.
    This pass names every such op and its location instead.
  }];
}

def EmulateNarrowFloatsPass : Pass<"mpc-emulate-narrow-floats"> {
  let summary = "bf16 arithmetic and f16/bf16 math via f32 with per-op rounding; fp8 casts as bit arithmetic";
  let description = [{
    Scalar arith ops on bf16 and math ops on f16/bf16 compute in f32 and
    round each result back (arith-expand then lowers the bf16 casts to
    integer operations), so no bf16 value reaches LLVM's legalizer and its
    libgcc calls, and no f16/bf16 math reaches libm. extf/truncf
    between fp8 (f8E4M3FN, f8E5M2) and other floats become integer bit
    arithmetic rounding to nearest even; E4M3FN overflow gives NaN (it has
    no infinity) and E5M2 overflow infinity, as arith.truncf defines.
    Saturation is the caller's clamp (mpc.cast's lowering does it).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LowerStridedCopiesPass : Pass<"mpc-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    finalize-memref-to-llvm lowers contiguous copies to memcpy but strided
    ones (padding, concat into a subview) to a call into MLIR's C runner
    library; as loops they need no library at all.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ParallelizeLoopsPass : Pass<"mpc-parallelize-loops", "::mlir::func::FuncOp"> {
  let summary = "Turn the outer parallel dimensions of large linalg ops on buffers into scf.parallel";
  let description = [{
    Linalg ops with static shapes, at least `min-work` loop iterations and a
    parallel outermost dimension are tiled by 1 over their leading parallel
    dimensions (outermost first, until `min-parallel-iterations` tiles) into
    one scf.parallel; the op on each tile is left for convert-linalg-to-loops.
    async-parallel-for then spreads the scf.parallel over threads. Every
    output element is still computed by one thread with the same operations
    in the same order (reductions are never split), so results do not depend
    on the thread count. Smaller ops stay sequential: dispatching a task costs
    microseconds.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"1 << 16",
           "Leave ops with fewer loop iterations (product of all loop ranges) sequential">,
    Option<"minParallelIterations", "min-parallel-iterations", "int64_t", /*default=*/"64",
           "Tile leading parallel dimensions until the scf.parallel has at least this many "
           "iterations (more dimensions only add per-iteration overhead)">,
  ];
}

def TileAndVectorizePass : Pass<"mpc-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile matmul-like linalg.generic ops on buffers into register tiles and vectorize them";
  let description = [{
    Generic ops with a reduction, static shapes and projected-permutation
    maps (matmul, batched matmul, Gemm) are tiled [.., 8, 32] over the two
    innermost parallel dimensions and 64 over the reduction (each tile size
    shrunk to a divisor of its dimension, so tiles stay static), vectorized,
    and their vector.contract lowered to outer products (vector.fma). The
    bf16/f16 -> f32 extensions stay separate ops: accumulation is in f32 as
    before, only the order of the additions changes. Ops that do not fit
    (convolutions, dynamic shapes) are left for convert-linalg-to-loops.
    Vector transfers of rank > 1 are left for convert-vector-to-scf.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"lowerVectorOps", "lower-vector-ops", "bool", /*default=*/"true",
           "Lower vector.contract to outer products/FMAs (false: stop after vectorization and contraction "
           "folding, to inspect or test that step)">,
    Option<"minMacs", "min-macs", "int64_t", /*default=*/"1 << 20",
           "Leave contractions with fewer multiply-adds than this as scalar loops: the unrolled "
           "tiles multiply the IR (the test encoder compiled in 10 s instead of 2.3 s) and gain "
           "nothing on small matmuls (docs/benchmarks.md)">,
  ];
}

#endif // MPC_CONVERSION_PASSES_TD
