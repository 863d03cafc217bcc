//===- PrecisionReport.h - what precision assignment decided --------------===//
//
// Collecting the report is separate from writing it, so that every format
// (text, JSON, Graphviz, HTML) is one more writer over the same rows, graph
// and totals, and the formats cannot disagree.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_PRECISIONREPORT_H
#define MPC_LIB_PRECISION_PRECISIONREPORT_H

#include "mpc/Precision/PassOptions.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mpc {

/// One op with a precision decision (or a PrecisionOpInterface op without
/// one). Fields not known for the op hold "-".
struct PrecisionReportRow {
  std::string function;    ///< the enclosing function's symbol name, else "-"
  /// mpc.node, else the op's name location; a parameter read is named after
  /// its parameter (`@fc.weight`), since the importer names it after
  /// whichever node happened to read it first.
  std::string node;
  std::string op;          ///< e.g. "mpc.matmul"
  std::string precision;   ///< mpc.precision, else the type it computes in
  std::string accumulator; ///< accumulating ops only
  std::string category;    ///< e.g. "compute_bound"
  std::string reason;      ///< mpc.reason
  /// Other `mpc.*` attributes the precision passes left on the op (a value
  /// range, the override that decided...), printed, by name without "mpc.".
  std::map<std::string, std::string> details;
  /// mpc.cast ops reading its results / producing its operands.
  int64_t castsIn = 0;
  int64_t castsOut = 0;
  /// PrecisionOpInterface::getGemmFlops: 2 * multiply-adds of a contraction
  /// (matmul, conv and its gradients); 0 for every other op.
  int64_t gemmFlops = 0;
  /// PrecisionOpInterface::getFlops: the GEMM FLOPs, else one per element of
  /// its largest float operand or result for a computing op, 0 for data
  /// movement (an estimate).
  int64_t flops = 0;
  /// Bytes of its results as assigned and as if everything were f32
  /// (activations only: 0 for sources, which exist in f32 either way).
  int64_t activationBytes = 0;
  int64_t activationBytesF32 = 0;
  /// Roofline estimates (seconds), see docs/precision-report.md; 0 for sources.
  double time = 0;
  double timeF32 = 0;
  bool lowPrecision = false;
};

/// A vertex of the dataflow graph: a function argument, an op (with or
/// without a row), a cast or a function's return.
struct PrecisionReportNode {
  enum class Kind { Input, Op, Cast, Output };
  Kind kind = Kind::Op;
  std::string function;
  std::string label;     ///< op name, argument name, or "return"
  std::string precision; ///< the row's precision, else the produced element type
  std::optional<size_t> row;
};

struct PrecisionReportEdge {
  size_t from, to; ///< indices into PrecisionReport::nodes
  bool touchesCast = false;
};

struct PrecisionReport {
  std::vector<PrecisionReportRow> rows;
  std::vector<PrecisionReportNode> nodes;
  std::vector<PrecisionReportEdge> edges;
  /// Rows per precision, by precision name.
  std::map<std::string, int64_t> opsPerPrecision;
  int64_t numCasts = 0;
  /// Contraction (GEMM) FLOPs in total and in precisions narrower than f32.
  int64_t gemmFlops = 0;
  int64_t lowPrecisionGemmFlops = 0;
  /// Estimated FLOPs of every row, in total and in low precision.
  int64_t flops = 0;
  int64_t lowPrecisionFlops = 0;
  /// Row activations as assigned and at f32.
  int64_t activationBytes = 0;
  int64_t activationBytesF32 = 0;
  /// What the casts add on top: their results, and their (memory-bound) time.
  int64_t castBytes = 0;
  double castTime = 0;
  /// Roofline estimates (seconds) of rows plus casts, and of rows at f32.
  double time = 0;
  double timeF32 = 0;
  /// What mpc-assign-precision noted about the policy file (rules that name
  /// nodes the importer folded away), one sentence each.
  std::vector<std::string> notes;
};

/// Works on IR straight after mpc-assign-precision (types still f32) and
/// after mpc-insert-casts alike: precisions come from `mpc.precision`.
PrecisionReport collectPrecisionReport(mlir::ModuleOp module);

/// The reference machine of the time estimate, documented with the JSON
/// schema so readers can redo the arithmetic.
struct RooflineModel {
  double gemmFlopsPerSecondF32;
  double gemmFlopsPerSecond16; ///< f16 / bf16
  double gemmFlopsPerSecond8;  ///< f8 types
  double vectorFlopsPerSecond; ///< everything but matmul/conv, any precision
  double bytesPerSecond;
};
const RooflineModel &getRooflineModel();

/// From a file name's extension (.txt, .json, .dot, .html); "-" is text.
std::optional<PrecisionReportFormat> precisionReportFormatFor(llvm::StringRef path);

/// An aligned table, then the totals.
void writeTextReport(const PrecisionReport &report, llvm::raw_ostream &os);
/// Schema version 1, see docs/precision-report.md.
void writeJSONReport(const PrecisionReport &report, llvm::raw_ostream &os);
/// Graphviz: the dataflow graph, nodes filled by precision, casts as diamonds.
void writeDotReport(const PrecisionReport &report, llvm::raw_ostream &os);
/// One self-contained page (inline CSS, JS and SVG): the table and the graph.
void writeHTMLReport(const PrecisionReport &report, llvm::raw_ostream &os);

/// Fill colour of a precision in the graphs, so DOT and HTML agree.
llvm::StringRef precisionColor(llvm::StringRef precision);

} // namespace mpc

#endif // MPC_LIB_PRECISION_PRECISIONREPORT_H
