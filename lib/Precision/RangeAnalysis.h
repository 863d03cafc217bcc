//===- RangeAnalysis.h - value ranges of float tensors ----------*- C++ -*-===//
//
// Bounds every float tensor of a module from what is known about its inputs
// (user ranges or calibration data), its parameters and its constants,
// through each op's RangeOpInterface rule; precision assignment then keeps
// ops out of a narrow type their values would overflow or underflow
// (docs/precision-range.md).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_RANGEANALYSIS_H
#define MPC_LIB_PRECISION_RANGEANALYSIS_H

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Support/Interval.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace mpc {

/// Ranges of graph inputs, by their `mpc.name`.
using InputRanges = llvm::StringMap<Interval>;

/// Parses `input-ranges` entries, each `NAME:LO:HI` (LO <= HI, finite
/// numbers); an error names the entry at fault.
llvm::Expected<InputRanges> parseInputRanges(llvm::ArrayRef<std::string> entries);

/// Observed [min, max] of .npy calibration data for the module's float
/// inputs. `spec` is a directory holding NAME.npy for every float input, or
/// a comma-separated list of .npy files each named after an input.
llvm::Expected<InputRanges> readCalibrationRanges(llvm::StringRef spec, mlir::ModuleOp module);

/// Fails when a name in `ranges` is no function argument's `mpc.name`: a
/// typo would otherwise leave that input silently unbounded.
llvm::Error checkInputNames(const InputRanges &ranges, mlir::ModuleOp module,
                            llvm::StringRef option);

class RangeAnalysis {
public:
  RangeAnalysis(mlir::ModuleOp module, const InputRanges &inputs);

  /// The bound on `value`: unbounded when nothing is known.
  Interval rangeOf(mlir::Value value) const;

  /// Why `op` may not compute in `type`: a value it reads or writes may
  /// exceed the type's range (with a safety margin) or lie entirely below
  /// its smallest subnormal. Empty when it fits or nothing is known.
  std::optional<std::string> checkFits(mlir::Operation *op, mlir::FloatType type) const;

  /// Values beyond max / kOverflowMargin count as overflowing: rounding and
  /// the analysis' bounds being exact at the ends leave no room otherwise.
  static constexpr double kOverflowMargin = 2;

private:
  std::string describeInputs(mlir::Value value) const;

  llvm::DenseMap<mlir::Value, Interval> ranges;
  /// Function arguments with a known range, and their names.
  llvm::DenseMap<mlir::Value, std::string> namedInputs;
};

} // namespace mpc

#endif // MPC_LIB_PRECISION_RANGEANALYSIS_H
