//===- ShapeInference.cpp - shape rules of the mpc ops --------------------===//
#include "mpc/Dialect/ShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace mpc::shape {
namespace {
std::string str(llvm::ArrayRef<int64_t> s) {
  std::string out = "[";
  llvm::raw_string_ostream os(out);
  llvm::interleave(s, os, "x");
  os << "]";
  return out;
}

FailureOr<Shape> fail(std::string &error, const llvm::Twine &msg) {
  error = msg.str();
  return failure();
}

} // namespace

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

FailureOr<Shape> broadcast(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                           std::string &error) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return fail(error, "shapes " + str(a) + " and " + str(b) +
                             " do not broadcast (dim " + llvm::Twine(i) + ": " +
                             llvm::Twine(da) + " vs " + llvm::Twine(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i])
      return false;
  return true;
}

FailureOr<Shape> matmul(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs,
                        std::string &error) {
  if (lhs.size() < 2 || rhs.size() < 2)
    return fail(error, "matmul operands need rank >= 2, got " + str(lhs) + " and " + str(rhs));
  int64_t m = lhs[lhs.size() - 2], k = lhs.back();
  int64_t k2 = rhs[rhs.size() - 2], n = rhs.back();
  if (k != k2)
    return fail(error, "matmul contraction dims differ: " + str(lhs) + " x " + str(rhs) + " (" +
                           llvm::Twine(k) + " vs " + llvm::Twine(k2) + ")");
  FailureOr<Shape> batch = broadcast(lhs.drop_back(2), rhs.drop_back(2), error);
  if (failed(batch))
    return fail(error, "matmul batch dims: " + error);
  Shape out = *batch;
  out.push_back(m);
  out.push_back(n);
  return out;
}

FailureOr<int64_t> windowOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                                    int64_t padEnd, int64_t dilation, bool ceilMode,
                                    std::string &error) {
  if (kernel <= 0 || stride <= 0 || dilation <= 0 || padBegin < 0 || padEnd < 0) {
    error = llvm::formatv("invalid window (kernel {0}, stride {1}, dilation {2}, pads {3},{4})",
                          kernel, stride, dilation, padBegin, padEnd)
                .str();
    return failure();
  }
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t padded = in + padBegin + padEnd;
  if (padded < span) {
    error = llvm::formatv("window of extent {0} does not fit the padded input of size {1}", span,
                          padded)
                .str();
    return failure();
  }
  int64_t out = ceilMode ? (padded - span + stride - 1) / stride + 1 : (padded - span) / stride + 1;
  // With ceil_mode the last window must start inside the input or the begin
  // padding (ONNX and PyTorch drop a window that starts in the end padding).
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

static FailureOr<Shape> window(llvm::StringRef what, llvm::ArrayRef<int64_t> input,
                               llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> strides,
                               llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
                               bool ceilMode, std::string &error) {
  size_t spatial = kernel.size();
  if (input.size() != spatial + 2)
    return fail(error, what + " input " + str(input) + " must have rank " +
                           llvm::Twine(spatial + 2) + " (N, C and " + llvm::Twine(spatial) +
                           " spatial dims)");
  if (strides.size() != spatial || dilations.size() != spatial || pads.size() != 2 * spatial)
    return fail(error, what + " needs " + llvm::Twine(spatial) + " strides and dilations and " +
                           llvm::Twine(2 * spatial) + " pads");
  Shape out = {input[0], input[1]};
  for (size_t i = 0; i < spatial; ++i) {
    FailureOr<int64_t> size = windowOutputSize(input[i + 2], kernel[i], strides[i], pads[i],
                                               pads[i + spatial], dilations[i], ceilMode, error);
    if (failed(size))
      return fail(error, what + " spatial dim " + llvm::Twine(i) + ": " + error);
    out.push_back(*size);
  }
  return out;
}

FailureOr<Shape> conv(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                      llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
                      llvm::ArrayRef<int64_t> dilations, int64_t group, std::string &error) {
  if (weight.size() < 3 || input.size() != weight.size())
    return fail(error, "conv input " + str(input) + " and weight " + str(weight) +
                           " must have the same rank >= 3");
  if (group <= 0 || input[1] % group != 0 || weight[0] % group != 0)
    return fail(error, "conv group " + llvm::Twine(group) + " must divide the input channels (" +
                           llvm::Twine(input[1]) + ") and output channels (" +
                           llvm::Twine(weight[0]) + ")");
  if (weight[1] * group != input[1])
    return fail(error, "conv weight " + str(weight) + " expects " + llvm::Twine(weight[1] * group) +
                           " input channels, input " + str(input) + " has " +
                           llvm::Twine(input[1]));
  FailureOr<Shape> out =
      window("conv", input, weight.drop_front(2), strides, pads, dilations, false, error);
  if (failed(out))
    return failure();
  (*out)[1] = weight[0];
  return out;
}

FailureOr<Shape> pool(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> kernel,
                      llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
                      llvm::ArrayRef<int64_t> dilations, bool ceilMode, std::string &error) {
  if (kernel.empty())
    return fail(error, "pooling needs at least one spatial dim");
  return window("pool", input, kernel, strides, pads, dilations, ceilMode, error);
}

FailureOr<Shape> reduce(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> axes, bool keepdims,
                        std::string &error) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= (int64_t)input.size())
      return fail(error, "reduction axis " + llvm::Twine(axes[i]) + " is out of range for " +
                             str(input));
    if (i > 0 && axes[i] <= axes[i - 1])
      return fail(error, "reduction axes must be sorted and unique");
  }
  Shape out;
  for (size_t d = 0; d < input.size(); ++d) {
    if (llvm::is_contained(axes, (int64_t)d)) {
      if (keepdims)
        out.push_back(1);
    } else {
      out.push_back(input[d]);
    }
  }
  return out;
}

