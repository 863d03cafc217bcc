//===- AttentionProbe.cpp - mpc-cuda-probe's mpc_cuda_attention checks ----===//
//
// Calls mpc_cuda_attention the way compiled code does: with the packed block
// of Abi.h (MPC_ATTN_*) filled on the host.
//
//===----------------------------------------------------------------------===//

#include "AttentionProbe.h"

#include "Timing.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/Runtime.h"
#include "mpc/Runtime/FloatConversions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace mpc::probe {
namespace {

using runtime::bfloat16BitsToFloat;
using runtime::floatToBFloat16Bits;
using runtime::floatToHalfBits;
using runtime::halfBitsToFloat;

size_t elementBytes(int32_t dtype) { return dtype == MPC_DT_F32 ? 4 : 2; }

float roundTo(int32_t dtype, float v) {
  if (dtype == MPC_DT_F16)
    return halfBitsToFloat(floatToHalfBits(v));
  if (dtype == MPC_DT_BF16)
    return bfloat16BitsToFloat(floatToBFloat16Bits(v));
  return v;
}

void store(int32_t dtype, uint8_t *at, float v) {
  if (dtype == MPC_DT_F32) {
    std::memcpy(at, &v, 4);
    return;
  }
  uint16_t h = dtype == MPC_DT_F16 ? floatToHalfBits(v) : floatToBFloat16Bits(v);
  std::memcpy(at, &h, 2);
}

float load(int32_t dtype, const uint8_t *at) {
  if (dtype == MPC_DT_F32) {
    float v;
    std::memcpy(&v, at, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, at, 2);
  return dtype == MPC_DT_F16 ? halfBitsToFloat(h) : bfloat16BitsToFloat(h);
}

// A 4-D device tensor: logical sizes, element strides, host copy (logical
// row-major order).
struct Tensor {
  int32_t dtype = MPC_DT_BF16;
  int64_t sizes[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};
  std::vector<float> values;
  void *device = nullptr;
  size_t bytes = 0;

  int64_t count() const { return sizes[0] * sizes[1] * sizes[2] * sizes[3]; }
  size_t logical(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return size_t(((a * sizes[1] + b) * sizes[2] + c) * sizes[3] + d);
  }
  // Broadcast axes (size 1) read index 0.
  float at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return values[logical(sizes[0] == 1 ? 0 : a, sizes[1] == 1 ? 0 : b, sizes[2] == 1 ? 0 : c, d)];
  }
  int64_t slot(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3];
  }

  // Row-major over `order` (a permutation of the axes, outermost first);
  // size-1 axes get stride 0, as the ABI pads them.
  void layout(std::initializer_list<int> order) {
    int64_t stride = 1;
    std::vector<int> axes(order);
    for (auto it = axes.rbegin(); it != axes.rend(); ++it) {
      strides[*it] = sizes[*it] == 1 ? 0 : stride;
      stride *= sizes[*it];
    }
    bytes = size_t(stride) * elementBytes(dtype);
  }

  void upload() {
    std::vector<uint8_t> host(bytes);
    for (int64_t a = 0; a < sizes[0]; ++a)
      for (int64_t b = 0; b < sizes[1]; ++b)
        for (int64_t c = 0; c < sizes[2]; ++c)
          for (int64_t d = 0; d < sizes[3]; ++d)
            store(dtype, &host[size_t(slot(a, b, c, d)) * elementBytes(dtype)],
                  values[logical(a, b, c, d)]);
    device = mpcCudaAlloc(bytes);
    mpcCudaUpload(device, host.data(), bytes);
  }

  std::vector<float> download() const {
    std::vector<uint8_t> host(bytes);
    mpcCudaDownload(host.data(), device, bytes);
    std::vector<float> out(static_cast<size_t>(count()));
    for (int64_t a = 0; a < sizes[0]; ++a)
      for (int64_t b = 0; b < sizes[1]; ++b)
        for (int64_t c = 0; c < sizes[2]; ++c)
          for (int64_t d = 0; d < sizes[3]; ++d)
            out[logical(a, b, c, d)] =
                load(dtype, &host[size_t(slot(a, b, c, d)) * elementBytes(dtype)]);
    return out;
  }

