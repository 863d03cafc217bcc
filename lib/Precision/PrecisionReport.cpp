//===- PrecisionReport.cpp - collect and print the precision report -------===//
#include "PrecisionReport.h"
#include "PrecisionAttrs.h"

#include "mpc/Dialect/MpcDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

#include <array>

using namespace mlir;

namespace mpc {

static std::string printed(Type type) {
  if (!type)
    return "-";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// The ONNX node name when the importer kept one; a name location otherwise.
static std::string nodeName(Operation *op) {
  if (auto node = op->getAttrOfType<StringAttr>(kNodeNameAttr))
    return node.str();
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location part : fused.getLocations())
      if (isa<NameLoc>(part)) {
        loc = part;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "-";
}

/// 2 * multiply-adds, from the static shapes: result elements times the
/// length of the dot product each one needs.
static int64_t gemmFlops(Operation *op) {
  auto elements = [](Value value) { return cast<ShapedType>(value.getType()).getNumElements(); };
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([&](MatmulOp matmul) {
        int64_t k = cast<ShapedType>(matmul.getLhs().getType()).getShape().back();
        return 2 * elements(matmul.getResult()) * k;
      })
      .Case([&](ConvOp conv) {
        // Weight M x C/group x kernel...: each output reads one filter.
        auto weight = cast<ShapedType>(conv.getWeight().getType());
        int64_t outChannels = weight.getShape().front();
        int64_t filter = outChannels ? weight.getNumElements() / outChannels : 0;
        return 2 * elements(conv.getResult()) * filter;
      })
      .Default([](Operation *) { return int64_t(0); });
}

static PrecisionReportRow collectRow(Operation *op) {
  PrecisionReportRow row;
  row.node = nodeName(op);
  row.op = op->getName().getStringRef().str();
  auto precisionOp = dyn_cast<PrecisionOpInterface>(op);
  Type precision = getAssignedPrecision(op);
  if (!precision && precisionOp)
    precision = precisionOp.getComputeType();
  // A source (a parameter read) computes nothing: it is what it produces.
  if (!precision && op->getNumResults() > 0)
    precision = dyn_cast<FloatType>(getElementTypeOrSelf(op->getResult(0).getType()));
  row.precision = printed(precision);
  row.lowPrecision = isLowPrecision(precision);
  Type accumulator;
  if (auto acc = op->getAttrOfType<TypeAttr>("acc_type"))
    accumulator = acc.getValue();
  else if (precisionOp && precisionOp.accumulates() && precisionOp.getComputeType())
    accumulator = precisionOp.getAccumulatorType();
  row.accumulator = printed(accumulator);
  row.category = precisionOp ? stringifyPrecisionCategory(precisionOp.getPrecisionCategory()).str()
                             : std::string("-");
  auto reason = op->getAttrOfType<StringAttr>(kReasonAttr);
  row.reason = reason ? reason.str() : "-";
  row.flops = gemmFlops(op);
  return row;
}

PrecisionReport collectPrecisionReport(ModuleOp module) {
  PrecisionReport report;
  module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<CastOp>(op)) {
      ++report.numCasts;
      return;
    }
    if (!isa<PrecisionOpInterface>(op) && !op->hasAttr(kPrecisionAttr))
      return;
    PrecisionReportRow row = collectRow(op);
    ++report.opsPerPrecision[row.precision];
    report.gemmFlops += row.flops;
    if (row.lowPrecision)
      report.lowPrecisionGemmFlops += row.flops;
    report.rows.push_back(std::move(row));
  });
  return report;
}

void writeTextReport(const PrecisionReport &report, llvm::raw_ostream &os) {
  using Column = std::string PrecisionReportRow::*;
  const std::array<std::pair<StringRef, Column>, 6> columns = {{
      {"node", &PrecisionReportRow::node},
      {"op", &PrecisionReportRow::op},
      {"precision", &PrecisionReportRow::precision},
      {"accumulator", &PrecisionReportRow::accumulator},
      {"category", &PrecisionReportRow::category},
      {"reason", &PrecisionReportRow::reason},
  }};
  std::array<size_t, 6> widths;
  for (auto [i, column] : llvm::enumerate(columns)) {
    widths[i] = column.first.size();
    for (const PrecisionReportRow &row : report.rows)
      widths[i] = std::max(widths[i], (row.*column.second).size());
  }
  // The last column is not padded, so lines carry no trailing blanks.
  auto writeLine = [&](auto cell) {
    for (size_t i = 0; i < columns.size(); ++i) {
      StringRef text = cell(i);
      os << text;
      if (i + 1 < columns.size())
        os.indent(widths[i] - text.size() + 2);
    }
    os << "\n";
  };

  writeLine([&](size_t i) { return columns[i].first; });
  for (const PrecisionReportRow &row : report.rows)
    writeLine([&](size_t i) { return StringRef(row.*columns[i].second); });

  os << "\nops per precision:";
  for (const auto &[precision, count] : report.opsPerPrecision)
    os << " " << precision << "=" << count;
  os << "\ncasts: " << report.numCasts << "\n";
  os << "matmul/conv FLOPs in low precision: ";
  if (report.gemmFlops == 0) {
    os << "n/a (no matmul or conv)\n";
    return;
  }
  double share = 100.0 * double(report.lowPrecisionGemmFlops) / double(report.gemmFlops);
  os << report.lowPrecisionGemmFlops << " of " << report.gemmFlops << " ("
     << llvm::format("%.1f", share) << "%)\n";
}

} // namespace mpc
