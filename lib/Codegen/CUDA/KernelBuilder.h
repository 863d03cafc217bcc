//===- KernelBuilder.h - building blocks of CUDA kernel schedules -*- C++ -*-===//
//
// Internal to lib/Codegen/CUDA: what mpc-cuda-map-to-kernels' strategies
// share (payload emission at a loop point, index arithmetic, reductions'
// combiners, the kernel report's measures) and the GEMM matcher.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CODEGEN_CUDA_KERNELBUILDER_H
#define MPC_LIB_CODEGEN_CUDA_KERNELBUILDER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace mpc::cuda {
using namespace mlir;

/// What one kernel (or library call) does, for the kernel report.
struct KernelInfo {
  std::string name;
  std::string strategy;
  llvm::SetVector<StringRef> ops;
  llvm::SetVector<StringRef> nodes;
  int64_t grid = 0, block = 0;
  int64_t bytesRead = 0, bytesWritten = 0, flops = 0;
  /// A library GEMM's epilogue ("bias+relu", ...), empty when none.
  std::string epilogue;
  /// The runtime call a library strategy emitted (mpc_cuda_matmul, ...):
  /// announced to the runtime by its kernel-table position.
  Operation *libraryCall = nullptr;
};

/// The associative op that combines a reduction's accumulator with each new
/// value, when the body is `acc' = combine(acc, f(inputs))` and the
/// accumulator is used nowhere else.
struct Combiner {
  Operation *op = nullptr;
  TypedAttr identity;
};

int64_t product(ArrayRef<int64_t> values);
Value indexConst(OpBuilder &b, Location loc, int64_t v);

/// Splits a linear index into one index per size (row-major).
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> sizes);

/// The indices an indexing map gives at loop point `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map, ValueRange ivs);

/// A buffer as the kernel must see it: constant globals (host memory) are
/// re-created, with their views, inside the kernel (`cloned` remembers them).
Value inKernel(OpBuilder &b, Value buffer, IRMapping &cloned);

/// The payload of `op` at loop point `ivs`: operands loaded (inits replaced
/// by `accs` where given, buffers in `uniforms` by their value), body
/// cloned. Returns the yielded values.
SmallVector<Value> emitPayload(OpBuilder &b, Location loc, linalg::LinalgOp op, ValueRange ivs,
                               ArrayRef<Value> accs, IRMapping &buffers,
                               const llvm::DenseMap<Value, Value> *uniforms = nullptr);

/// Stores `values` into `op`'s inits at loop point `ivs`.
void storeResults(OpBuilder &b, Location loc, linalg::LinalgOp op, ValueRange ivs,
                  ValueRange values, IRMapping &buffers);

/// The combiner of a one-result reduction whose body is
/// `acc' = combine(acc, f(inputs))`, the accumulator used nowhere else.
std::optional<Combiner> matchCombiner(linalg::LinalgOp op);

/// `combiner` applied to (accumulator, value) in the order the body has it.
Value combine(OpBuilder &b, const Combiner &combiner, linalg::LinalgOp op, Value acc, Value value);

/// gpu.all_reduce's name for a combiner op.
std::optional<gpu::AllReduceOperation> allReduceKind(Operation *combine);

/// The buffer a view (subview, expand/collapse_shape, transpose, cast) is a
/// view of; `buffer` itself otherwise.
Value rootBuffer(Value buffer);

/// Whether `op` (or an op nested in it) has a memref operand that is `root`
/// or a view of it.
bool usesBuffer(Operation *op, Value root);

/// Bytes a buffer of `type` holds (index elements as 64-bit).
int64_t bufferBytes(MemRefType type);

/// Operand and result bytes and floating-point ops of `op` over `points`
/// loop points, added to `info`.
void measure(linalg::LinalgOp op, int64_t points, KernelInfo &info);

/// Names of the ONNX nodes an op came from (the importer's NameLocs, kept on
/// the ops fusion merged into its body).
void collectNodes(Operation *op, llvm::SetVector<StringRef> &nodes);

/// Marks a loop as the GPU's blocks (x) or threads (x).
void mapToBlocks(scf::ParallelOp loop);
void mapToThreads(scf::ParallelOp loop);

/// Whether `v` is a float constant zero.
bool isZeroConstant(Value v);

/// Whether any op strictly between `from` and `to` (one block) may write
/// `buffer` (or a view of it).
bool writtenBetween(Operation *from, Operation *to, Value buffer);

/// The constant fill of `init` right before `op` (nothing in between
/// touching `init`), if there is one.
linalg::FillOp fillRightBefore(Operation *op, Value init);

//===----------------------------------------------------------------------===//
// Row groups (RowKernels.cpp)
//===----------------------------------------------------------------------===//

struct RowKernelOptions {
  int64_t blockSize = 256;
  /// One thread loop per phase with scf.reduce (runs on the CPU) instead of
  /// one thread loop with gpu.all_reduce between phases.
  bool sequentialPhases = false;
  /// Reductions whose accumulator's fill was folded away: its constant.
  const llvm::DenseMap<Operation *, Value> *initialValues = nullptr;
};

/// Runs of `ops` (in program order) that become one row kernel each: at
/// least one reduction whose combiner gpu.all_reduce knows over at least
/// `minLength` elements per row, with the elementwise ops before and after
/// it over the same rows.
SmallVector<SmallVector<linalg::LinalgOp>> findRowGroups(ArrayRef<linalg::LinalgOp> ops,
                                                         int64_t minLength);

/// Replaces `group` with its kernel (named info.name), filling `info`.
void mapRowGroup(ArrayRef<linalg::LinalgOp> group, const RowKernelOptions &options,
                 KernelInfo &info);

