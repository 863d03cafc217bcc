//===- Pipeline.h - the tensor-level steps every target shares --*- C++ -*-===//
#ifndef MPC_CODEGEN_COMMON_PIPELINE_H
#define MPC_CODEGEN_COMMON_PIPELINE_H

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mpc {
/// mpc (any precision) -> linalg on tensors, elementwise chains fused into
/// one generic each (never recomputing a producer), common subexpressions
/// merged. Each target's pipeline (lib/Target/<Target>) starts with this.
void buildTensorPipeline(mlir::OpPassManager &pm);

/// Tensors -> buffers, the same for every target: plain dense memrefs at
/// function boundaries, results as caller-allocated out-parameters, every
/// allocation freed after its last use.
void buildBufferizationPipeline(mlir::OpPassManager &pm);
} // namespace mpc

#endif // MPC_CODEGEN_COMMON_PIPELINE_H
