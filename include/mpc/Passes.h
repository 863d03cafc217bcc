//===- Passes.h - every mpc pass --------------------------------*- C++ -*-===//
#ifndef MPC_PASSES_H
#define MPC_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class DialectRegistry;
namespace arith { class ArithDialect; }
namespace bufferization { class BufferizationDialect; }
namespace linalg { class LinalgDialect; }
namespace math { class MathDialect; }
namespace scf { class SCFDialect; }
namespace tensor { class TensorDialect; }
} // namespace mlir

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Passes.h.inc"

/// Options of the pipeline that takes mpc IR to the LLVM dialect.
struct LowerToLLVMOptions {
  /// Emit `_mlir_ciface_` wrappers for the entry function (for the JIT).
  bool emitCInterface = true;
  /// Run the outer dimensions of large ops on the thread pool of
  /// lib/Runtime/AsyncRuntime.cpp (thread count chosen at run time); false
  /// gives purely sequential code that needs no thread at all.
  bool parallelLoops = true;
  /// One function per distinct kernel (mpc-outline-kernels); false keeps
  /// every kernel inline in the model function, as before that pass (for
  /// comparisons).
  bool outlineKernels = true;
  /// Expand f32 tanh/erf/exp/... into inline polynomials that vectorize
  /// (mpc-approximate-math) instead of calling libm once per element.
  bool approximateMath = true;
};

/// mpc (any precision) -> linalg -> bufferized loops -> LLVM dialect. The
/// function's results become trailing out-parameters (memrefs) the caller
/// allocates.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm, const LowerToLLVMOptions &options = {});

/// Registers `mpc-lower-to-llvm` as a named pipeline for mpc-opt.
void registerMpcPipelines();

/// Every dialect mpc's tools can read or produce.
void registerAllMpcDialects(mlir::DialectRegistry &registry);
} // namespace mpc

#endif // MPC_PASSES_H