//===----------------------------------------------------------------------===//
// Column reductions (ColumnKernels.cpp)
//===----------------------------------------------------------------------===//

/// A one-result reduction over at least `minRows` points whose innermost
/// loop is parallel (it sums over leading dims: a bias gradient), static.
bool isColumnReduction(linalg::LinalgOp op, int64_t minRows);

/// Replaces `op` (isColumnReduction, `combiner` its combiner) with its
/// kernels: the partial sums of row slices (pushed to `kernels`) then their
/// combination (described in `info`), or one kernel when one slice does.
/// `initialValue`: the constant the output starts from when its fill was
/// folded away (null: the output's current value).
void mapColumnReduction(linalg::LinalgOp op, const Combiner &combiner, Value initialValue,
                        KernelInfo &info, SmallVectorImpl<KernelInfo> &kernels);

//===----------------------------------------------------------------------===//
// Loops lowering left on the host (HostLoops.cpp)
//===----------------------------------------------------------------------===//

/// Every top-level op of `func` with regions (loops, ifs) that reads or
/// writes device memory becomes a kernel. A perfect loop nest whose one
/// write is a read-add-write update (a scatter-add) gives each element to
/// one thread, which adds its updates in the loops' order
/// (`scatter-ordered`); with `atomicScatter`, a nest of such updates runs
/// one thread per iteration with atomic adds (`scatter-atomic`). Any other
/// runs in one thread.
void mapHostLoops(func::FuncOp func, int64_t blockSize, bool atomicScatter,
                  SmallVectorImpl<KernelInfo> &kernels);

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

/// The ABI element type code (Abi.h's MPC_DT_*) of an f32, f16 or bf16
/// library operand; nullopt for other types.
std::optional<int32_t> libraryDtype(Type t);

/// A contraction cuBLASLt can run: which input is A, each operand's
/// permutation to GEMM order (A [b, m, k], B [b, k, n], C [b, m, n]) and the
/// groups of dims collapsed into each GEMM dim, the element type codes.
struct GemmMatch {
  OpOperand *a, *b, *c;
  SmallVector<int64_t> perms[3];
  SmallVector<ReassociationIndices> groups[3];
  int32_t dtypes[3];
  /// A and B: the narrower type the body rounds the operand to first, if any.
  Type casts[2];
};

std::optional<GemmMatch> matchGemm(linalg::LinalgOp op);

/// The ABI element type code (MPC_DT_*) of a library call's f32, f16 or bf16
/// operand.
std::optional<int32_t> libraryDtype(Type t);

/// Whether the dims of `type`, permuted by `perm`, can be collapsed as
/// `groups` without a copy (each group contiguous in memory).
bool collapsible(MemRefType type, ArrayRef<int64_t> perm, ArrayRef<ReassociationIndices> groups);

//===----------------------------------------------------------------------===//
// Convolutions through cuDNN (LibraryConv.cpp)
//===----------------------------------------------------------------------===//

/// How a forward convolution becomes an mpc_cuda_conv call: the input it
/// reads (the unpadded source when its zero padding was folded) with
/// cuDNN's padding, and whether its output's zero fill was folded (beta = 0).
struct LibraryConv {
  Value input;
  SmallVector<int64_t> pads;
  bool beta0 = false;
};

/// Whether mpc_cuda_conv runs `op`: a library convolution
/// (mpc::matchLibraryConvolution) with work to do, device operands, the
/// input and output [N, G, C, ...] collapsible to [N, G * C, ...] and the
/// weight a packed [G * M, C, K...] buffer.
bool isLibraryConv(linalg::LinalgOp op);

/// Prepares every library convolution of `func` (isLibraryConv) in `convs`,
/// folding into it the zero fill of its output right before it (beta = 0)
/// and the symmetric zero padding of its input (a buffer filled with zeros
/// whose interior is a copy of the source, read by nothing else): the fill
/// and copy go, and the padded buffer is added to `unused` (freed once its
/// convolutions are).
void prepareLibraryConvs(func::FuncOp func, llvm::DenseMap<Operation *, LibraryConv> &convs,
                         SmallVectorImpl<Value> &unused);

/// Replaces `op` by its mpc_cuda_conv call, described in `info`.
void mapLibraryConv(linalg::LinalgOp op, const LibraryConv &conv, bool allowTf32,
                    KernelInfo &info);

/// Whether `buffer` is (a view of) a constant global: host memory, which a
/// library call cannot read (kernels take the global into the GPU module).
bool isHostGlobal(Value buffer);

//===----------------------------------------------------------------------===//
// Attention (Attention.cpp)
//===----------------------------------------------------------------------===//

/// The attribute mpc-cuda-match-attention gives the functions it outlines
/// (value "attention"), and their description: scale, the permutations
/// that give Q, K, V and O as [.., S, D] views of the arguments and result,
/// the ONNX nodes replaced.
inline constexpr char kCudaLibraryAttr[] = "mpc.cuda_library";
inline constexpr char kAttentionAttr[] = "mpc.attention";

/// Whether `op` calls a function mpc-cuda-match-attention outlined.
bool isAttentionCall(Operation *op);

/// Replaces the call `op` (after bufferization: Q, K, V, mask?, O) with a
/// call to mpc_cuda_attention, returned and described in `info`. Operands in
/// host memory (constant globals) are first copied to device buffers by
/// linalg.copy ops, left for the kernel mapping.
FailureOr<func::CallOp> lowerAttentionCall(func::CallOp op, KernelInfo &info);

} // namespace mpc::cuda

#endif // MPC_LIB_CODEGEN_CUDA_KERNELBUILDER_H
