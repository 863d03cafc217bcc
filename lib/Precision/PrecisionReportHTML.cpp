//===- PrecisionReportHTML.cpp - the report as one self-contained page ----===//
//
// The page must open offline (reports are read on machines without network
// access and archived with the model), so the CSS, the script and the graph
// are all inline: the graph is an SVG laid out here in topological layers
// rather than by a layout library.
//
//===----------------------------------------------------------------------===//
#include "mpc/Precision/PrecisionReport.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <climits>

using namespace mlir;

namespace mpc {

static std::string htmlEscaped(StringRef text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
    case '&':
      escaped += "&amp;";
      break;
    case '<':
      escaped += "&lt;";
      break;
    case '>':
      escaped += "&gt;";
      break;
    case '"':
      escaped += "&quot;";
      break;
    case '\'':
      escaped += "&#39;";
      break;
    default:
      escaped += c;
    }
  }
  return escaped;
}

/// Node boxes are a fixed size so that the layout is plain arithmetic; longer
/// labels are cut and shown whole in the tooltip.
static std::string clipped(StringRef text) {
  constexpr size_t kMaxChars = 24;
  if (text.size() <= kMaxChars)
    return text.str();
  // Cut between UTF-8 sequences, never inside one (names and the middle dot
  // are multi-byte).
  size_t cut = kMaxChars - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.take_front(cut).str() + "\xE2\x80\xA6"; // an ellipsis
}

namespace {

constexpr int kNodeWidth = 176, kNodeHeight = 40, kGapX = 18, kGapY = 56, kMargin = 16;

struct Placement {
  int x = 0, y = 0; ///< top left
};

/// Layers by longest path from the inputs, then each layer ordered by the
/// mean position of its predecessors (one barycentre sweep), which removes
/// most crossings of a chain-like network at no cost.
class LayeredLayout {
public:
  LayeredLayout(const PrecisionReport &report, ArrayRef<size_t> nodes);
  int width() const { return width_; }
  int height() const { return height_; }
  const Placement &at(size_t node) const { return placements.find(node)->second; }

private:
  llvm::DenseMap<size_t, Placement> placements;
  int width_ = 0, height_ = 0;
};

LayeredLayout::LayeredLayout(const PrecisionReport &report, ArrayRef<size_t> nodes) {
  llvm::DenseMap<size_t, int> layer;
  llvm::DenseMap<size_t, SmallVector<size_t>> predecessors, successors;
  for (size_t node : nodes)
    layer[node] = 0;
  // Edges run from earlier to later nodes (producers are collected first)
  // and are listed by destination, so one pass settles every layer.
  for (const PrecisionReportEdge &edge : report.edges) {
    if (!layer.count(edge.from) || !layer.count(edge.to))
      continue;
    layer[edge.to] = std::max(layer[edge.to], layer[edge.from] + 1);
    predecessors[edge.to].push_back(edge.from);
    successors[edge.from].push_back(edge.to);
  }
  // Parameter reads and constants (and what only rearranges them) have no
  // function input upstream: drawn at the top they make one row as wide as
  // the model has weights, so they move down to just above their first
  // reader instead. Reverse order places every reader before its producers.
  llvm::DenseSet<size_t> static_;
  for (size_t node : nodes) {
    const PrecisionReportNode &vertex = report.nodes[node];
    const SmallVector<size_t> &preds = predecessors[node];
    if (vertex.kind == PrecisionReportNode::Kind::Input)
      continue;
    if (llvm::all_of(preds, [&](size_t pred) { return static_.contains(pred); }))
      static_.insert(node);
  }
  for (size_t node : llvm::reverse(nodes)) {
    if (!static_.contains(node) || successors[node].empty())
      continue;
    int below = INT_MAX;
    for (size_t succ : successors[node])
      below = std::min(below, layer[succ]);
    layer[node] = below - 1;
  }
  int numLayers = 0;
  for (size_t node : nodes)
    numLayers = std::max(numLayers, layer[node] + 1);
  std::vector<std::vector<size_t>> layers(numLayers);
  for (size_t node : nodes)
    layers[layer[node]].push_back(node);

  llvm::DenseMap<size_t, double> slot;
  size_t widest = 0;
  for (std::vector<size_t> &members : layers) {
    auto barycentre = [&](size_t node) {
      const SmallVector<size_t> &preds = predecessors[node];
      if (preds.empty())
        return double(slot.size()); // sources keep their program order
      double sum = 0;
      for (size_t pred : preds)
        sum += slot[pred];
      return sum / preds.size();
    };
    std::vector<std::pair<double, size_t>> keyed;
    for (size_t node : members)
      keyed.push_back({barycentre(node), node});
    // Ties keep program order: node ids grow along it.
    llvm::sort(keyed);
    for (auto [index, entry] : llvm::enumerate(keyed)) {
      members[index] = entry.second;
      slot[entry.second] = index;
    }
    widest = std::max(widest, members.size());
  }
  width_ = 2 * kMargin + int(widest) * (kNodeWidth + kGapX) - kGapX;
  height_ = 2 * kMargin + numLayers * (kNodeHeight + kGapY) - kGapY;
  for (auto [depth, members] : llvm::enumerate(layers)) {
    // Narrow layers are centred under the widest one.
    int offset = int(widest - members.size()) * (kNodeWidth + kGapX) / 2;
    for (auto [index, node] : llvm::enumerate(members))
      placements[node] = {kMargin + offset + int(index) * (kNodeWidth + kGapX),
                          kMargin + int(depth) * (kNodeHeight + kGapY)};
  }
}

} // namespace

