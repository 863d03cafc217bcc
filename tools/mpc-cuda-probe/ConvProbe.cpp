//===- ConvProbe.cpp - mpc-cuda-probe's checks of mpc_cuda_conv -----------===//
//
// Problems are handed to mpc_cuda_conv as compiled code hands them: one
// packed argument block (Abi.h) of NC(D)HW operands.
//
//===----------------------------------------------------------------------===//
#include "ConvProbe.h"

#include "Timing.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/Runtime.h"
#include "mpc/Runtime/FloatConversions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace mpc::probe {
namespace {

/// A convolution: N, C, K, spatial sizes, kernel, pads, strides, dilations,
/// groups (unused spatial entries 1 / 0).
struct ConvCase {
  const char *name;
  int64_t n, c, k, spatial;
  int64_t in[3], kernel[3], pads[3], strides[3], dilations[3];
  int64_t groups;
  int32_t dtype, flags;

  int64_t out(int i) const {
    return (in[i] + 2 * pads[i] - dilations[i] * (kernel[i] - 1) - 1) / strides[i] + 1;
  }
  std::vector<int64_t> xShape() const { return shape(n, c, in); }
  std::vector<int64_t> wShape() const { return shape(k, c / groups, kernel); }
  std::vector<int64_t> yShape() const {
    int64_t o[3] = {out(0), spatial > 1 ? out(1) : 1, spatial > 2 ? out(2) : 1};
    return shape(n, k, o);
  }
  std::vector<int64_t> shape(int64_t a, int64_t b, const int64_t *rest) const {
    std::vector<int64_t> s{a, b};
    s.insert(s.end(), rest, rest + spatial);
    return s;
  }
};

int64_t count(const std::vector<int64_t> &shape) {
  int64_t total = 1;
  for (int64_t v : shape)
    total *= v;
  return total;
}

size_t bytesOf(int32_t dtype) { return dtype == MPC_DT_F32 ? 4 : 2; }

float roundTo(int32_t dtype, float v) {
  if (dtype == MPC_DT_F16)
    return runtime::halfBitsToFloat(runtime::floatToHalfBits(v));
  if (dtype == MPC_DT_BF16)
    return runtime::bfloat16BitsToFloat(runtime::floatToBFloat16Bits(v));
  return v;
}

/// Host values (already rounded to `dtype`) on the device.
void *upload(const std::vector<float> &values, int32_t dtype) {
  std::vector<uint8_t> bytes(values.size() * bytesOf(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == MPC_DT_F32) {
      std::memcpy(&bytes[i * 4], &values[i], 4);
    } else {
      uint16_t h = dtype == MPC_DT_F16 ? runtime::floatToHalfBits(values[i])
                                       : runtime::floatToBFloat16Bits(values[i]);
      std::memcpy(&bytes[i * 2], &h, 2);
    }
  }
  void *device = mpcCudaAlloc(bytes.size());
  mpcCudaUpload(device, bytes.data(), bytes.size());
  return device;
}

std::vector<float> download(void *device, size_t n, int32_t dtype) {
  std::vector<uint8_t> bytes(n * bytesOf(dtype));
  mpcCudaDownload(bytes.data(), device, bytes.size());
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (dtype == MPC_DT_F32) {
      std::memcpy(&out[i], &bytes[i * 4], 4);
    } else {
      uint16_t h;
      std::memcpy(&h, &bytes[i * 2], 2);
      out[i] = dtype == MPC_DT_F16 ? runtime::halfBitsToFloat(h) : runtime::bfloat16BitsToFloat(h);
    }
  }
  return out;
}