  void put(int64_t *operand) const {
    operand[0] = int64_t(reinterpret_cast<uintptr_t>(device));
    operand[1] = 0;
    for (int d = 0; d < 4; ++d) {
      operand[2 + d] = sizes[d];
      operand[6 + d] = strides[d];
    }
  }
};

uint64_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

void call(const Tensor &q, const Tensor &k, const Tensor &v, const Tensor &o, const Tensor *mask,
          float scale) {
  int64_t p[MPC_ATTN_PARAMS] = {};
  p[MPC_ATTN_SLOT_ABI] = MPC_ATTN_ABI_VERSION;
  p[MPC_ATTN_SLOT_DTYPE] = q.dtype;
  p[MPC_ATTN_SLOT_MASK_DTYPE] = mask ? mask->dtype : -1;
  p[MPC_ATTN_SLOT_SCALE] = int64_t(floatBits(scale));
  const Tensor *operands[] = {&q, &k, &v, &o, mask};
  for (int i = 0; i < 5; ++i)
    if (operands[i])
      operands[i]->put(p + MPC_ATTN_SLOT_OPERANDS + i * MPC_ATTN_OPERAND_SLOTS);
  mpc_cuda_attention(p, p, 0, MPC_ATTN_PARAMS, 1);
}

enum class Mask {
  None,
  Padding, // [B,1,1,Skv]: 0 for a batch's first keys, -inf after
  Shared,  // [1,1,Sq,Skv]: random, the same for every batch and head
  Full     // [B,H,Sq,Skv]: random
};

struct Case {
  const char *name;
  int64_t b, h, sq, skv, d;
  int32_t dtype;
  Mask mask;
  int32_t maskDtype;
  bool seqMajor; // Q, K, V, O stored [B,S,H,D] (as torch leaves them)
  int64_t kvHeads;
};

// softmax(scale * Q K^T + mask) V in double, from the values as stored.
std::vector<double> reference(const Case &c, const Tensor &q, const Tensor &k, const Tensor &v,
                              const Tensor *mask, float scale) {
  std::vector<double> out(size_t(c.b * c.h * c.sq * c.d));
  std::vector<double> p(size_t(c.skv));
  int64_t group = c.h / c.kvHeads;
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t h = 0; h < c.h; ++h)
      for (int64_t i = 0; i < c.sq; ++i) {
        double max = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < c.skv; ++j) {
          double dot = 0;
          for (int64_t x = 0; x < c.d; ++x)
            dot += double(q.at(b, h, i, x)) * k.at(b, h / group, j, x);
          p[size_t(j)] = double(scale) * dot + (mask ? mask->at(b, h, i, j) : 0.0);
          max = std::max(max, p[size_t(j)]);
        }
        double sum = 0;
        for (double &e : p)
          sum += (e = std::exp(e - max));
        for (int64_t x = 0; x < c.d; ++x) {
          double acc = 0;
          for (int64_t j = 0; j < c.skv; ++j)
            acc += p[size_t(j)] * v.at(b, h / group, j, x);
          out[size_t(((b * c.h + h) * c.sq + i) * c.d + x)] = acc / sum;
        }
      }
  return out;
}

Tensor makeTensor(int32_t dtype, std::array<int64_t, 4> sizes, bool seqMajor, std::mt19937 &rng) {
  Tensor t;
  t.dtype = dtype;
  std::copy(sizes.begin(), sizes.end(), t.sizes);
  if (seqMajor)
    t.layout({0, 2, 1, 3});
  else
    t.layout({0, 1, 2, 3});
  std::uniform_real_distribution<float> dist(-1, 1);
  t.values.resize(size_t(t.count()));
  for (float &v : t.values)
    v = roundTo(dtype, dist(rng));
  return t;
}