static void writeSvgNode(const PrecisionReport &report, size_t id, const Placement &at,
                         llvm::raw_ostream &os) {
  const PrecisionReportNode &node = report.nodes[id];
  std::string title = node.label, first = node.label, second = node.precision;
  const PrecisionReportRow *row = node.row ? &report.rows[*node.row] : nullptr;
  if (row) {
    second = row->node == "-" ? row->precision
                              : row->node + " \xC2\xB7 " + row->precision; // a middle dot
    title = row->op + " " + row->node + "\nprecision: " + row->precision +
            "\nreason: " + row->reason;
  }
  int cx = at.x + kNodeWidth / 2, cy = at.y + kNodeHeight / 2;
  os << "<g class=\"node\" id=\"node-" << id << "\"";
  if (node.row)
    os << " data-row=\"" << *node.row << "\"";
  os << "><title>" << htmlEscaped(title) << "</title>";
  switch (node.kind) {
  case PrecisionReportNode::Kind::Cast:
    first = "mpc.cast";
    second = node.label;
    os << llvm::format("<polygon class=\"cast\" points=\"%d,%d %d,%d %d,%d %d,%d\"/>", cx, at.y,
                       at.x + kNodeWidth, cy, cx, at.y + kNodeHeight, at.x, cy);
    break;
  case PrecisionReportNode::Kind::Input:
  case PrecisionReportNode::Kind::Output:
    os << llvm::format("<ellipse class=\"io\" cx=\"%d\" cy=\"%d\" rx=\"%d\" ry=\"%d\"/>", cx, cy,
                       kNodeWidth / 2, kNodeHeight / 2);
    break;
  case PrecisionReportNode::Kind::Op:
    os << llvm::format("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"",
                       at.x, at.y, kNodeWidth, kNodeHeight)
       << precisionColor(node.precision) << "\"/>";
    break;
  }
  os << llvm::format("<text x=\"%d\" y=\"%d\">", cx, cy - 3) << htmlEscaped(clipped(first))
     << "</text>";
  if (second != "-")
    os << llvm::format("<text class=\"sub\" x=\"%d\" y=\"%d\">", cx, cy + 11)
       << htmlEscaped(clipped(second)) << "</text>";
  os << "</g>\n";
}

static void writeSvg(const PrecisionReport &report, ArrayRef<size_t> nodes, size_t index,
                     llvm::raw_ostream &os) {
  LayeredLayout layout(report, nodes);
  os << llvm::format("<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", layout.width(),
                     layout.height(), layout.width(), layout.height());
  // Marker ids are document-wide: one pair per graph.
  for (StringRef kind : {"plain", "cast"})
    os << "<defs><marker id=\"arrow-" << kind << "-" << index
       << "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
          "orient=\"auto\"><path class=\"arrow-"
       << kind << "\" d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n";
  llvm::DenseSet<size_t> members(nodes.begin(), nodes.end());
  for (const PrecisionReportEdge &edge : report.edges) {
    if (!members.contains(edge.from) || !members.contains(edge.to))
      continue;
    const Placement &from = layout.at(edge.from), &to = layout.at(edge.to);
    StringRef kind = edge.touchesCast ? "cast" : "plain";
    os << llvm::format("<line class=\"edge-%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" ",
                       kind.data(), from.x + kNodeWidth / 2, from.y + kNodeHeight,
                       to.x + kNodeWidth / 2, to.y)
       << "marker-end=\"url(#arrow-" << kind << "-" << index << ")\"/>\n";
  }
  for (size_t node : nodes)
    writeSvgNode(report, node, layout.at(node), os);
  os << "</svg>\n";
}

