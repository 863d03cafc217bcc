//===- ImportEinsum.cpp - Einsum as transposes, reshapes and matmuls ------===//
//
// An Einsum is rewritten at import: repeated subscripts of one operand take
// the diagonal (a gather), subscripts nothing else needs are summed away,
// and operands are contracted pairwise, left to right, as one batched
// matmul each ([batch, free, contracted] x [batch, contracted, free]). The
// result is ops mpc lowers and differentiates everywhere.
//
//===----------------------------------------------------------------------===//
#include "Building.h"

#include <functional>

using namespace mlir;
using namespace mpc::importer;

namespace {
/// Subscript letters are their character codes; the dims an ellipsis covers
/// are kEllipsis + k, aligned from the right across operands.
constexpr int64_t kEllipsis = 256;

/// A value and the subscript of each of its dims.
struct Term {
  Value value;
  SmallVector<int64_t> labels;
  ArrayRef<int64_t> shape() const { return cast<RankedTensorType>(value.getType()).getShape(); }
};

struct Equation {
  SmallVector<std::string> inputs;
  std::optional<std::string> output;
};

FailureOr<Equation> splitEquation(NodeImporter &n, StringRef text) {
  std::string compact;
  for (char c : text)
    if (c != ' ')
      compact.push_back(c);
  Equation eq;
  StringRef s(compact);
  auto [lhs, rhs] = s.split("->");
  if (s.contains("->"))
    eq.output = rhs.str();
  SmallVector<StringRef> parts;
  lhs.split(parts, ',');
  for (StringRef p : parts)
    eq.inputs.push_back(p.str());
  if (eq.inputs.size() != n.numInputs())
    return n.error() << "equation \"" << text << "\" has " << eq.inputs.size()
                     << " operands but the node has " << n.numInputs() << " inputs";
  return eq;
}

/// The labels of one term; `ellipsisDims` is how many dims "..." covers and
/// `total` the widest ellipsis of the equation.
FailureOr<SmallVector<int64_t>> parseTerm(NodeImporter &n, StringRef term, int64_t ellipsisDims,
                                          int64_t total) {
  SmallVector<int64_t> labels;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term.substr(i).starts_with("...")) {
      for (int64_t k = total - ellipsisDims; k < total; ++k)
        labels.push_back(kEllipsis + k);
      i += 2;
      continue;
    }
    if (!llvm::isAlpha(term[i]))
      return n.error() << "invalid subscript '" << term[i] << "' in equation";
    labels.push_back(term[i]);
  }
  return labels;
}

int64_t letterCount(StringRef term) {
  return int64_t(llvm::count_if(term, [](char c) { return llvm::isAlpha(c); }));
}

/// Positions of `labels` in `term` order.
SmallVector<int64_t> positions(const Term &t, ArrayRef<int64_t> labels) {
  SmallVector<int64_t> perm;
  for (int64_t l : labels)
    perm.push_back(llvm::find(t.labels, l) - t.labels.begin());
  return perm;
}

FailureOr<Term> permute(NodeImporter &n, const Term &t, ArrayRef<int64_t> labels) {
  FailureOr<Value> v = transposed(n, t.value, positions(t, labels));
  if (failed(v))
    return failure();
  return Term{*v, SmallVector<int64_t>(labels)};
}

/// Sums away every dim whose label `keep` rejects.
FailureOr<Term> sumExcept(NodeImporter &n, const Term &t, function_ref<bool(int64_t)> keep) {
  SmallVector<int64_t> axes, kept;
  for (auto [i, l] : llvm::enumerate(t.labels)) {
    if (keep(l))
      kept.push_back(l);
    else
      axes.push_back(int64_t(i));
  }
  if (axes.empty())
    return t;
  FailureOr<Value> v = n.createOrFold<mpc::ReduceSumOp>(n.inferred(), t.value,
                                                        ArrayRef<int64_t>(axes), false, TypeAttr());
  if (failed(v))
    return failure();
  return Term{*v, kept};
}

