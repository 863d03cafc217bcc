//===- Passes.td - CUDA code generation --------------------*- tablegen -*-===//
//
// CUDA code generation: linalg on buffers -> kernel schedules (scf.parallel
// mapped to blocks and threads) and library GEMMs, device memory, kernels
// named and outlined into one module, cubins + PTX packed into a fatbinary.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CODEGEN_CUDA_PASSES_TD
#define MPC_CODEGEN_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttachTargetsPass : Pass<"mpc-cuda-attach-targets", "::mlir::ModuleOp"> {
  let summary = "Attach one NVVM target per GPU architecture to the kernel module";
  let description = [{
    Every gpu.module gets `#nvvm.target` attributes for each chip of
    `chips` (default sm_80, sm_89, sm_90), all with the same PTX ISA
    version, so that gpu-module-to-binary emits one PTX per chip and
    mpc-cuda-pack-fatbin assembles them into one fatbinary. Chips are checked
    here (LLVM aborts on a chip/PTX pair it does not know).
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
  let options = [
    ListOption<"chips", "chips", "std::string", "GPU architectures (sm_80 ... sm_120)">,
    Option<"ptxVersion", "ptx-version", "int64_t", /*default=*/"81",
           "PTX ISA version x 10 for every chip (81: PTX 8.1, sm_89 fp8 conversions)">,
  ];
}

def DeviceMemoryPass : Pass<"mpc-cuda-device-memory", "::mlir::func::FuncOp"> {
  let summary = "Host allocations become device allocations";
  let description = [{
    After mpc-cuda-map-to-kernels every buffer the host code allocates is
    read and written only by kernels and library calls: memref.alloc and
    memref.alloca become gpu.alloc, memref.dealloc gpu.dealloc.
    gpu-async-region later chains them on the one stream. Host code that
    still reads or writes a buffer's elements is an error naming the op.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def KernelReportPass : Pass<"mpc-cuda-kernel-report", "::mlir::ModuleOp"> {
  let summary = "List every CUDA kernel: fused ops, grid/block, bytes, FLOPs, ONNX nodes";
  let description = [{
    Prints what mpc-cuda-map-to-kernels recorded in the module's
    `mpc.cuda_kernels` attribute, as a text table or JSON, to `output`
    (`-`: stdout). Leaves the IR unchanged.
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"text\"", "text or json">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"", "file, or - for stdout">,
  ];
}

def LowerFloat8CastsPass : Pass<"mpc-cuda-lower-fp8-casts", "::mlir::gpu::GPUModuleOp"> {
  let summary = "fp8 casts in kernels as the hardware's conversions (sm_89 and newer)";
  let description = [{
    arith.truncf to f8E4M3FN / f8E5M2 becomes `cvt.rn.satfinite.e4m3x2.f32`
    (nvvm.convert.f32x2.to.f8x2) with the non-saturating result restored
    for values past the largest finite one (NaN for E4M3FN, infinity for
    E5M2; saturating casts clamp before the truncf, mpc-lower-to-linalg),
    and arith.extf from fp8 `cvt.rn.f16x2.e4m3x2` then an exact widening.
    Narrower sources go through f32 exactly. The conversions exist from
    sm_89 on: a kernel module that also targets an older chip and holds an
    fp8 cast is an error that says which architectures to drop.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"];
}

def MapToKernelsPass : Pass<"mpc-cuda-map-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Linalg ops on buffers -> GPU kernel schedules and library GEMMs";
  let description = [{
    Every linalg op (and memref.copy) left in a host function after
    bufferization becomes one kernel: an scf.parallel over blocks holding an
    scf.parallel over threads, mapped to block_x/thread_x, which
    convert-parallel-loops-to-gpu turns into a gpu.launch. Schedules:

    - `elementwise` (no reduction loop; copies, transposes, fused
      elementwise chains): the iteration space is linearized, one thread per
      element, or per `vector-width-bits` of the innermost dimension
      (128-bit loads/stores) when every operand is contiguous and aligned
      there;
    - `row-fusedN` / `row-reduction` (reductions over each row's inner
      loops, whose body combines the accumulator with a recognised
      associative op, with the elementwise ops before and after them over
      the same rows, e.g. softmax or layer norm): one block per row, every
      phase strided over the row by the block's threads, each reduction's
      partials combined by gpu.all_reduce (warp shuffles + shared memory),
      its row value kept in registers for the later phases;
    - `row-reduction` also for other reductions large enough (any loop
      order): one block per output element, partials combined with
      scf.reduce;
    - `sequential` (everything else, e.g. pooling windows): one thread per
      output element, reduction loops in the thread.

    Loops lowering left in host code (scatter-adds) become kernels too:
    `scatter-ordered` (a perfect nest whose one write is a read-add-write
    update: each element owned by one thread, which adds its updates in the
    loops' order; the loops indexing the element directly, and the rows of
    one computed index dealt round-robin, spread over threads), with
    `atomic-scatter` `scatter-atomic` instead (a nest whose writes are all
    such updates: one thread per iteration, atomic adds, the sum order
    nondeterministic), or `serial` (one thread).

    Contractions that are GEMMs (one M, N, K dimension, at most one batch
    dimension, a multiply-add body, f32/f16/bf16 operands) become calls to
    `mpc_cuda_matmul` (cuBLASLt, lib/Runtime/CUDA) with memref.transpose
    views for transposed operands when `library-gemm` is set. Calls of the
    functions mpc-cuda-match-attention outlined become calls to
    `mpc_cuda_attention` (cuDNN), and those functions go.
    A description of every kernel goes to the module's `mpc.cuda_kernels`.
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256", "Threads per block">,
    Option<"libraryGemm", "library-gemm", "bool", /*default=*/"true",
           "GEMMs through cuBLASLt; false: generated kernels (one thread per output)">,
    Option<"allowTf32", "allow-tf32", "bool", /*default=*/"false",
           "Let cuBLASLt (and cuDNN) use TF32 tensor cores for f32 GEMMs (and convolutions)">,
    Option<"libraryConv", "library-conv", "bool", /*default=*/"false",
           "Forward convolutions cuDNN takes (mpc::matchLibraryConvolution) through cuDNN "
           "(mpc_cuda_conv); false: generated kernels">,
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"128",
           "Width of elementwise kernels' loads and stores (0: scalar)">,
    Option<"vectorNarrowFloats", "vector-narrow-floats", "bool", /*default=*/"true",
           "Vectorize kernels that compute on f16/bf16 too (false: for the CPU check, whose "
           "narrow-float emulation handles scalars only)">,
    Option<"sequentialPhases", "sequential-phases", "bool", /*default=*/"false",
           "Row kernels as one thread loop per phase with scf.reduce (for the CPU check) "
           "instead of one thread loop with gpu.all_reduce between phases">,
    Option<"minRowReduction", "min-row-reduction", "int64_t", /*default=*/"32",
           "Smallest reduction size given a block of threads per output element">,
    Option<"atomicScatter", "atomic-scatter", "bool", /*default=*/"false",
           "Scatter-adds as one thread per update with atomic adds (nondeterministic sums); "
           "false: each element's updates added in order by one thread">,
  ];
}

def MatchAttentionPass : Pass<"mpc-cuda-match-attention", "::mlir::ModuleOp"> {
  let summary = "Attention chains on the mpc dialect -> calls cuDNN's fused attention will run";
  let description = [{
    Finds `matmul(softmax(scale * matmul(Q, K^T) + mask), V)` as torch
    exports it: the first matmul's right operand a Transpose of K (or K^T
    itself), a Div or Mul by a constant scalar (or none), an optional Add of
    a mask broadcastable to the scores, Softmax over the last axis, casts
    anywhere between them (Q, K, V and the output f16 or bf16, all one type;
    scores and softmax in that type or f32). Q, K, V of rank 3 or 4 with the
    same leading dims, head sizes multiples of 8 up to 128, every
    intermediate used once.

    Each chain is outlined into a private function tagged
    `mpc.cuda_library = "attention"` and described by `mpc.attention`
    (scale; permutations under which its arguments and result are Q, K, V
    and O, absorbing the head transposes around the chain; the ONNX nodes
    replaced), and called. The call survives lowering and bufferization;
    mpc-cuda-map-to-kernels turns it into a call of the runtime's
    `mpc_cuda_attention` and drops the function. Chains that do not qualify
    are left alone (generated kernels).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"];
}

def MergeLaunchesPass : Pass<"mpc-cuda-merge-launches", "::mlir::ModuleOp"> {
  let summary = "Independent elementwise kernels as one launch (multi-tensor apply)";
  let description = [{
    Runs on the kernel schedules of mpc-cuda-map-to-kernels (block loops
    around thread loops, before they become gpu.launch ops). In each stretch
    of a host function that holds only such kernels, allocations, pure ops
    and deallocations, the `elementwise` / `elementwise-vectorN` kernels are
    ordered into levels: a kernel goes one level after the latest kernel
    before it that writes a buffer it touches or touches a buffer it writes
    (buffers are allocations and function arguments, which never overlap;
    a view is its buffer; a kernel naming any other buffer is left alone).
    The kernels of one level (same block size) run as one kernel, at most
    `max-kernels` of them and `max-param-bytes` of kernel parameters as
    gpu-kernel-outlining will pass them: its grid is the sum of their grids
    and each block runs the body of the kernel its index falls in (a binary
    search over the start blocks), with its block index from there. Every
    kernel of the stretch then runs at its end, level after level, and its
    deallocations after them. The merged kernel keeps the first one's name;
    its `mpc.cuda_kernels` record (strategy `multi-elementwise`) sums their
    bytes and FLOPs, joins their ops and ONNX nodes and lists them under
    `merged`; library calls' kernel-table positions are renumbered.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"];
  let options = [
    Option<"maxKernels", "max-kernels", "int64_t", /*default=*/"32",
           "Most kernels one launch runs">,
    Option<"maxParamBytes", "max-param-bytes", "int64_t", /*default=*/"3072",
           "Most bytes of kernel parameters one launch takes (the limit is 4096)">,
  ];
}

def PackFatbinPass : Pass<"mpc-cuda-pack-fatbin", "::mlir::ModuleOp"> {
  let summary = "One fatbinary per gpu.binary: a cubin per chip (ptxas) plus the newest PTX";
  let description = [{
    Runs after gpu-module-to-binary{format=isa}: each PTX object of a
    gpu.binary is assembled by the toolkit's ptxas into a cubin, and
    fatbinary packs the cubins with the PTX of the newest chip (which the
    driver compiles for GPUs newer than every cubin). The gpu.binary is left
    with that one fatbinary object, loaded with cuModuleLoadData, which
    picks the cubin of the GPU it runs on.
  }];
  let options = [
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "CUDA toolkit folder (default: $CUDA_HOME, then /usr/local/cuda)">,
  ];
}

def ElideHostWaitsPass : Pass<"mpc-cuda-elide-host-waits", "::mlir::func::FuncOp"> {
  let summary = "Drop the host waits gpu-async-region puts before runtime library calls";
  let description = [{
    Runs after gpu-async-region, which ends every chain of asynchronous GPU
    ops with a blocking `gpu.wait` before the next host op, such as a call
    of `mpc_cuda_matmul`. The CUDA runtime runs everything (kernels, copies,
    cuBLASLt and cuDNN calls) on one stream, in order, so a wait whose only
    followers up to the next asynchronous GPU op are runtime library calls
    (`mpc_cuda_*`) and the host arithmetic and stack buffers that build
    their arguments orders nothing: it is erased, and the host no longer
    stalls before every library call. Waits followed by anything else (a
    return, another call, host reads of memory, regions) stay.

    With `at-return`, a wait followed only by such host work and the
    function's return goes too: the function then returns with its work
    still queued, and whoever reads a result (or frees a host buffer a
    queued copy reads) must synchronize the stream first. The trainer does
    (its downloads are queued behind the step on the one stream and wait for
    it), which lets the GPU run ahead of the host; entry points whose callers
    read results directly keep the wait.
  }];
  let options = [
    Option<"atReturn", "at-return", "bool", /*default=*/"false",
           "Also drop the wait before the return (the caller synchronizes)">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def PrepareLaunchesPass : Pass<"mpc-cuda-prepare-launches", "::mlir::func::FuncOp"> {
  let summary = "Name each gpu.launch's kernel and give its all-reduces an operation kind";
  let description = [{
    Runs after convert-parallel-loops-to-gpu: each gpu.launch gets the
    kernel name mpc-cuda-map-to-kernels gave its loop (a NameLoc) and the
    one kernel module `mpc_kernels`, so gpu-kernel-outlining names kernels
    as the kernel report does; gpu.all_reduce ops whose region is a single
    arith op become the attribute form, which convert-gpu-to-nvvm lowers to
    shuffles.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // MPC_CODEGEN_CUDA_PASSES_TD