FailureOr<Shape> reshape(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> shape,
                         std::string &error) {
  if (!llvm::all_of(shape, [](int64_t d) { return d >= 0; }))
    return fail(error, "reshape target " + str(shape) + " has a negative dim");
  if (numElements(input) != numElements(shape))
    return fail(error, "cannot reshape " + str(input) + " (" + llvm::Twine(numElements(input)) +
                           " elements) to " + str(shape) + " (" +
                           llvm::Twine(numElements(shape)) + " elements)");
  return Shape(shape.begin(), shape.end());
}

FailureOr<Shape> transpose(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> perm,
                           std::string &error) {
  if (perm.size() != input.size())
    return fail(error, "transpose perm has " + llvm::Twine(perm.size()) +
                           " entries, input " + str(input) + " has rank " +
                           llvm::Twine(input.size()));
  llvm::SmallVector<bool> seen(perm.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p])
      return fail(error, "transpose perm " + str(perm) + " is not a permutation");
    seen[p] = true;
    out.push_back(input[p]);
  }
  return out;
}

FailureOr<Shape> concat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis,
                        std::string &error) {
  if (inputs.empty())
    return fail(error, "concat needs at least one input");
  llvm::ArrayRef<int64_t> first = inputs.front();
  if (axis < 0 || axis >= (int64_t)first.size())
    return fail(error, "concat axis " + llvm::Twine(axis) + " is out of range for " + str(first));
  Shape out(first.begin(), first.end());
  for (llvm::ArrayRef<int64_t> in : inputs.drop_front()) {
    if (in.size() != first.size())
      return fail(error, "concat inputs " + str(first) + " and " + str(in) + " differ in rank");
    for (size_t d = 0; d < in.size(); ++d)
      if ((int64_t)d != axis && in[d] != first[d])
        return fail(error, "concat inputs " + str(first) + " and " + str(in) +
                               " differ in dim " + llvm::Twine(d));
    out[axis] += in[axis];
  }
  return out;
}

FailureOr<Shape> slice(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> offsets,
                       llvm::ArrayRef<int64_t> sizes, llvm::ArrayRef<int64_t> strides,
                       std::string &error) {
  if (offsets.size() != input.size() || sizes.size() != input.size() ||
      strides.size() != input.size())
    return fail(error, "slice needs one offset, size and stride per dim of " + str(input));
  for (size_t d = 0; d < input.size(); ++d) {
    if (sizes[d] < 0 || strides[d] == 0)
      return fail(error, "slice dim " + llvm::Twine(d) + ": size must be >= 0 and stride != 0");
    if (sizes[d] == 0)
      continue;
    int64_t last = offsets[d] + (sizes[d] - 1) * strides[d];
    if (offsets[d] < 0 || offsets[d] >= input[d] || last < 0 || last >= input[d])
      return fail(error, "slice dim " + llvm::Twine(d) + " reads indices " +
                             llvm::Twine(offsets[d]) + ".." + llvm::Twine(last) +
                             " outside [0, " + llvm::Twine(input[d]) + ")");
  }
  return Shape(sizes.begin(), sizes.end());
}

FailureOr<Shape> gather(llvm::ArrayRef<int64_t> data, llvm::ArrayRef<int64_t> indices,
                        int64_t axis, std::string &error) {
  if (axis < 0 || axis >= (int64_t)data.size())
    return fail(error, "gather axis " + llvm::Twine(axis) + " is out of range for " + str(data));
  Shape out(data.begin(), data.begin() + axis);
  out.append(indices.begin(), indices.end());
  out.append(data.begin() + axis + 1, data.end());
  return out;
}
} // namespace mpc::shape
