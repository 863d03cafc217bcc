//===- ConvPlan.cpp - mpc_cuda_conv's problem as cuDNN sees it ------------===//

#include "mpc/Runtime/CUDA/ConvPlan.h"

#include "mpc/Runtime/CUDA/Abi.h"

#include <climits>

namespace mpc::runtime::cuda {

ConvProblem readConvProblem(const int64_t *slots) {
  ConvProblem p;
  p.dtypes[0] = int32_t(slots[MPC_CONV_SLOT_DTYPE_X]);
  p.dtypes[1] = int32_t(slots[MPC_CONV_SLOT_DTYPE_W]);
  p.dtypes[2] = int32_t(slots[MPC_CONV_SLOT_DTYPE_Y]);
  p.flags = int32_t(slots[MPC_CONV_SLOT_FLAGS]);
  p.groups = slots[MPC_CONV_SLOT_GROUPS];
  p.spatial = slots[MPC_CONV_SLOT_SPATIAL];
  for (int i = 0; i < 3; ++i) {
    p.pads[i] = slots[MPC_CONV_SLOT_PADS + i];
    p.strides[i] = slots[MPC_CONV_SLOT_STRIDES + i];
    p.dilations[i] = slots[MPC_CONV_SLOT_DILATIONS + i];
  }
  ConvOperand *operands[] = {&p.x, &p.w, &p.y};
  for (int j = 0; j < 3; ++j) {
    const int64_t *slot = slots + MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS;
    operands[j]->rank = slot[2];
    for (int d = 0; d < 5; ++d) {
      operands[j]->sizes[d] = slot[3 + d];
      operands[j]->strides[d] = slot[8 + d];
    }
  }
  return p;
}

namespace {

const char *dtypeName(int32_t code) {
  const char *name = mpc_dtype_name(code);
  return name ? name : "?";
}

std::string list(const int64_t *values, int64_t count) {
  std::string out = "[";
  for (int64_t i = 0; i < count; ++i)
    out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

std::string shape(const ConvOperand &o) {
  int64_t rank = o.rank >= 0 && o.rank <= 5 ? o.rank : 0;
  return list(o.sizes, rank);
}

bool fitsInt(int64_t v) { return v >= 0 && v <= INT_MAX; }

} // namespace

std::string describeConv(const ConvProblem &p) {
  int64_t s = p.spatial >= 1 && p.spatial <= 3 ? p.spatial : 0;
  std::string out = "conv" + std::to_string(p.spatial) + "d " + dtypeName(p.dtypes[0]);
  if (p.dtypes[1] != p.dtypes[0] || p.dtypes[2] != p.dtypes[0])
    out += std::string("*") + dtypeName(p.dtypes[1]) + "->" + dtypeName(p.dtypes[2]);
  out += " X" + shape(p.x) + " W" + shape(p.w) + " -> Y" + shape(p.y) + " pads " + list(p.pads, s) +
         " strides " + list(p.strides, s) + " dilations " + list(p.dilations, s) + " groups " +
         std::to_string(p.groups);
  if ((p.flags & MPC_MM_ALLOW_TF32) && p.dtypes[0] == MPC_DT_F32)
    out += " +tf32";
  if (!(p.flags & MPC_MM_BETA0))
    out += " +acc";
  return out;
}

ConvPlan planConv(const ConvProblem &p) {
  ConvPlan plan;
  auto fail = [&](const std::string &why) {
    plan.error = "mpc_cuda_conv: " + why + " (" + describeConv(p) + ")";
    return plan;
  };
  int32_t type = p.dtypes[0];
  if (type != MPC_DT_F32 && type != MPC_DT_F16 && type != MPC_DT_BF16)
    return fail(std::string("cuDNN convolutions take f32, f16 or bf16, not ") + dtypeName(type));
  if (p.dtypes[1] != type || p.dtypes[2] != type)
    return fail("X, W and Y must have one element type for cuDNN");
  int64_t s = p.spatial;
  if (s < 1 || s > 3)
    return fail("1, 2 or 3 spatial dims expected, not " + std::to_string(s));
  for (const ConvOperand *o : {&p.x, &p.w, &p.y})
    if (o->rank != s + 2)
      return fail("every operand must have rank " + std::to_string(s + 2));
  for (int64_t i = 0; i < s; ++i)
    if (p.pads[i] < 0 || p.strides[i] < 1 || p.dilations[i] < 1)
      return fail("pads must be >= 0, strides and dilations >= 1");
  const int64_t *x = p.x.sizes, *w = p.w.sizes, *y = p.y.sizes;
  int64_t g = p.groups;
  if (g < 1 || x[1] % g != 0 || w[0] % g != 0)
    return fail("groups must divide X's and W's channels");
  if (w[1] * g != x[1])
    return fail("W has " + std::to_string(w[1]) + " input channels per group; X has " +
                std::to_string(x[1]) + " channels in " + std::to_string(g) + " groups");
  if (y[0] != x[0] || y[1] != w[0])
    return fail("Y must be [N, output channels, ...] = [" + std::to_string(x[0]) + ", " +
                std::to_string(w[0]) + ", ...]");
  double taps = 1, positions = 1;
  for (int64_t i = 0; i < s; ++i) {
    int64_t window = p.dilations[i] * (w[2 + i] - 1) + 1;
    int64_t padded = x[2 + i] + 2 * p.pads[i];
    int64_t out = padded >= window ? (padded - window) / p.strides[i] + 1 : 0;
    if (w[2 + i] < 1 || out != y[2 + i])
      return fail("Y's spatial dim " + std::to_string(i) + " must be " + std::to_string(out) +
                  " for this input, kernel, padding, stride and dilation");
    taps *= double(w[2 + i]);
    positions *= double(y[2 + i]);
  }
  for (const ConvOperand *o : {&p.x, &p.w, &p.y})
    for (int64_t d = 0; d < o->rank; ++d)
      if (!fitsInt(o->sizes[d]) || !fitsInt(o->strides[d]))
        return fail("sizes and strides must be non-negative and fit cuDNN's 32-bit dims");
      else if (o->sizes[d] > 1 && o->strides[d] == 0)
        return fail("cuDNN reads no broadcast (stride 0) dims");
  // cuDNN's filter descriptor has no strides: W must be packed.
  int64_t expected = 1;
  for (int64_t d = s + 1; d >= 0; --d) {
    if (w[d] != 1 && p.w.strides[d] != expected)
      return fail("W must be a packed [K, C/groups, kernel...] buffer, its strides are " +
                  list(p.w.strides, s + 2));
    expected *= w[d];
  }
  plan.flops = 2.0 * double(y[0]) * double(y[1]) * positions * double(w[1]) * taps;
  plan.empty = y[0] == 0 || y[1] == 0 || positions == 0;
  if (!plan.empty && (x[1] == 0))
    return fail("X has no channels");
  plan.groups = int(g);
  // Insert a height of 1 before a 1-D convolution's width.
  bool oneD = s == 1;
  plan.dims = oneD ? 4 : int(s + 2);
  // Strides computed here (a 1-D convolution's height, a size-1 dim's
  // packed stride) are products: checked against 32 bits too.
  auto lay = [&](const ConvOperand &o, int *sizes, int *strides) {
    int64_t wide[5];
    int k = 0;
    for (int64_t d = 0; d < o.rank; ++d) {
      if (oneD && d == 2) {
        sizes[k] = 1;
        wide[k++] = o.sizes[2] * o.strides[2];
      }
      sizes[k] = int(o.sizes[d]);
      wide[k++] = o.strides[d];
    }
    // cuDNN wants positive strides; a size-1 dim's stride addresses
    // nothing, so it gets the packed one.
    for (int d = plan.dims - 1; d >= 0; --d)
      if (sizes[d] == 1)
        wide[d] = d + 1 < plan.dims ? wide[d + 1] * sizes[d + 1] : 1;
    for (int d = 0; d < plan.dims; ++d) {
      if (!fitsInt(wide[d]))
        return false;
      strides[d] = int(wide[d]);
    }
    return true;
  };
  int wStrides[5];
  if (!lay(p.x, plan.x, plan.xStrides) || !lay(p.w, plan.w, wStrides) ||
      !lay(p.y, plan.y, plan.yStrides))
    return fail("sizes and strides must be non-negative and fit cuDNN's 32-bit dims");
  for (int64_t i = 0, k = oneD ? 1 : 0; i < s; ++i, ++k) {
    plan.pads[k] = int(p.pads[i]);
    plan.strides[k] = int(p.strides[i]);
    plan.dilations[k] = int(p.dilations[i]);
  }
  if (oneD) {
    plan.pads[0] = 0;
    plan.strides[0] = plan.dilations[0] = 1;
  }
  return plan;
}

} // namespace mpc::runtime::cuda