/// mpc_cuda_conv on packed device buffers, as compiled code calls it.
void callConv(const ConvCase &t, void *x, void *w, void *y) {
  int64_t p[MPC_CONV_PARAMS] = {};
  p[MPC_CONV_SLOT_ABI] = MPC_CONV_ABI_VERSION;
  p[MPC_CONV_SLOT_DTYPE_X] = p[MPC_CONV_SLOT_DTYPE_W] = p[MPC_CONV_SLOT_DTYPE_Y] = t.dtype;
  p[MPC_CONV_SLOT_FLAGS] = t.flags;
  p[MPC_CONV_SLOT_GROUPS] = t.groups;
  p[MPC_CONV_SLOT_SPATIAL] = t.spatial;
  for (int i = 0; i < 3; ++i) {
    p[MPC_CONV_SLOT_PADS + i] = t.pads[i];
    p[MPC_CONV_SLOT_STRIDES + i] = t.strides[i];
    p[MPC_CONV_SLOT_DILATIONS + i] = t.dilations[i];
  }
  std::vector<int64_t> shapes[] = {t.xShape(), t.wShape(), t.yShape()};
  void *data[] = {x, w, y};
  for (int j = 0; j < 3; ++j) {
    int64_t *slot = p + MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS;
    slot[0] = int64_t(reinterpret_cast<intptr_t>(data[j]));
    slot[2] = int64_t(shapes[j].size());
    int64_t stride = 1;
    for (int64_t d = int64_t(shapes[j].size()) - 1; d >= 0; --d) {
      slot[3 + d] = shapes[j][size_t(d)];
      slot[8 + d] = stride;
      stride *= shapes[j][size_t(d)];
    }
  }
  mpc_cuda_conv(p, p, 0, MPC_CONV_PARAMS, 1);
}

/// y (+)= conv(x, w) in double, and the sum of |products| per output (the
/// scale of its rounding errors).
void reference(const ConvCase &t, const std::vector<float> &x, const std::vector<float> &w,
               std::vector<double> &y, std::vector<double> &magnitude) {
  std::vector<int64_t> ys = t.yShape();
  int64_t cg = t.c / t.groups, kg = t.k / t.groups;
  int64_t o1 = t.spatial > 1 ? ys[3] : 1, o2 = t.spatial > 2 ? ys[4] : 1;
  int64_t k1 = t.spatial > 1 ? t.kernel[1] : 1, k2 = t.spatial > 2 ? t.kernel[2] : 1;
  int64_t i1 = t.spatial > 1 ? t.in[1] : 1, i2 = t.spatial > 2 ? t.in[2] : 1;
  magnitude.assign(y.size(), 0);
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t k = 0; k < t.k; ++k)
      for (int64_t a = 0; a < ys[2]; ++a)
        for (int64_t b = 0; b < o1; ++b)
          for (int64_t c = 0; c < o2; ++c) {
            double sum = 0, mag = 0;
            int64_t g = k / kg;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t r = 0; r < t.kernel[0]; ++r)
                for (int64_t s = 0; s < k1; ++s)
                  for (int64_t u = 0; u < k2; ++u) {
                    int64_t h = a * t.strides[0] + r * t.dilations[0] - t.pads[0];
                    int64_t v = b * t.strides[1] + s * t.dilations[1] - t.pads[1];
                    int64_t z = c * t.strides[2] + u * t.dilations[2] - t.pads[2];
                    if (h < 0 || h >= t.in[0] || v < 0 || v >= i1 || z < 0 || z >= i2)
                      continue;
                    int64_t channel = g * cg + ci;
                    double xv =
                        x[size_t(((n * t.c + channel) * t.in[0] + h) * i1 * i2 + v * i2 + z)];
                    double wv = w[size_t(((k * cg + ci) * t.kernel[0] + r) * k1 * k2 + s * k2 + u)];
                    sum += xv * wv;
                    mag += std::fabs(xv * wv);
                  }
            size_t at = size_t((((n * t.k + k) * ys[2] + a) * o1 + b) * o2 + c);
            y[at] += sum;
            magnitude[at] = mag;
          }
}

bool checkOne(const ConvCase &t, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float &e : v)
      e = roundTo(t.dtype, dist(rng));
    return v;
  };
  std::vector<float> x = random(count(t.xShape())), w = random(count(t.wShape()));
  std::vector<float> y0 = random(count(t.yShape()));
  void *dx = upload(x, t.dtype), *dw = upload(w, t.dtype), *dy = upload(y0, t.dtype);
  callConv(t, dx, dw, dy);
  std::vector<float> got = download(dy, y0.size(), t.dtype);
  std::vector<double> want(y0.size(), 0), magnitude;
  if (!(t.flags & MPC_MM_BETA0))
    for (size_t i = 0; i < y0.size(); ++i)
      want[i] = y0[i];
  reference(t, x, w, want, magnitude);
  // Products of the inputs are exact in f32 (tensor cores included); TF32
  // rounds the inputs to 10 bits; sums round in f32 (Winograd and FFT
  // algorithms' transforms a little more); the result rounds to Y's type.
  double product = (t.flags & MPC_MM_ALLOW_TF32) ? std::ldexp(1.0, -10) : std::ldexp(1.0, -16);
  double out = t.dtype == MPC_DT_BF16  ? std::ldexp(1.0, -8)
               : t.dtype == MPC_DT_F16 ? std::ldexp(1.0, -11)
                                       : std::ldexp(1.0, -23);
  double worst = 0;
  bool ok = true;
  for (size_t i = 0; i < got.size(); ++i) {
    double tolerance = product * magnitude[i] + out * std::fabs(want[i]) + 1e-6;
    double error = std::fabs(double(got[i]) - want[i]);
    worst = std::max(worst, error / tolerance);
    ok &= error <= tolerance;
  }
  for (void *p : {dx, dw, dy})
    mpcCudaFree(p);
  std::printf("%s mpc_cuda_conv %s (worst error %.2f of its tolerance)\n", ok ? "PASS" : "FAIL",
              t.name, worst);
  return ok;
}

} // namespace

