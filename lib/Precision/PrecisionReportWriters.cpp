//===- PrecisionReportWriters.cpp - text, JSON and Graphviz reports -------===//
#include "mpc/Precision/PrecisionReport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <set>

using namespace mlir;

namespace mpc {

/// "12.5%", or "n/a" for an empty whole.
static std::string percentOf(double part, double whole) {
  if (whole <= 0)
    return "n/a";
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.1f%%", 100.0 * part / whole);
  return text;
}

static void writeTextTotals(const PrecisionReport &report, llvm::raw_ostream &os) {
  os << "\nops per precision:";
  for (const auto &[precision, count] : report.opsPerPrecision)
    os << " " << precision << "=" << count;
  os << "\ncasts: " << report.numCasts << "\n";
  os << "matmul/conv FLOPs in low precision: ";
  if (report.gemmFlops == 0)
    os << "n/a (no matmul or conv)\n";
  else
    os << report.lowPrecisionGemmFlops << " of " << report.gemmFlops << " ("
       << percentOf(report.lowPrecisionGemmFlops, report.gemmFlops) << ")\n";
  os << "all FLOPs in low precision (estimated): " << report.lowPrecisionFlops << " of "
     << report.flops << " (" << percentOf(report.lowPrecisionFlops, report.flops) << ")\n";
  int64_t saved = report.activationBytesF32 - report.activationBytes;
  os << "activation bytes: " << report.activationBytes << " vs " << report.activationBytesF32
     << " in f32 (saved " << saved << ", " << percentOf(saved, report.activationBytesF32)
     << "); cast results: " << report.castBytes << "\n";
  double savedTime = report.timeF32 - report.time;
  os << "estimated time (roofline): " << llvm::format("%.4g", report.time * 1e6) << " us vs "
     << llvm::format("%.4g", report.timeF32 * 1e6) << " us in f32 (saved "
     << llvm::format("%.4g", savedTime * 1e6) << " us, " << percentOf(savedTime, report.timeF32)
     << "); casts: " << llvm::format("%.4g", report.castTime * 1e6) << " us\n";
  for (const std::string &note : report.notes)
    os << "note: " << note << "\n";
}

void writeTextReport(const PrecisionReport &report, llvm::raw_ostream &os) {
  // Reason last: it is the long free-text column.
  const std::array<StringRef, 8> header = {"node",     "op",   "precision", "accumulator",
                                           "category", "casts", "flops",    "reason"};
  std::vector<std::array<std::string, 8>> lines;
  for (const PrecisionReportRow &row : report.rows)
    lines.push_back({row.node, row.op, row.precision, row.accumulator, row.category,
                     std::to_string(row.castsIn + row.castsOut), std::to_string(row.flops),
                     row.reason});
  std::array<size_t, 8> widths;
  for (size_t i = 0; i < header.size(); ++i) {
    widths[i] = header[i].size();
    for (const auto &line : lines)
      widths[i] = std::max(widths[i], line[i].size());
  }
  // The last column is not padded, so lines carry no trailing blanks.
  auto writeLine = [&](auto cell) {
    for (size_t i = 0; i < header.size(); ++i) {
      StringRef text = cell(i);
      os << text;
      if (i + 1 < header.size())
        os.indent(widths[i] - text.size() + 2);
    }
    os << "\n";
  };
  writeLine([&](size_t i) { return header[i]; });
  for (const auto &line : lines)
    writeLine([&](size_t i) { return StringRef(line[i]); });
  writeTextTotals(report, os);
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

/// Names come from the model and may be any bytes; JSON strings must be
/// UTF-8 (llvm::json asserts on anything else).
static std::string utf8(StringRef text) {
  return llvm::json::isUTF8(text) ? text.str() : llvm::json::fixUTF8(text);
}

/// The text writer's "-" (unknown) is JSON's null.
static void stringOrNull(llvm::json::OStream &json, StringRef key, StringRef value) {
  if (value == "-")
    json.attribute(key, nullptr);
  else
    json.attribute(key, utf8(value));
}

/// Six significant digits: the estimates are not worth more, and JSON
/// readers get short numbers rather than binary-float noise.
static void estimateNumber(llvm::json::OStream &json, StringRef key, double value) {
  json.attributeBegin(key);
  json.rawValue([&](llvm::raw_ostream &os) { os << llvm::format("%.6g", value); });
  json.attributeEnd();
}

static void shareOrNull(llvm::json::OStream &json, StringRef key, double part, double whole) {
  if (whole <= 0)
    json.attribute(key, nullptr);
  else
    estimateNumber(json, key, part / whole);
}

static StringRef kindName(PrecisionReportNode::Kind kind) {
  switch (kind) {
  case PrecisionReportNode::Kind::Input:
    return "input";
  case PrecisionReportNode::Kind::Op:
    return "op";
  case PrecisionReportNode::Kind::Cast:
    return "cast";
  case PrecisionReportNode::Kind::Output:
    return "output";
  }
  llvm_unreachable("unknown node kind");
}

static void writeJSONRow(llvm::json::OStream &json, size_t id, const PrecisionReportRow &row,
                         std::optional<size_t> graphNode) {
  json.object([&] {
    json.attribute("id", int64_t(id));
    stringOrNull(json, "function", row.function);
    stringOrNull(json, "node", row.node);
    json.attribute("op", utf8(row.op));
    stringOrNull(json, "precision", row.precision);
    stringOrNull(json, "accumulator", row.accumulator);
    stringOrNull(json, "category", row.category);
    stringOrNull(json, "reason", row.reason);
    json.attributeObject("details", [&] {
      for (const auto &[name, value] : row.details)
        json.attribute(utf8(name), utf8(value));
    });
    json.attribute("low_precision", row.lowPrecision);
    json.attribute("casts_in", row.castsIn);
    json.attribute("casts_out", row.castsOut);
    json.attribute("gemm_flops", row.gemmFlops);
    json.attribute("flops", row.flops);
    json.attribute("activation_bytes", row.activationBytes);
    json.attribute("activation_bytes_f32", row.activationBytesF32);
    estimateNumber(json, "time_s", row.time);
    estimateNumber(json, "time_f32_s", row.timeF32);
    if (graphNode)
      json.attribute("graph_node", int64_t(*graphNode));
    else
      json.attribute("graph_node", nullptr);
  });
}

static void writeJSONGraph(llvm::json::OStream &json, const PrecisionReport &report) {
  json.attributeObject("graph", [&] {
    json.attributeArray("nodes", [&] {
      for (size_t id = 0; id < report.nodes.size(); ++id)
        json.object([&] {
          const PrecisionReportNode &node = report.nodes[id];
          json.attribute("id", int64_t(id));
          json.attribute("kind", kindName(node.kind));
          json.attribute("function", utf8(node.function));
          json.attribute("label", utf8(node.label));
          stringOrNull(json, "precision", node.precision);
          if (node.row)
            json.attribute("op", int64_t(*node.row));
          else
            json.attribute("op", nullptr);
        });
    });
    json.attributeArray("edges", [&] {
      for (const PrecisionReportEdge &edge : report.edges)
        json.object([&] {
          json.attribute("from", int64_t(edge.from));
          json.attribute("to", int64_t(edge.to));
          json.attribute("cast", edge.touchesCast);
        });
    });
  });
}

static void writeJSONTotals(llvm::json::OStream &json, const PrecisionReport &report) {
  json.attributeObject("totals", [&] {
    json.attribute("ops", int64_t(report.rows.size()));
    json.attributeObject("ops_per_precision", [&] {
      for (const auto &[precision, count] : report.opsPerPrecision)
        json.attribute(utf8(precision), count);
    });
    json.attribute("casts", report.numCasts);
    json.attribute("gemm_flops", report.gemmFlops);
    json.attribute("low_precision_gemm_flops", report.lowPrecisionGemmFlops);
    shareOrNull(json, "low_precision_gemm_flops_share", report.lowPrecisionGemmFlops,
                report.gemmFlops);
    json.attribute("flops", report.flops);
    json.attribute("low_precision_flops", report.lowPrecisionFlops);
    shareOrNull(json, "low_precision_flops_share", report.lowPrecisionFlops, report.flops);
    json.attribute("activation_bytes", report.activationBytes);
    json.attribute("activation_bytes_f32", report.activationBytesF32);
    json.attribute("bytes_saved", report.activationBytesF32 - report.activationBytes);
    json.attribute("cast_bytes", report.castBytes);
    estimateNumber(json, "time_s", report.time);
    estimateNumber(json, "time_f32_s", report.timeF32);
    estimateNumber(json, "time_saved_s", report.timeF32 - report.time);
    estimateNumber(json, "cast_time_s", report.castTime);
  });
}

void writeJSONReport(const PrecisionReport &report, llvm::raw_ostream &os) {
  std::vector<std::optional<size_t>> graphNodeOfRow(report.rows.size());
  for (auto [id, node] : llvm::enumerate(report.nodes))
    if (node.row)
      graphNodeOfRow[*node.row] = id;

  llvm::json::OStream json(os, /*IndentSize=*/2);
  json.object([&] {
    json.attribute("schema_version", 1);
    json.attribute("generator", "mpc-precision-report");
    json.attributeArray("ops", [&] {
      for (auto [id, row] : llvm::enumerate(report.rows))
        writeJSONRow(json, id, row, graphNodeOfRow[id]);
    });
    writeJSONGraph(json, report);
    writeJSONTotals(json, report);
    json.attributeArray("notes", [&] {
      for (const std::string &note : report.notes)
        json.value(utf8(note));
    });
    const RooflineModel &model = getRooflineModel();
    json.attributeObject("roofline", [&] {
      estimateNumber(json, "gemm_flops_per_s_f32", model.gemmFlopsPerSecondF32);
      estimateNumber(json, "gemm_flops_per_s_16bit", model.gemmFlopsPerSecond16);
      estimateNumber(json, "gemm_flops_per_s_8bit", model.gemmFlopsPerSecond8);
      estimateNumber(json, "vector_flops_per_s", model.vectorFlopsPerSecond);
      estimateNumber(json, "bytes_per_s", model.bytesPerSecond);
    });
  });
  os << "\n";
}

//===----------------------------------------------------------------------===//
// Graphviz
//===----------------------------------------------------------------------===//

static constexpr StringRef kCastColor = "#d62728";

/// A DOT double-quoted string; "\n" in `text` stays a line break.
static std::string dotQuoted(StringRef text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return quoted + "\"";
}

static std::string dotLabel(const PrecisionReport &report, const PrecisionReportNode &node) {
  switch (node.kind) {
  case PrecisionReportNode::Kind::Input:
    return node.label + "\n" + node.precision;
  case PrecisionReportNode::Kind::Output:
    return node.label;
  case PrecisionReportNode::Kind::Cast:
    return "mpc.cast\n" + node.label;
  case PrecisionReportNode::Kind::Op:
    break;
  }
  if (!node.row)
    return node.label;
  const PrecisionReportRow &row = report.rows[*node.row];
  if (row.node == "-")
    return row.op + "\n" + row.precision;
  return row.op + "\n" + row.node + "\n" + row.precision;
}

static void writeDotNode(const PrecisionReport &report, size_t id,
                         const PrecisionReportNode &node, llvm::raw_ostream &os) {
  os << "    n" << id << " [label=" << dotQuoted(dotLabel(report, node));
  switch (node.kind) {
  case PrecisionReportNode::Kind::Input:
  case PrecisionReportNode::Kind::Output:
    os << ", shape=ellipse, fillcolor=\"#f5f5f5\"";
    break;
  case PrecisionReportNode::Kind::Cast:
    os << ", shape=diamond, style=filled, fillcolor=\"#ffffff\", color=\"" << kCastColor
       << "\", fontcolor=\"" << kCastColor << "\"";
    break;
  case PrecisionReportNode::Kind::Op:
    os << ", fillcolor=\"" << precisionColor(node.precision) << "\"";
    if (node.row && report.rows[*node.row].reason != "-")
      os << ", tooltip=" << dotQuoted(report.rows[*node.row].reason);
    break;
  }
  os << "];\n";
}

void writeDotReport(const PrecisionReport &report, llvm::raw_ostream &os) {
  os << "digraph mpc_precision {\n"
     << "  rankdir=TB;\n"
     << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [color=\"#555555\"];\n";
  // One cluster per function, in the order the functions appear.
  std::vector<std::string> functions;
  for (const PrecisionReportNode &node : report.nodes)
    if (!llvm::is_contained(functions, node.function))
      functions.push_back(node.function);
  for (auto [index, function] : llvm::enumerate(functions)) {
    os << "  subgraph cluster_" << index << " {\n"
       << "    label=" << dotQuoted("@" + function) << ";\n";
    for (auto [id, node] : llvm::enumerate(report.nodes))
      if (node.function == function)
        writeDotNode(report, id, node, os);
    os << "  }\n";
  }
  for (const PrecisionReportEdge &edge : report.edges) {
    os << "  n" << edge.from << " -> n" << edge.to;
    if (edge.touchesCast)
      os << " [color=\"" << kCastColor << "\", style=dashed]";
    os << ";\n";
  }
  // A legend of the precisions present, so the colours need no explanation.
  std::set<std::string> precisions;
  for (const PrecisionReportRow &row : report.rows)
    precisions.insert(row.precision);
  os << "  subgraph cluster_legend {\n    label=\"legend\";\n";
  for (auto [index, precision] : llvm::enumerate(precisions))
    os << "    legend_" << index << " [label=" << dotQuoted(precision) << ", fillcolor=\""
       << precisionColor(precision) << "\"];\n";
  os << "    legend_cast [label=\"mpc.cast\", shape=diamond, style=filled, fillcolor=\"#ffffff\", "
     << "color=\"" << kCastColor << "\", fontcolor=\"" << kCastColor << "\"];\n  }\n";
  os << "}\n";
}

} // namespace mpc