/// Replaces the two dims labelled `label` by their diagonal.
FailureOr<Term> diagonal(NodeImporter &n, const Term &t, int64_t label) {
  SmallVector<int64_t> order;
  for (int64_t l : t.labels)
    if (l != label)
      order.push_back(l);
  SmallVector<int64_t> perm = positions(t, order);
  int64_t first = llvm::find(t.labels, label) - t.labels.begin();
  int64_t second = std::find(t.labels.begin() + first + 1, t.labels.end(), label) - t.labels.begin();
  int64_t size = t.shape()[first];
  if (t.shape()[second] != size)
    return n.error() << "repeated subscript '" << char(label) << "' spans dims of sizes " << size
                     << " and " << t.shape()[second];
  perm.append({first, second});
  FailureOr<Value> v = transposed(n, t.value, perm);
  SmallVector<int64_t> flatShape;
  for (int64_t p : ArrayRef<int64_t>(perm).drop_back(2))
    flatShape.push_back(t.shape()[p]);
  flatShape.push_back(size * size);
  FailureOr<Value> flat = failed(v) ? v : n.reshape(*v, flatShape);
  SmallVector<int64_t> diag;
  for (int64_t i = 0; i < size; ++i)
    diag.push_back(i * (size + 1));
  FailureOr<Value> idx = failed(flat) ? flat : hostConstant(n, HostTensor::fromInts(diag, {size}));
  FailureOr<Value> g = failed(idx) ? idx
                                   : n.createOrFold<mpc::GatherOp>(n.inferred(), *flat, *idx,
                                                                   uint64_t(flatShape.size() - 1));
  if (failed(g))
    return failure();
  order.push_back(label);
  return Term{*g, order};
}

FailureOr<Term> takeDiagonals(NodeImporter &n, Term t) {
  for (size_t i = 0; i < t.labels.size(); ++i) {
    if (llvm::count(t.labels, t.labels[i]) < 2)
      continue;
    FailureOr<Term> d = diagonal(n, t, t.labels[i]);
    if (failed(d))
      return failure();
    t = *d;
    i = size_t(-1);
  }
  return t;
}

/// Broadcasts `t` (already in `labels` order) to the joint label sizes.
FailureOr<Term> broadcastTo(NodeImporter &n, const Term &t,
                            const llvm::DenseMap<int64_t, int64_t> &sizes) {
  SmallVector<int64_t> shape;
  for (int64_t l : t.labels)
    shape.push_back(sizes.lookup(l));
  if (t.shape() == ArrayRef<int64_t>(shape))
    return t;
  FailureOr<Value> v =
      n.createOrFold<mpc::BroadcastOp>(n.inferred(), t.value, ArrayRef<int64_t>(shape));
  if (failed(v))
    return failure();
  return Term{*v, t.labels};
}

int64_t product(ArrayRef<int64_t> labels, const llvm::DenseMap<int64_t, int64_t> &sizes) {
  int64_t p = 1;
  for (int64_t l : labels)
    p *= sizes.lookup(l);
  return p;
}

