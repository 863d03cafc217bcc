//===- TrainIR.h - the IR contract between the training passes --*- C++ -*-===//
//
// docs/training.md describes it in full. Function arguments and results of
// @main / @train_step carry:
//   mpc.name  the tensor's name (ONNX input/output or initializer name, or an
//             optimizer/scaler state name such as "fc.weight.exp_avg");
//   mpc.role  what it is (the kRole* strings below, mpc/Runtime/ManifestKeys.h);
//   mpc.param on a state argument: the mpc.parameter holding its initial value;
//   mpc.init  on a state argument without one: its initial value (a splat).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAIN_TRAINIR_H
#define MPC_TRAIN_TRAINIR_H

#include "mpc/Runtime/ManifestKeys.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mpc::train {

inline constexpr llvm::StringLiteral kRoleAttr = "mpc.role";
inline constexpr llvm::StringLiteral kParamRefAttr = "mpc.param";
inline constexpr llvm::StringLiteral kInitAttr = "mpc.init";
/// On the arith.constant that seeds the backward pass (dL/dL = 1).
inline constexpr llvm::StringLiteral kGradSeedAttr = "mpc.grad_seed";

// Roles (mpc.role): the manifest's, which mpc-compile copies from the IR.
inline constexpr llvm::StringRef kRoleInput = manifest::role::kInput;
inline constexpr llvm::StringRef kRoleLabel = manifest::role::kLabel;
inline constexpr llvm::StringRef kRoleParam = manifest::role::kParam;
inline constexpr llvm::StringRef kRoleBuffer = manifest::role::kBuffer;
inline constexpr llvm::StringRef kRoleOpt = manifest::role::kOpt;
inline constexpr llvm::StringRef kRoleScaler = manifest::role::kScaler;
inline constexpr llvm::StringRef kRoleLoss = manifest::role::kLoss;
inline constexpr llvm::StringRef kRoleGrad = manifest::role::kGrad;
inline constexpr llvm::StringRef kRoleFinite = manifest::role::kFinite;
inline constexpr llvm::StringRef kRoleOutput = manifest::role::kOutput;

/// True for the roles of state (param, buffer, opt, scaler): the tensors a
/// train step reads and returns under the same name.
inline bool isStateRole(llvm::StringRef role) { return manifest::role::isState(role); }

/// The role of argument / result `index`, or "" when it has none.
llvm::StringRef argRole(mlir::func::FuncOp func, unsigned index);
llvm::StringRef resultRole(mlir::func::FuncOp func, unsigned index);
/// The name (mpc.name) of argument / result `index`, or "".
llvm::StringRef argName(mlir::func::FuncOp func, unsigned index);
llvm::StringRef resultName(mlir::func::FuncOp func, unsigned index);
/// The first result with `role` (and `name`, when given).
std::optional<unsigned> findResult(mlir::func::FuncOp func, llvm::StringRef role,
                                   llvm::StringRef name = "");
/// The indices of every result with `role`, in order.
llvm::SmallVector<unsigned> findResults(mlir::func::FuncOp func, llvm::StringRef role);
std::optional<unsigned> findArgument(mlir::func::FuncOp func, llvm::StringRef role,
                                     llvm::StringRef name = "");

/// Appends an argument / a result (returned by every func.return) with the
/// given name and role; returns its index.
unsigned appendArgument(mlir::func::FuncOp func, mlir::Type type, llvm::StringRef name,
                        llvm::StringRef role);
unsigned appendResult(mlir::func::FuncOp func, mlir::Value value, llvm::StringRef name,
                      llvm::StringRef role);
/// Replaces the value result `index` returns (and its type).
void setResult(mlir::func::FuncOp func, unsigned index, mlir::Value value);
/// Erases result `index` from the signature and every func.return.
void eraseResult(mlir::func::FuncOp func, unsigned index);
/// The function's single func.return (the passes require one block).
mlir::func::ReturnOp getReturn(mlir::func::FuncOp func);

} // namespace mpc::train

#endif // MPC_TRAIN_TRAINIR_H
