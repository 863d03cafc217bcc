//===- ConvPlan.h - mpc_cuda_conv's problem as cuDNN sees it ----*- C++ -*-===//
//
// mpc_cuda_conv's argument block (Abi.h) decoded and checked: shapes that
// agree (Y's size from X, W, pads, strides, dilations and groups), one
// element type cuDNN's legacy convolution takes, a packed filter, and the
// 32-bit dims cuDNN's descriptors hold. A 1-D convolution becomes a 2-D one
// over a height of 1. Pure arithmetic, tested without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_CONVPLAN_H
#define MPC_RUNTIME_CUDA_CONVPLAN_H

#include <cstdint>
#include <string>

namespace mpc::runtime::cuda {

/// One operand of the block: rank 3 to 5, sizes and strides in elements.
struct ConvOperand {
  int64_t rank = 0;
  int64_t sizes[5] = {};
  int64_t strides[5] = {};
};

/// The block's geometry, pointers left out.
struct ConvProblem {
  int32_t dtypes[3] = {}; // X, W, Y (MPC_DT_*)
  int32_t flags = 0;      // MPC_MM_BETA0 | MPC_MM_ALLOW_TF32
  int64_t groups = 1, spatial = 0;
  int64_t pads[3] = {}, strides[3] = {}, dilations[3] = {};
  ConvOperand x, w, y;
};

/// Reads the geometry from a block of MPC_CONV_PARAMS slots (Abi.h).
ConvProblem readConvProblem(const int64_t *slots);

/// The descriptors' contents: `dims` dims (4, or 5 for 3-D) per tensor,
/// `dims - 2` spatial entries in the convolution's arrays.
struct ConvPlan {
  std::string error; // when not empty, nothing else is meaningful
  int dims = 4;
  int x[5] = {}, xStrides[5] = {}, w[5] = {}, y[5] = {}, yStrides[5] = {};
  int pads[3] = {}, strides[3] = {}, dilations[3] = {};
  int groups = 1;
  double flops = 0;   // 2 x multiply-adds
  bool empty = false; // Y has no elements: nothing to do
};

/// Checks `p` and lays it out for cuDNN.
ConvPlan planConv(const ConvProblem &p);

/// "conv2d f32 X[8,64,56,56] W[64,64,3,3] -> Y[8,64,56,56] pads [1,1]
/// strides [1,1] dilations [1,1] groups 1" (+ " +tf32" for f32 with TF32
/// allowed, " +acc" without BETA0): errors' and the profile's name of a
/// problem.
std::string describeConv(const ConvProblem &p);

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_CONVPLAN_H