/// One batched matmul: a[batch, aOnly, shared] x b[batch, shared, bOnly].
FailureOr<Term> contract(NodeImporter &n, const Term &a, const Term &b,
                         function_ref<bool(int64_t)> keep,
                         const llvm::DenseMap<int64_t, int64_t> &sizes) {
  SmallVector<int64_t> batch, shared, aOnly, bOnly;
  for (int64_t l : a.labels) {
    bool inB = llvm::is_contained(b.labels, l);
    (inB ? (keep(l) ? batch : shared) : aOnly).push_back(l);
  }
  for (int64_t l : b.labels)
    if (!llvm::is_contained(a.labels, l))
      bOnly.push_back(l);
  SmallVector<int64_t> aOrder(batch), bOrder(batch);
  aOrder.append(aOnly);
  aOrder.append(shared);
  bOrder.append(shared);
  bOrder.append(bOnly);
  FailureOr<Term> at = permute(n, a, aOrder);
  FailureOr<Term> bt = failed(at) ? at : permute(n, b, bOrder);
  FailureOr<Term> ab = failed(bt) ? bt : broadcastTo(n, *at, sizes);
  FailureOr<Term> bb = failed(ab) ? ab : broadcastTo(n, *bt, sizes);
  if (failed(bb))
    return failure();
  int64_t nb = product(batch, sizes), m = product(aOnly, sizes), k = product(shared, sizes),
          nn = product(bOnly, sizes);
  // Without batch labels a plain 2-D matmul (no batch of one).
  SmallVector<int64_t> lhsShape{m, k}, rhsShape{k, nn};
  if (!batch.empty()) {
    lhsShape.insert(lhsShape.begin(), nb);
    rhsShape.insert(rhsShape.begin(), nb);
  }
  FailureOr<Value> lhs = n.reshape(ab->value, lhsShape);
  FailureOr<Value> rhs = failed(lhs) ? lhs : n.reshape(bb->value, rhsShape);
  FailureOr<Value> mm = failed(rhs) ? rhs
                                    : n.createOrFold<mpc::MatmulOp>(n.inferred(), *lhs, *rhs,
                                                                    TypeAttr());
  SmallVector<int64_t> labels(batch);
  labels.append(aOnly);
  labels.append(bOnly);
  SmallVector<int64_t> shape;
  for (int64_t l : labels)
    shape.push_back(sizes.lookup(l));
  FailureOr<Value> result = failed(mm) ? mm : n.reshape(*mm, shape);
  if (failed(result))
    return failure();
  return Term{*result, labels};
}

/// Label sizes over all operands; a size-1 dim broadcasts.
FailureOr<llvm::DenseMap<int64_t, int64_t>> labelSizes(NodeImporter &n, ArrayRef<Term> terms) {
  llvm::DenseMap<int64_t, int64_t> sizes;
  for (const Term &t : terms)
    for (auto [l, d] : llvm::zip(t.labels, t.shape())) {
      int64_t &s = sizes.try_emplace(l, d).first->second;
      if (s == 1)
        s = d;
      else if (d != s && d != 1)
        return n.error() << "subscript dims of sizes " << s << " and " << d << " do not match";
    }
  return sizes;
}

/// The output labels: as written, or (implicit form) the ellipsis dims then
/// the letters used once, in alphabetical order.
FailureOr<SmallVector<int64_t>> outputLabels(NodeImporter &n, const Equation &eq,
                                             int64_t ellipsis) {
  if (eq.output) {
    if (eq.output->find("...") != std::string::npos || ellipsis == 0)
      return parseTerm(n, *eq.output, ellipsis, ellipsis);
    return n.error() << "the output of an equation with \"...\" must contain \"...\"";
  }
  SmallVector<int64_t> labels;
  for (int64_t k = 0; k < ellipsis; ++k)
    labels.push_back(kEllipsis + k);
  llvm::DenseMap<int64_t, int> uses;
  for (const std::string &term : eq.inputs)
    for (char c : term)
      ++uses[c];
  for (int64_t c = 'A'; c <= 'z'; ++c)
    if (uses.lookup(c) == 1)
      labels.push_back(c);
  return labels;
}

FailureOr<SmallVector<Term>> operandTerms(NodeImporter &n, const Equation &eq, int64_t &ellipsis) {
  ellipsis = 0;
  for (auto [i, term] : llvm::enumerate(eq.inputs)) {
    int64_t letters = letterCount(term), rank = n.rankOf(i);
    bool hasEllipsis = term.find("...") != std::string::npos;
    if (rank < letters || (!hasEllipsis && rank != letters))
      return n.error() << "operand " << i << " of shape " << shapeString(n.shapeOf(i))
                       << " does not match subscripts \"" << term << "\"";
    ellipsis = std::max(ellipsis, rank - letters);
  }
  SmallVector<Term> terms;
  for (auto [i, term] : llvm::enumerate(eq.inputs)) {
    FailureOr<Value> v = n.value(i);
    FailureOr<SmallVector<int64_t>> labels =
        failed(v) ? FailureOr<SmallVector<int64_t>>(failure())
                  : parseTerm(n, term, n.rankOf(i) - letterCount(term), ellipsis);
    if (failed(labels))
      return failure();
    FailureOr<Term> t = takeDiagonals(n, Term{*v, *labels});
    if (failed(t))
      return failure();
    terms.push_back(*t);
  }
  return terms;
}