bool runCase(const Case &c) {
  std::mt19937 rng(1234);
  const float scale = 2.0f / std::sqrt(float(c.d));
  Tensor q = makeTensor(c.dtype, {c.b, c.h, c.sq, c.d}, c.seqMajor, rng);
  Tensor k = makeTensor(c.dtype, {c.b, c.kvHeads, c.skv, c.d}, c.seqMajor, rng);
  Tensor v = makeTensor(c.dtype, {c.b, c.kvHeads, c.skv, c.d}, c.seqMajor, rng);
  Tensor o = makeTensor(c.dtype, {c.b, c.h, c.sq, c.d}, c.seqMajor, rng);
  Tensor mask;
  if (c.mask != Mask::None) {
    std::array<int64_t, 4> shape = {c.b, c.h, c.sq, c.skv};
    if (c.mask == Mask::Padding)
      shape = {c.b, 1, 1, c.skv};
    else if (c.mask == Mask::Shared)
      shape = {1, 1, c.sq, c.skv};
    mask = makeTensor(c.maskDtype, shape, false, rng);
    if (c.mask == Mask::Padding)
      for (int64_t b = 0; b < c.b; ++b) {
        int64_t valid = std::max<int64_t>(1, c.skv - 5 * b - 3 * (b % 2));
        for (int64_t j = 0; j < c.skv; ++j)
          mask.values[mask.logical(b, 0, 0, j)] =
              j < valid ? 0.0f : -std::numeric_limits<float>::infinity();
      }
  }
  Tensor *maskPtr = c.mask == Mask::None ? nullptr : &mask;
  for (Tensor *t : {&q, &k, &v, &o, maskPtr})
    if (t)
      t->upload();
  call(q, k, v, o, maskPtr, scale);
  std::vector<float> got = o.download();
  std::vector<double> want = reference(c, q, k, v, maskPtr, scale);
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::isnan(got[i]) ? INFINITY : std::fabs(got[i] - want[i]));
  // |O| <= 1: the error is the rounding of P (the I/O type feeds the second
  // product) and of O, a few units in the last place of each.
  double tolerance = c.dtype == MPC_DT_BF16 ? 2e-2 : 4e-3;
  bool ok = worst <= tolerance;
  std::printf("%s attention %s (max error %g, tolerance %g)\n", ok ? "PASS" : "FAIL", c.name, worst,
              tolerance);
  for (Tensor *t : {&q, &k, &v, &o, maskPtr})
    if (t)
      mpcCudaFree(t->device);
  return ok;
}

struct BenchShape {
  int64_t b, h, s, d;
};

struct BenchResult {
  BenchShape shape;
  const char *type;
  bool mask;
  double medianMs, minMs, tflops;
};

BenchResult benchOne(const BenchShape &s, int32_t dtype, bool withMask, int iterations) {
  std::mt19937 rng(7);
  Tensor q = makeTensor(dtype, {s.b, s.h, s.s, s.d}, false, rng);
  Tensor k = makeTensor(dtype, {s.b, s.h, s.s, s.d}, false, rng);
  Tensor v = makeTensor(dtype, {s.b, s.h, s.s, s.d}, false, rng);
  Tensor o = makeTensor(dtype, {s.b, s.h, s.s, s.d}, false, rng);
  Tensor mask = makeTensor(dtype, {s.b, 1, 1, s.s}, false, rng);
  for (float &m : mask.values)
    m = 0;
  for (Tensor *t : {&q, &k, &v, &o, &mask})
    t->upload();
  const float scale = 1.0f / std::sqrt(float(s.d));
  auto once = [&] { call(q, k, v, o, withMask ? &mask : nullptr, scale); };
  // (Warm-up builds the graph and its plan: runtime compilation.)
  Timing timing = timeCalls(once, iterations);
  double median = timing.medianMs;
  double flops = 4.0 * double(s.b) * double(s.h) * double(s.s) * double(s.s) * double(s.d);
  for (Tensor *t : {&q, &k, &v, &o, &mask})
    mpcCudaFree(t->device);
  mpcCudaSynchronize();
  return {s,          dtype == MPC_DT_BF16 ? "bf16" : "fp16", withMask, median,
          timing.minMs, flops / (median * 1e-3) / 1e12};
}

} // namespace

