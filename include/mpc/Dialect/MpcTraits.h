//===- MpcTraits.h - native op traits of the mpc dialect --------*- C++ -*-===//
//
// What an op class states once in ODS (Mpc_CategorizedOp's category, the
// Mpc_Accumulates trait) and PrecisionOpInterface's default methods read
// back, so that no op needs C++ of its own to answer them.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_DIALECT_MPCTRAITS_H
#define MPC_DIALECT_MPCTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace mpc::traits {

/// The precision category of every op of a class.
template <PrecisionCategory Category> struct HasPrecisionCategory {
  template <typename ConcreteOp> class Impl : public mlir::OpTrait::TraitBase<ConcreteOp, Impl> {
  public:
    static constexpr PrecisionCategory kPrecisionCategory = Category;
  };
};

/// The op sums many products or terms: a narrow compute type wants a wider
/// accumulator.
template <typename ConcreteOp>
class Accumulates : public mlir::OpTrait::TraitBase<ConcreteOp, Accumulates> {};

} // namespace mpc::traits

#endif // MPC_DIALECT_MPCTRAITS_H