static constexpr StringLiteral kStyle = R"css(
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[data-order=asc]::after { content: " \25B2"; } th[data-order=desc]::after { content: " \25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.casts-some { color: #d62728; font-weight: bold; }
tr.selected td, g.selected rect, g.selected polygon, g.selected ellipse { outline: 2px solid #222; stroke-width: 3; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #888; vertical-align: middle; margin-right: 4px; }
.totals td:first-child { font-weight: bold; }
.controls { margin: 0.5em 0; }
.graph { overflow: auto; border: 1px solid #ccc; max-height: 80vh; }
svg text { font: 11px ui-monospace, monospace; text-anchor: middle; fill: #111; pointer-events: none; }
svg text.sub { fill: #333; }
svg g.node { cursor: pointer; }
svg rect { stroke: #444; stroke-width: 1; }
svg polygon.cast { fill: #fff; stroke: #d62728; stroke-width: 2; }
svg ellipse.io { fill: #f5f5f5; stroke: #888; }
svg line.edge-plain { stroke: #777; stroke-width: 1.2; }
svg line.edge-cast { stroke: #d62728; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg path.arrow-plain { fill: #777; } svg path.arrow-cast { fill: #d62728; }
)css";

// Sorting by a column, filtering by text and precision, and linking a table
// row with its graph node both ways.
static constexpr StringLiteral kScript = R"js(
(function () {
  var body = document.getElementById('ops').tBodies[0];
  var heads = document.getElementById('ops').tHead.rows[0].cells;
  function key(row, i, numeric) {
    var cell = row.cells[i];
    return numeric ? Number(cell.dataset.value) : cell.textContent.toLowerCase();
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.addEventListener('click', function () {
      var numeric = th.dataset.type === 'num';
      var ascending = th.dataset.order !== 'asc';
      Array.prototype.forEach.call(heads, function (h) { delete h.dataset.order; });
      th.dataset.order = ascending ? 'asc' : 'desc';
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, i, numeric), y = key(b, i, numeric);
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var filter = document.getElementById('filter');
  var precision = document.getElementById('precision');
  function apply() {
    var text = filter.value.toLowerCase(), p = precision.value;
    Array.prototype.forEach.call(body.rows, function (r) {
      var show = (!text || r.textContent.toLowerCase().indexOf(text) >= 0) &&
                 (!p || r.dataset.precision === p);
      r.style.display = show ? '' : 'none';
    });
  }
  filter.addEventListener('input', apply);
  precision.addEventListener('change', apply);
  function select(row) {
    document.querySelectorAll('.selected').forEach(function (e) { e.classList.remove('selected'); });
    var tr = document.getElementById('row-' + row), g = document.querySelector('g[data-row="' + row + '"]');
    if (tr) tr.classList.add('selected');
    if (g) g.classList.add('selected');
    return { tr: tr, g: g };
  }
  document.querySelectorAll('g.node[data-row]').forEach(function (g) {
    g.addEventListener('click', function () {
      var s = select(g.dataset.row);
      if (s.tr) s.tr.scrollIntoView({ block: 'center' });
    });
  });
  Array.prototype.forEach.call(body.rows, function (r) {
    r.addEventListener('click', function () {
      var s = select(r.dataset.row);
      if (s.g) s.g.scrollIntoView({ block: 'center', inline: 'center' });
    });
  });
})();
)js";

static std::string formatted(double value, const char *spec) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format(spec, value);
  return text;
}

static std::string shareText(double part, double whole) {
  return whole > 0 ? formatted(100.0 * part / whole, "%.1f%%") : "n/a";
}

static void writeTotals(const PrecisionReport &report, llvm::raw_ostream &os) {
  auto line = [&](StringRef name, const std::string &value) {
    os << "<tr><td>" << htmlEscaped(name) << "</td><td>" << htmlEscaped(value) << "</td></tr>\n";
  };
  os << "<h2>Totals</h2>\n<table class=\"totals\">\n";
  std::string perPrecision;
  for (const auto &[precision, count] : report.opsPerPrecision)
    perPrecision += precision + "=" + std::to_string(count) + " ";
  line("ops per precision", perPrecision);
  line("casts", std::to_string(report.numCasts));
  line("matmul/conv FLOPs in low precision",
       std::to_string(report.lowPrecisionGemmFlops) + " of " + std::to_string(report.gemmFlops) +
           " (" + shareText(report.lowPrecisionGemmFlops, report.gemmFlops) + ")");
  line("all FLOPs in low precision (estimated)",
       std::to_string(report.lowPrecisionFlops) + " of " + std::to_string(report.flops) + " (" +
           shareText(report.lowPrecisionFlops, report.flops) + ")");
  int64_t saved = report.activationBytesF32 - report.activationBytes;
  line("activation bytes", std::to_string(report.activationBytes) + " vs " +
                               std::to_string(report.activationBytesF32) + " in f32 (saved " +
                               std::to_string(saved) + ", " +
                               shareText(saved, report.activationBytesF32) + ")");
  line("bytes of cast results", std::to_string(report.castBytes));
  double savedTime = report.timeF32 - report.time;
  line("estimated time (roofline)",
       formatted(report.time * 1e6, "%.4g") + " us vs " + formatted(report.timeF32 * 1e6, "%.4g") +
           " us in f32 (saved " + formatted(savedTime * 1e6, "%.4g") + " us, " +
           shareText(savedTime, report.timeF32) + "), of which casts " +
           formatted(report.castTime * 1e6, "%.4g") + " us");
  os << "</table>\n";
  if (report.notes.empty())
    return;
  os << "<h2>Notes</h2>\n<ul class=\"notes\">\n";
  for (const std::string &note : report.notes)
    os << "<li>" << htmlEscaped(note) << "</li>\n";
  os << "</ul>\n";
}

static void writeTable(const PrecisionReport &report, llvm::raw_ostream &os) {
  os << "<h2>Ops</h2>\n<div class=\"controls\"><input id=\"filter\" type=\"search\" "
        "placeholder=\"filter rows\"> <select id=\"precision\"><option value=\"\">all "
        "precisions</option>";
  for (const auto &entry : report.opsPerPrecision)
    os << "<option>" << htmlEscaped(entry.first) << "</option>";
  os << "</select></div>\n<table id=\"ops\">\n<thead><tr>";
  for (StringRef head : {"#", "function", "node", "op", "precision", "accumulator", "category"})
    os << "<th" << (head == "#" ? " data-type=\"num\"" : "") << ">" << head << "</th>";
  for (StringRef head : {"casts in", "casts out", "FLOPs"})
    os << "<th data-type=\"num\">" << head << "</th>";
  os << "<th>reason</th></tr></thead>\n<tbody>\n";
  for (auto [id, row] : llvm::enumerate(report.rows)) {
    os << "<tr id=\"row-" << id << "\" data-row=\"" << id << "\" data-precision=\""
       << htmlEscaped(row.precision) << "\">";
    auto number = [&](int64_t value, bool flagged) {
      os << "<td class=\"num" << (flagged && value ? " casts-some" : "") << "\" data-value=\""
         << value << "\">" << value << "</td>";
    };
    number(id, false);
    for (const std::string *text : {&row.function, &row.node, &row.op})
      os << "<td>" << htmlEscaped(*text) << "</td>";
    os << "<td><span class=\"swatch\" style=\"background:" << precisionColor(row.precision)
       << "\"></span>" << htmlEscaped(row.precision) << "</td>";
    for (const std::string *text : {&row.accumulator, &row.category})
      os << "<td>" << htmlEscaped(*text) << "</td>";
    number(row.castsIn, true);
    number(row.castsOut, true);
    number(row.flops, false);
    os << "<td>" << htmlEscaped(row.reason);
    for (const auto &[name, value] : row.details)
      os << "<br><small>" << htmlEscaped(name) << ": " << htmlEscaped(value) << "</small>";
    os << "</td></tr>\n";
  }
  os << "</tbody></table>\n";
}

static void writeLegend(const PrecisionReport &report, llvm::raw_ostream &os) {
  os << "<p>";
  for (const auto &entry : report.opsPerPrecision)
    os << "<span class=\"swatch\" style=\"background:" << precisionColor(entry.first)
       << "\"></span>" << htmlEscaped(entry.first) << " &nbsp; ";
  os << "<span style=\"color:#d62728\">&#9671; mpc.cast, - - - edges through a cast</span></p>\n";
}

void writeHTMLReport(const PrecisionReport &report, llvm::raw_ostream &os) {
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<title>mpc precision report</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
     << "<h1>mpc precision report</h1>\n";
  writeTotals(report, os);
  writeTable(report, os);
  // One graph per function, in the order the functions appear.
  std::vector<std::string> functions;
  for (const PrecisionReportNode &node : report.nodes)
    if (!llvm::is_contained(functions, node.function))
      functions.push_back(node.function);
  for (auto [index, function] : llvm::enumerate(functions)) {
    os << "<h2>Graph of @" << htmlEscaped(function) << "</h2>\n";
    writeLegend(report, os);
    SmallVector<size_t> nodes;
    for (auto [id, node] : llvm::enumerate(report.nodes))
      if (node.function == function)
        nodes.push_back(id);
    os << "<div class=\"graph\">\n";
    writeSvg(report, nodes, index, os);
    os << "</div>\n";
  }
  os << "<script>" << kScript << "</script>\n</body>\n</html>\n";
}

} // namespace mpc