int checkAttention() {
  const int32_t F32 = MPC_DT_F32, F16 = MPC_DT_F16, BF16 = MPC_DT_BF16;
  const Case cases[] = {
      {"bf16 D=64", 2, 3, 64, 64, 64, BF16, Mask::None, -1, false, 3},
      {"f16 D=64, Sq != Skv", 2, 2, 40, 72, 64, F16, Mask::None, -1, false, 2},
      {"bf16 padding mask [B,1,1,Skv]", 3, 2, 128, 128, 64, BF16, Mask::Padding, BF16, false, 2},
      {"f16 padding mask [B,1,1,Skv]", 2, 4, 32, 48, 64, F16, Mask::Padding, F16, false, 4},
      {"bf16 mask [1,1,Sq,Skv], Sq != Skv", 2, 2, 32, 96, 64, BF16, Mask::Shared, BF16, false, 2},
      {"f16 mask [1,1,Sq,Skv]", 2, 2, 64, 64, 64, F16, Mask::Shared, F16, false, 2},
      {"bf16 [B,S,H,D] views", 2, 4, 48, 48, 64, BF16, Mask::None, -1, true, 4},
      {"f16 D=128, one K/V head (MQA)", 1, 4, 64, 80, 128, F16, Mask::None, -1, false, 1},
      {"bf16 f32 mask [B,H,Sq,Skv]", 2, 2, 64, 64, 64, BF16, Mask::Full, F32, false, 2},
  };
  int failures = 0;
  for (const Case &c : cases)
    failures += !runCase(c);
  return failures;
}

int benchAttention(int iterations, const std::string &jsonPath) {
  const BenchShape shapes[] = {{32, 12, 128, 64}, {8, 12, 512, 64}, {4, 16, 1024, 128}};
  std::vector<BenchResult> results;
  std::printf("mpc_cuda_attention (cuDNN flash attention), O = softmax(Q K^T / sqrt(D) [+ mask]) "
              "V, Q/K/V/O [B,H,S,D], median of %d calls after 3 warm-up\n",
              iterations);
  std::printf("%-18s %-6s %-5s %12s %12s %10s\n", "BxHxSxD", "type", "mask", "median ms", "min ms",
              "TFLOP/s");
  for (const BenchShape &s : shapes)
    for (int32_t dtype : {MPC_DT_BF16, MPC_DT_F16})
      for (bool withMask : {false, true}) {
        BenchResult r = benchOne(s, dtype, withMask, iterations);
        results.push_back(r);
        std::string shape = std::to_string(s.b) + "x" + std::to_string(s.h) + "x" +
                            std::to_string(s.s) + "x" + std::to_string(s.d);
        std::printf("%-18s %-6s %-5s %12.4f %12.4f %10.1f\n", shape.c_str(), r.type,
                    withMask ? "yes" : "no", r.medianMs, r.minMs, r.tflops);
        std::fflush(stdout);
      }
  if (jsonPath.empty())
    return 0;
  FILE *file = std::fopen(jsonPath.c_str(), "w");
  if (!file) {
    std::fprintf(stderr, "mpc-cuda-probe: cannot write '%s'\n", jsonPath.c_str());
    return 1;
  }
  std::fprintf(file, "{\n  \"device\": \"%s\",\n  \"iterations\": %d,\n  \"results\": [",
               mpcCudaDeviceDescription().c_str(), iterations);
  for (size_t i = 0; i < results.size(); ++i) {
    const BenchResult &r = results[i];
    std::fprintf(file,
                 "%s\n    {\"b\": %lld, \"h\": %lld, \"s\": %lld, \"d\": %lld, \"type\": \"%s\", "
                 "\"mask\": %s, \"median_ms\": %.6g, \"min_ms\": %.6g, \"tflops\": %.6g}",
                 i ? "," : "", (long long)r.shape.b, (long long)r.shape.h, (long long)r.shape.s,
                 (long long)r.shape.d, r.type, r.mask ? "true" : "false", r.medianMs, r.minMs,
                 r.tflops);
  }
  std::fprintf(file, "\n  ]\n}\n");
  std::fclose(file);
  return 0;
}

} // namespace mpc::probe