FailureOr<Term> evaluate(NodeImporter &n, ArrayRef<Term> terms, ArrayRef<int64_t> output,
                         const llvm::DenseMap<int64_t, int64_t> &sizes) {
  // A label is still needed while the output or a later operand has it.
  auto neededAfter = [&](size_t i) -> std::function<bool(int64_t)> {
    return [&, i](int64_t l) {
      if (llvm::is_contained(output, l))
        return true;
      return llvm::any_of(terms.drop_front(i + 1),
                          [&](const Term &t) { return llvm::is_contained(t.labels, l); });
    };
  };
  auto neededBy = [&](const Term &other, size_t i) -> std::function<bool(int64_t)> {
    return [&, i](int64_t l) { return llvm::is_contained(other.labels, l) || neededAfter(i)(l); };
  };
  FailureOr<Term> acc = sumExcept(n, terms[0], terms.size() > 1 ? neededBy(terms[1], 1)
                                                                : neededAfter(0));
  for (size_t i = 1; i < terms.size() && succeeded(acc); ++i) {
    FailureOr<Term> rhs = sumExcept(n, terms[i], neededBy(*acc, i));
    acc = failed(rhs) ? rhs : contract(n, *acc, *rhs, neededAfter(i), sizes);
  }
  return acc;
}

LogicalResult importEinsum(NodeImporter &n) {
  FailureOr<std::string> text = n.stringAttr("equation", std::nullopt);
  if (failed(text))
    return failure();
  if (n.numInputs() == 0)
    return n.error() << "Einsum needs at least one input";
  FailureOr<Equation> eq = splitEquation(n, *text);
  int64_t ellipsis = 0;
  FailureOr<SmallVector<Term>> terms =
      failed(eq) ? FailureOr<SmallVector<Term>>(failure()) : operandTerms(n, *eq, ellipsis);
  if (failed(terms))
    return failure();
  FailureOr<SmallVector<int64_t>> output = outputLabels(n, *eq, ellipsis);
  FailureOr<llvm::DenseMap<int64_t, int64_t>> sizes =
      failed(output) ? FailureOr<llvm::DenseMap<int64_t, int64_t>>(failure())
                     : labelSizes(n, *terms);
  if (failed(sizes))
    return failure();
  for (int64_t l : *output)
    if (!sizes->count(l) || llvm::count(*output, l) > 1)
      return n.error() << "output subscripts of \"" << *text
                       << "\" must be distinct and appear in an input";
  FailureOr<Term> acc = evaluate(n, *terms, *output, *sizes);
  FailureOr<Term> summed =
      failed(acc) ? acc
                  : sumExcept(n, *acc, [&](int64_t l) { return llvm::is_contained(*output, l); });
  FailureOr<Term> result = failed(summed) ? summed : permute(n, *summed, *output);
  FailureOr<Term> full = failed(result) ? result : broadcastTo(n, *result, *sizes);
  if (failed(full))
    return failure();
  return n.setOutput(0, full->value);
}

const OpImportInfo kTable[] = {
    {"Einsum", 13, kMaxOpset, importEinsum,
     "mpc.transpose + mpc.reshape + mpc.matmul + mpc.reduce_sum",
     "explicit and implicit output, ellipsis (broadcast), diagonals (repeated subscripts); "
     "operands are contracted pairwise, left to right"},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::einsumOpTable() { return kTable; }
