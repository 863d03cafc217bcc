//===- PrecisionReport.h - what precision assignment decided --------------===//
//
// Collecting the report is separate from writing it, so that other formats
// (JSON, Graphviz, HTML) are one more writer over the same rows and totals.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_PRECISIONREPORT_H
#define MPC_LIB_PRECISION_PRECISIONREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpc {

/// One op with a precision decision (or a PrecisionOpInterface op without
/// one). Fields not known for the op hold "-".
struct PrecisionReportRow {
  std::string node;        ///< mpc.node, else the op's name location
  std::string op;          ///< e.g. "mpc.matmul"
  std::string precision;   ///< mpc.precision, else the type it computes in
  std::string accumulator; ///< accumulating ops only
  std::string category;    ///< e.g. "compute_bound"
  std::string reason;      ///< mpc.reason
  /// 2 * multiply-adds of a matmul or conv; 0 for every other op.
  int64_t flops = 0;
  bool lowPrecision = false;
};

struct PrecisionReport {
  std::vector<PrecisionReportRow> rows;
  /// Rows per precision, by precision name.
  std::map<std::string, int64_t> opsPerPrecision;
  int64_t numCasts = 0;
  /// Matmul/conv FLOPs in total and in precisions narrower than f32.
  int64_t gemmFlops = 0;
  int64_t lowPrecisionGemmFlops = 0;
};

/// Works on IR straight after mpc-assign-precision (types still f32) and
/// after mpc-insert-casts alike: precisions come from `mpc.precision`.
PrecisionReport collectPrecisionReport(mlir::ModuleOp module);

/// An aligned table, then the totals.
void writeTextReport(const PrecisionReport &report, llvm::raw_ostream &os);

} // namespace mpc

#endif // MPC_LIB_PRECISION_PRECISIONREPORT_H
