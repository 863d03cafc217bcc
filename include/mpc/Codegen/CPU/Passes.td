//===- Passes.td - CPU code generation ---------------------*- tablegen -*-===//
//
// CPU code generation: im2col, narrow floats on x86, register tiles, vectors,
// threads.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CODEGEN_CPU_PASSES_TD
#define MPC_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApproximateMathPass : Pass<"mpc-approximate-math"> {
  let summary = "Expand f32 math.tanh/erf/exp (scalar and vector) into inline polynomials";
  let description = [{
    libm has no vector entry points that LLVM uses here, so every lane of a
    vectorized elementwise op calls tanhf/erff/expf one at a time. This
    pass replaces those f32 math ops, scalar or vector, with MLIR's
    polynomial approximations (arith and math.fma only), which
    vectorize with the rest of the body. Only functions whose measured
    error stays within a few ulp (and inf/NaN/-0 right) are expanded; see
    docs/numerics.md for the sweep and test/e2e/test_math_approximation.py.
    Other math ops and other element types are left to libm.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def AsyncParallelForPass : Pass<"mpc-async-parallel-for", "::mlir::ModuleOp"> {
  let summary = "scf.parallel -> tasks on the async runtime, a few blocks per thread";
  let description = [{
    Upstream async-parallel-for with mpc's block size: each loop is cut into
    `blocks-per-thread` x (runtime thread count) blocks of consecutive
    iterations (upstream cuts 8 x threads for small thread counts). Every
    block is one task: a coroutine, a token and a queue entry, microseconds
    each; the loops mpc-parallelize-loops leaves are large and evenly
    divided, so more blocks only add dispatch cost. The thread that reaches
    the loop computes the first block and runs still-queued blocks while it
    waits (lib/Runtime/AsyncRuntime.cpp), so a slow or busy worker delays
    the loop by at most the block it has taken.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::async::AsyncDialect",
                           "::mlir::func::FuncDialect", "::mlir::scf::SCFDialect"];
  let options = [
    Option<"blocksPerThread", "blocks-per-thread", "int64_t", /*default=*/"1",
           "Blocks each parallel loop is cut into, per runtime thread">,
  ];
}

def BFloat16MemoryAsI16Pass : Pass<"mpc-bf16-memory-as-i16"> {
  let summary = "LLVM dialect loads and stores of bf16 vectors as i16 vectors plus bitcasts";
  let description = [{
    After the lowering to the LLVM dialect, bf16 values are only moved: the
    arithmetic and casts are integer code (mpc-emulate-narrow-floats). Where
    a loaded bf16 vector is stored as it is (a copy: the im2col of a bf16
    convolution), LLVM (22, x86 without AVX512-BF16) split the runs of
    `<16 x bfloat>` loads and stores into 16-bit scalar moves: torch_cnn's
    bf16 im2col copy ran ~10x slower than the f16 one, and the huge block
    took seconds in the instruction scheduler. Each llvm.load / llvm.store of
    a vector of bf16 becomes one of the same-width i16 vector with an
    llvm.bitcast beside it; the bytes moved are the same.
  }];
}

def ConvToMatmulPass : Pass<"mpc-conv-to-matmul", "::mlir::func::FuncOp"> {
  let summary = "Rewrite convolution (and filter gradient) generics as im2col patches + matmul-like generics";
  let description = [{
    Rewrites the linalg.generic that mpc.conv lowers to (input [N, G, C,
    S...] read at out * stride + kernel * dilation, weight [G, M, C,
    K...], accumulator [N, G, M, O...]) on tensors, after elementwise
    fusion. Generics are recognised by linalg::inferConvolutionDims, which
    classifies their loops (batch, depth, output channel, output image,
    input channel, filter loop) and reads the strides and dilations; the
    operand maps must then be exactly those of this layout or of the filter
    gradient's (below), whatever the loops' numbering. Anything else (other
    dim orders, more inputs, dynamic shapes, a body reading loop indices,
    non-positive strides) is left alone. It copies the input
    windows into a patches tensor [N, G, C * prod(kernel), prod(out)] and
    replaces the convolution by a generic over (n, g, m, p, k) with the same
    body (so casts fused into it stay, and products and sums keep their
    types and order) reading the patches and the weights [G, M, C *
    prod(kernel)] through plain maps. mpc-tile-and-vectorize then turns that
    into register tiles of vector FMAs. The output positions are done in
    blocks of whole rows (at most 256 positions, a divisor of the rows) in
    an scf.for, each block's patches built right before its matmul so they
    stay in cache. A block whose position count is not a multiple of the
    32-wide register tile is split into such a multiple and the rest; a rest
    that is not a power of two (49 = 32 + 17) runs on copies padded with zero
    columns to a multiple of the vector width, the padding dropped after.
    Unless the output channels are a multiple of 32: such a convolution is
    computed transposed, acc [N, G, M / 32, P, 32] += patches [N, G, P,
    C * prod(kernel)] x weight [G, M / 32, C * prod(kernel), 32], so that 32
    channels are the register tile's columns and the positions its rows (no
    padding, and the weights read once); the weight is packed at compile
    time when it is a constant, by a copy otherwise, and the accumulator is
    copied into and out of that layout (a fill is created in it directly).
    An f32 transposed convolution with unit stride and dilation along the
    last spatial dim and at least 8 output columns and input channels takes
    its reduction in (kernel..., c) order instead, in the patches and the
    packed weight alike: its im2col is then a transpose of input rows that
    mpc-vectorize-generics moves in register blocks. A constant start of
    the untransposed form also gets a fill of its own (CSE merges equal
    starts, which bufferization would copy per convolution).
    A 1x1 stride-1 convolution needs no copy: the input rows
    already are its patches. The filter gradient
    (mpc.conv_grad_filter: the same input, dy [N, G, M, O...], accumulator
    [G, M, C, K...]) becomes, per batch element, dy [G, M, P] times
    transposed patches [G, P, C * prod(kernel)]. Runs after fusion because the
    fusion pass would fuse the patches copy back into a convolution.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"minMacs", "min-macs", "int64_t", /*default=*/"1 << 12",
           "Leave convolutions with fewer multiply-adds than this alone: mpc-tile-and-vectorize "
           "leaves contractions this small (its own min-macs) as scalar loops, where the patches "
           "copy is pure cost">,
    Option<"keepLibraryConvs", "keep-library-convs", "bool", /*default=*/"false",
           "Leave the forward convolutions a convolution library runs as they stand "
           "(mpc::matchLibraryConvolution) to the target: the CUDA target calls cuDNN for them">,
    Option<"nativeBf16Dot", "native-bf16-dot", "bool", /*default=*/"false",
           "Keep bf16 patches bf16 (no widening into f32 patches in the transposed form), for "
           "mpc-tile-and-vectorize{native-bf16-dot}'s pair dot products, which read bf16">,
  ];
}

def EmulateNarrowFloatsPass : Pass<"mpc-emulate-narrow-floats"> {
  let summary = "bf16 arithmetic and f16/bf16 math via f32 with per-op rounding; bf16/fp8 casts as bit arithmetic";
  let description = [{
    Arith ops on bf16 and math ops on f16/bf16, scalar or vector, compute in
    f32 and round each result back, so no bf16 value reaches LLVM's
    legalizer and its libgcc calls, and no f16/bf16 math reaches libm.
    extf/truncf between bf16 and f32 become integer operations (a 16-bit
    shift; round to nearest even, NaN to 0x7FC0), on vectors too: LLVM
    would select vcvtneps2bf16 on AVX512-BF16, which flushes subnormals. extf/truncf between fp8 (f8E4M3FN, f8E5M2)
    and other floats become integer bit arithmetic rounding to nearest
    even; E4M3FN overflow gives NaN (it has no infinity) and E5M2 overflow
    infinity, as arith.truncf defines. Saturation is the caller's clamp
    (mpc.cast's lowering does it).

    The CPU pipeline runs it twice: on linalg bodies before they are
    vectorized (include-f16, no cast expansion: the bodies then hold only
    f32 arithmetic between casts, which vectorizes), and on the loops.
  }];
  let options = [
    Option<"includeF16", "include-f16", "bool", /*default=*/"false",
           "Widen f16 arithmetic too (LLVM promotes scalar f16 ops itself; a vectorizer "
           "wants f32 bodies)">,
    Option<"expandCasts", "expand-casts", "bool", /*default=*/"true",
           "Lower bf16 and fp8 extf/truncf to integer operations (off while the casts must "
           "stay casts for the vectorizer)">,
  ];
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

def OutlineKernelsPass : Pass<"mpc-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Outline each linalg op on buffers into a private function; identical ones share one";
  let description = [{
    Every linalg op on buffers in a function (also inside loops: a blocked
    convolution's per-block copy and matmul) becomes a call of
    a private, non-inlinable function taking the buffers (and other
    non-constant values) it uses; constants it uses are cloned into it.
    Views at a static offset are passed as views at a dynamic offset
    (memref.cast), so that the blocks of one op share a kernel.
    Kernels that print the same (same op, shapes, layouts and body) are one
    function: a model's repeated layers (BERT-base: 12) are tiled,
    vectorized and compiled by LLVM once instead of once per layer, and
    LLVM's per-function work no longer runs on one huge function. The
    kernels are private, so they get no C-interface wrapper.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect"];
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
    microseconds. scf.for loops a lowering marked `mpc.independent_iterations`
    (mpc-conv-to-matmul's blocks of output rows) with at least
    `min-independent-trips` iterations become scf.parallel themselves.
    Parallel loops nested in another parallel loop run sequentially, and so
    do all loops of a kernel that mpc-outline-kernels took out of such a loop
    (`mpc.called_in_independent_loop` at least `min-independent-trips`).
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"1 << 16",
           "Leave ops with fewer loop iterations (product of all loop ranges) sequential">,
    Option<"minParallelIterations", "min-parallel-iterations", "int64_t", /*default=*/"64",
           "Tile leading parallel dimensions until the scf.parallel has at least this many "
           "iterations (more dimensions only add per-iteration overhead)">,
    Option<"minIndependentTrips", "min-independent-trips", "int64_t", /*default=*/"4",
           "scf.for loops marked mpc.independent_iterations with at least this many iterations "
           "become scf.parallel (with fewer, the threads share the tiles inside them instead)">,
  ];
}

def TileAndVectorizePass : Pass<"mpc-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile matmul-like linalg.generic ops on buffers into register tiles and vectorize them";
  let description = [{
    Generic ops with a reduction, static shapes and projected-permutation
    maps (matmul, batched matmul, Gemm) are tiled [.., 8, 32] over the two
    innermost parallel dimensions and 8 over the reduction (each tile size
    shrunk to a divisor of its dimension, so tiles stay static), vectorized,
    and their vector.contract lowered to outer products (vector.fma). The
    output tile's read and write move out of the scf.for over the
    reduction: the accumulators stay in registers (an iter_arg) for the
    whole reduction. A reduction longer than 256 is first split into
    column panels (32 wide, all rows; the parallel loops) and, inside
    each, blocks of at most 256 reduction steps (an scf.for), the register
    tiles of all rows innermost: a panel's block of the column operand
    stays in L1 while every row tile uses it. The
    bf16/f16 -> f32 extensions stay separate ops: accumulation is in f32 as
    before, only the order of the additions changes. Casts of an operand
    run once per element: a column operand the body widens or rounds (a
    fused f32 -> bf16/f16 cast) is cast per panel of 32 columns into an f32
    buffer that all row tiles of the panel read (when more than one row tile
    does), a row operand the body rounds is cast whole into an f32 buffer
    before the op. Ops that do not fit
    (convolutions, dynamic shapes) are left for convert-linalg-to-loops.
    Vector transfers of rank > 1 are left for convert-vector-to-scf. The
    row operand's elements (each broadcast across a row of the tile) are
    read as scalar loads where they come straight from memory (f32, or
    bf16 widened after the load), not extracted from a vector load. In
    blocked contractions each row tile's loop over the reduction also
    prefetches (memref.prefetch, into L1) its share of the column operand's
    next block, so that the panel's first tile does not wait on L2/L3 for
    every block (option `prefetch`).
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect", "::mlir::x86vector::X86VectorDialect"];
  let options = [
    Option<"lowerVectorOps", "lower-vector-ops", "bool", /*default=*/"true",
           "Lower vector.contract to outer products/FMAs (false: stop after vectorization and contraction "
           "folding, to inspect or test that step)">,
    Option<"minMacs", "min-macs", "int64_t", /*default=*/"1 << 12",
           "Leave contractions with fewer multiply-adds than this as scalar loops (a tile body "
           "costs more compile time than such a contraction can save at run time)">,
    Option<"minParallelMacs", "min-parallel-macs", "int64_t", /*default=*/"1 << 20",
           "Contractions with fewer multiply-adds keep their tiles in sequential scf.for loops "
           "(dispatching them to threads would cost more than it saves)">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"true",
           "In contractions split into reduction blocks, prefetch the column operand's next block "
           "into L1, each row tile of a panel its share, while the current block is in use">,
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
           "Widest vector of the target CPU in bits: with vector-registers, sets the register tile "
           "(mpc::registerTileFor; 512 x 32: 8 x 32, 256 x 16: 6 x 16)">,
    Option<"vectorRegisters", "vector-registers", "int64_t", /*default=*/"32",
           "Vector registers of the target CPU">,
    Option<"nativeBf16Dot", "native-bf16-dot", "bool", /*default=*/"false",
           "bf16 x bf16 -> f32 contractions (columns a multiple of 4) as AVX512-BF16 pair dot "
           "products (x86vector.avx512.dot, vdpbf16ps) on a column operand packed per panel as "
           "[k/2][columns][2]: not bit-exact (another summation order, denormals flushed; "
           "docs/numerics.md). Only for targets with avx512bf16">,
    Option<"emulateBf16Dot", "emulate-bf16-dot", "bool", /*default=*/"false",
           "With native-bf16-dot: each pair dot product as two f32 FMAs in vdpbf16ps's order (the "
           "odd element's product, then the even one's), denormals kept: the same packing and loops "
           "on any CPU, for tests on hosts without avx512bf16">,
  ];
}

def VectorizeGenericsPass : Pass<"mpc-vectorize-generics", "::mlir::func::FuncOp"> {
  let summary = "Vectorize the innermost parallel dimension of elementwise/broadcast linalg.generic ops on buffers";
  let description = [{
    Runs after mpc-tile-and-vectorize on what it left. A generic op with
    static shapes, projected-permutation maps and a parallel innermost loop
    is tiled to 1 on every loop but the innermost, which gets the largest
    divisor of its size that is at most `vector-size` (no masks), and each
    tile is vectorized with linalg::vectorize: one vector op per scalar op of
    the body, lane-wise, so every element sees the same operations in the
    same order as in the scalar loops (results are bit-identical). Ops whose
    innermost size has no divisor >= 4, bodies with memref loads (gathers),
    reductions along the innermost loop (vectorizing those would reorder the
    sums), and bodies doing arithmetic on bf16/f16/fp8 (only their f32
    extension and rounding are vectorized; mpc-emulate-narrow-floats handles
    scalars) keep the scalar loops of convert-linalg-to-loops.
    Copies whose input map is no projected permutation but whose innermost
    loop walks both sides' last, unit-stride dimension (out[..., j] =
    in[..., j + shift], the im2col copy of a stride-1 convolution) become
    scalar loops over the other dimensions around vector loads and stores
    of `vector-size` elements, then one of each smaller power of two.
    Window reductions (max and average pooling: parallel loops indexing
    the output through an identity map, then the window's reduction loops;
    each input read either along the output width as `s * w + d * kw + c`
    in its last, unit-stride dim, kw the innermost loop, or not along it)
    become scalar loops over the other parallel dims around chunks of the
    output width (`vector-size` lanes in a loop, then smaller powers of
    two): the chunk's outputs are the accumulator, the window loops run
    around it in their order (kw unrolled, at most 16), and the body is
    applied lane-wise; a stride-s read is a load of s times the lanes
    (started up to s - 1 elements early at the row's end) and a shuffle.
    Each output sees the same ops in the same order: bit-identical.
    32-bit copies that transpose the two innermost memory dims (out[..., o,
    ..., i] = in[..., i + f, ..., o + g]: plain transposes and the
    channels-innermost im2col of mpc-conv-to-matmul) move in 16x16 blocks
    (8x8 for dims of 8 to 15): row loads, a vector.transpose lowered to
    AVX-512 shuffles, row stores; the last block of a dim that is no
    multiple of the block overlaps the one before it.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"vectorSize", "vector-size", "int64_t", /*default=*/"16",
           "Most lanes per vector op (16 f32 lanes = two AVX2 registers)">,
    Option<"approximatedMath", "approximated-math", "bool", /*default=*/"false",
           "Vectorize bodies calling f32 math.erf / math.tanh too: only when "
           "mpc-approximate-math runs later (it expands a vector op into the "
           "same polynomial per lane as a scalar one; math-to-libm would not "
           "lower a vector call in the CPU pipeline)">,
  ];
}

def WidenLongSumsPass : Pass<"mpc-widen-long-sums"> {
  let summary = "f32 sums and means over many elements accumulate in f64";
  let description = [{
    The CPU lowering adds a reduction's elements one after the other into
    one accumulator, so the rounding of a long f32 running sum dominates its
    error: a batch norm's statistics and gradient sums over N x H x W values
    per channel came out 7-36x further from f64 than PyTorch's, whose
    kernels sum in many partial accumulators. This pass gives every f32
    `mpc.reduce_sum` and `mpc.reduce_mean` without an accumulator of its own
    that reduces at least `min-count` elements an f64 accumulator
    (`acc_type = f64`): the sum is exact to about 1 ulp of f32 whatever its
    length, and rounds once. The CUDA target sums in trees and is left
    alone. Measured in docs/numerics.md ("Long f32 sums").
    `%s = mpc.reduce_sum %x {axes = array<i64: 0, 2, 3>, keepdims = false} : (tensor<64x8x8x8xf32>) -> tensor<8xf32>`
    becomes the same op with `acc_type = f64`.
  }];
  let options = [
    Option<"minCount", "min-count", "int64_t", /*default=*/"64",
           "Fewest reduced elements per result that get an f64 accumulator">,
  ];
}

#endif // MPC_CODEGEN_CPU_PASSES_TD