int checkConvolutions() {
  const int32_t F32 = MPC_DT_F32, F16 = MPC_DT_F16, BF16 = MPC_DT_BF16, B0 = MPC_MM_BETA0;
  // name, n, c, k, spatial, in, kernel, pads, strides, dilations, groups, dtype, flags
  const ConvCase cases[] = {
      {"f32 3x3", 2, 8, 16, 2, {12, 10, 1}, {3, 3, 1}, {1, 1, 0}, {1, 1, 1}, {1, 1, 1}, 1, F32, B0},
      {"f32 grouped, stride 2, dilation 2, pads 2",
       2,
       8,
       12,
       2,
       {17, 15, 1},
       {3, 3, 1},
       {2, 2, 0},
       {2, 2, 1},
       {2, 2, 1},
       4,
       F32,
       B0},
      {"f32 depthwise 5x5",
       1,
       16,
       16,
       2,
       {9, 9, 1},
       {5, 5, 1},
       {2, 2, 0},
       {1, 1, 1},
       {1, 1, 1},
       16,
       F32,
       B0},
      {"f32 accumulate (beta 1)",
       1,
       4,
       8,
       2,
       {8, 8, 1},
       {3, 3, 1},
       {0, 0, 0},
       {1, 1, 1},
       {1, 1, 1},
       1,
       F32,
       0},
      {"f32 TF32 7x7 stride 2",
       2,
       3,
       16,
       2,
       {32, 32, 1},
       {7, 7, 1},
       {3, 3, 0},
       {2, 2, 1},
       {1, 1, 1},
       1,
       F32,
       B0 | MPC_MM_ALLOW_TF32},
      {"f32 1-D, stride 2, dilation 3",
       2,
       4,
       6,
       1,
       {19, 1, 1},
       {3, 1, 1},
       {1, 0, 0},
       {2, 1, 1},
       {3, 1, 1},
       1,
       F32,
       B0},
      {"f32 3-D", 1, 3, 4, 3, {6, 7, 5}, {3, 3, 3}, {1, 1, 1}, {1, 2, 1}, {1, 1, 1}, 1, F32, B0},
      {"f16 3x3",
       2,
       16,
       32,
       2,
       {14, 14, 1},
       {3, 3, 1},
       {1, 1, 0},
       {1, 1, 1},
       {1, 1, 1},
       1,
       F16,
       B0},
      {"bf16 1x1 stride 2",
       2,
       32,
       64,
       2,
       {14, 14, 1},
       {1, 1, 1},
       {0, 0, 0},
       {2, 2, 1},
       {1, 1, 1},
       1,
       BF16,
       B0},
      {"bf16 grouped 3x3",
       2,
       32,
       32,
       2,
       {10, 10, 1},
       {3, 3, 1},
       {1, 1, 0},
       {1, 1, 1},
       {1, 1, 1},
       2,
       BF16,
       B0},
  };
  std::mt19937 rng(11);
  int failures = 0;
  for (const ConvCase &t : cases)
    failures += !checkOne(t, rng);
  return failures;
}

