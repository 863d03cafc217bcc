//===- RangeRules.h - value ranges of constant data -------------*- C++ -*-===//
#ifndef MPC_DIALECT_RANGERULES_H
#define MPC_DIALECT_RANGERULES_H

#include "mpc/Support/Interval.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"

namespace mpc {
/// The exact [min, max] (and smallest non-zero magnitude) of float constant
/// data; unbounded for non-float data or storage it cannot iterate.
Interval intervalOfElements(mlir::ElementsAttr elements);
} // namespace mpc

#endif // MPC_DIALECT_RANGERULES_H