int benchConvolutions(int batch, int iterations, const std::string &jsonPath) {
  struct Shape {
    const char *layer;
    int64_t c, k, size, kernel, stride;
  };
  // ResNet-50's distinct convolutions (input size, pads kernel / 2).
  const Shape shapes[] = {
      {"conv1", 3, 64, 224, 7, 2},
      {"layer1 1x1 reduce", 64, 64, 56, 1, 1},
      {"layer1 3x3", 64, 64, 56, 3, 1},
      {"layer1 1x1 expand", 64, 256, 56, 1, 1},
      {"layer2 3x3 stride 2", 128, 128, 56, 3, 2},
      {"layer2 3x3", 128, 128, 28, 3, 1},
      {"layer3 3x3", 256, 256, 14, 3, 1},
      {"layer3 1x1 expand", 256, 1024, 14, 1, 1},
      {"layer4 3x3", 512, 512, 7, 3, 1},
      {"layer4 downsample", 1024, 2048, 14, 1, 2},
  };
  struct Type {
    const char *name;
    int32_t dtype, flags;
  };
  const Type types[] = {{"f32", MPC_DT_F32, MPC_MM_BETA0},
                        {"tf32", MPC_DT_F32, MPC_MM_BETA0 | MPC_MM_ALLOW_TF32},
                        {"bf16", MPC_DT_BF16, MPC_MM_BETA0},
                        {"fp16", MPC_DT_F16, MPC_MM_BETA0}};
  std::printf("mpc_cuda_conv (cuDNN), ResNet-50 shapes at batch %d, median of %d calls after 3 "
              "warm-up\n",
              batch, iterations);
  std::printf("%-22s %-20s %-6s %12s %10s\n", "layer", "CxKxHxW kernel/s", "type", "median ms",
              "TFLOP/s");
  std::string json;
  std::mt19937 rng(5);
  for (const Shape &s : shapes)
    for (const Type &t : types) {
      int64_t pad = s.kernel / 2;
      ConvCase c{s.layer,
                 batch,
                 s.c,
                 s.k,
                 2,
                 {s.size, s.size, 1},
                 {s.kernel, s.kernel, 1},
                 {pad, pad, 0},
                 {s.stride, s.stride, 1},
                 {1, 1, 1},
                 1,
                 t.dtype,
                 t.flags};
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      auto random = [&](int64_t n) {
        std::vector<float> v(static_cast<size_t>(n));
        for (float &e : v)
          e = dist(rng);
        return v;
      };
      void *x = upload(random(count(c.xShape())), t.dtype);
      void *w = upload(random(count(c.wShape())), t.dtype);
      void *y = mpcCudaAlloc(size_t(count(c.yShape())) * bytesOf(t.dtype));
      double median = timeCalls([&] { callConv(c, x, w, y); }, iterations).medianMs;
      int64_t out = c.out(0);
      double flops = 2.0 * double(batch) * double(s.k) * double(out * out) * double(s.c) *
                     double(s.kernel * s.kernel);
      double tflops = flops / (median * 1e-3) / 1e12;
      char geometry[64];
      std::snprintf(geometry, sizeof(geometry), "%lldx%lldx%lldx%lld %lld/%lld", (long long)s.c,
                    (long long)s.k, (long long)s.size, (long long)s.size, (long long)s.kernel,
                    (long long)s.stride);
      std::printf("%-22s %-20s %-6s %12.4f %10.1f\n", s.layer, geometry, t.name, median, tflops);
      std::fflush(stdout);
      char entry[512];
      std::snprintf(entry, sizeof(entry),
                    "%s\n    {\"layer\": \"%s\", \"c\": %lld, \"k\": %lld, \"size\": %lld, "
                    "\"kernel\": %lld, \"stride\": %lld, \"type\": \"%s\", \"median_ms\": %.6g, "
                    "\"tflops\": %.6g}",
                    json.empty() ? "" : ",", s.layer, (long long)s.c, (long long)s.k,
                    (long long)s.size, (long long)s.kernel, (long long)s.stride, t.name, median,
                    tflops);
      json += entry;
      for (void *p : {x, w, y})
        mpcCudaFree(p);
      mpcCudaSynchronize();
    }
  if (jsonPath.empty())
    return 0;
  FILE *file = std::fopen(jsonPath.c_str(), "w");
  if (!file) {
    std::fprintf(stderr, "mpc-cuda-probe: cannot write '%s'\n", jsonPath.c_str());
    return 1;
  }
  std::fprintf(file,
               "{\n  \"device\": \"%s\",\n  \"batch\": %d,\n  \"iterations\": %d,\n"
               "  \"results\": [%s\n  ]\n}\n",
               mpcCudaDeviceDescription().c_str(), batch, iterations, json.c_str());
  std::fclose(file);
  return 0;
}

} // namespace mpc::probe
