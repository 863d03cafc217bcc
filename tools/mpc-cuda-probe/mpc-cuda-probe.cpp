//===- mpc-cuda-probe.cpp - Checks the CUDA runtime on this machine -------===//
//
// mpc-cuda-probe             prints the device, or the one-line reason there
//                            is none (exit 1), as a compiled program would
// mpc-cuda-probe --selftest  also launches a hand-written PTX kernel (via
//                            both module loaders, > 48 KiB of shared memory)
//                            and checks mpc_cuda_matmul in every layout and
//                            type and its bias/ReLU/GELU epilogues,
//                            mpc_cuda_attention, and mpc_cuda_conv (groups,
//                            strides, pads, dilations, 1-D to 3-D), against
//                            the CPU; exit 1 on any mismatch
// mpc-cuda-probe --bench-gemm [--json FILE] [--iterations N] [--shapes MxNxK,...]
//                            TFLOP/s of mpc_cuda_matmul (cuBLASLt) per shape
//                            in f32, tf32, bf16 and fp16: timing events around
//                            each call after warm-up, the median of N
// mpc-cuda-probe --bench-attention [--json FILE] [--iterations N]
//                            TFLOP/s of mpc_cuda_attention (cuDNN flash
//                            attention) for BERT-like shapes (AttentionProbe.h)
// mpc-cuda-probe --bench-conv [--json FILE] [--iterations N] [--batch N]
//                            TFLOP/s of mpc_cuda_conv (cuDNN) on ResNet-50's
//                            convolutions (default batch 32), same types
//
// Like a program gpu-to-llvm lowered, it "loads" its module from a global
// constructor, before main: that must not need a driver.
//
//===----------------------------------------------------------------------===//

#include "AttentionProbe.h"
#include "ConvProbe.h"

#include "Timing.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"
#include "mpc/Runtime/FloatConversions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

// p[i] = value + i for i < n, through dynamic shared memory.
const char kProbePtx[] = R"PTX(
.version 7.0
.target sm_80
.address_size 64
.extern .shared .align 16 .b8 mpc_probe_smem[];
.visible .entry mpc_probe_fill(.param .u64 p, .param .f32 value, .param .u32 n)
{
  .reg .pred %done;
  .reg .b32 %t, %nt, %ct, %i, %n, %sa;
  .reg .b64 %base, %off;
  .reg .f32 %v, %fi, %x;
  ld.param.u64 %base, [p];
  ld.param.f32 %v, [value];
  ld.param.u32 %n, [n];
  mov.u32 %t, %tid.x;
  mov.u32 %nt, %ntid.x;
  mov.u32 %ct, %ctaid.x;
  mad.lo.u32 %i, %ct, %nt, %t;
  cvt.rn.f32.u32 %fi, %i;
  add.f32 %x, %v, %fi;
  mov.u32 %sa, mpc_probe_smem;
  mad.lo.u32 %sa, %t, 4, %sa;
  st.shared.f32 [%sa], %x;
  bar.sync 0;
  setp.ge.u32 %done, %i, %n;
  @%done bra END;
  ld.shared.f32 %x, [%sa];
  cvta.to.global.u64 %base, %base;
  mul.wide.u32 %off, %i, 4;
  add.s64 %base, %base, %off;
  st.global.f32 [%base], %x;
END:
  ret;
}
)PTX";

void *ctorModule = mgpuModuleLoad(const_cast<char *>(kProbePtx),
                                  sizeof(kProbePtx));

int failures = 0;

void report(bool ok, const std::string &what) {
  std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
  failures += !ok;
}

void checkKernel(void *module, const char *loader) {
  const unsigned n = 1000, block = 256;
  void *dev = mpcCudaAlloc(n * sizeof(float));
  float value = 0.5f;
  unsigned count = n;
  void *params[] = {&dev, &value, &count};
  void *kernel = mgpuModuleGetFunction(module, "mpc_probe_fill");
  mgpuLaunchKernel(kernel, (n + block - 1) / block, 1, 1, block, 1, 1,
                   64 << 10, mgpuStreamCreate(), params, nullptr, 3);
  std::vector<float> host(n);
  mpcCudaDownload(host.data(), dev, n * sizeof(float));
  bool ok = true;
  for (unsigned i = 0; i < n; ++i)
    ok &= host[i] == 0.5f + float(i);
  report(ok, std::string("kernel launch, 64 KiB shared memory, ") + loader);
  mpcCudaFree(dev);
}

// A host matrix in the device layout a case asks for.
struct Operand {
  int64_t batch, rows, cols;
  bool transposed; // stored as [batch, cols, rows], viewed transposed
  int32_t dtype;
  std::vector<float> values; // logical [batch, rows, cols]
  void *device = nullptr;
  struct Desc {
    void *allocated, *aligned;
    int64_t offset, sizes[3], strides[3];
  } desc{};

  float at(int64_t b, int64_t r, int64_t c) const {
    return values[size_t((b * rows + r) * cols + c)];
  }
  int64_t rank() const { return batch ? 3 : 2; }
  size_t elementBytes() const { return dtype == MPC_DT_F32 ? 4 : 2; }

  void upload() {
    int64_t b = batch ? batch : 1;
    std::vector<uint8_t> bytes(size_t(b * rows * cols) * elementBytes());
    for (int64_t i = 0; i < b; ++i)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t slot = i * rows * cols +
                         (transposed ? c * rows + r : r * cols + c);
          float v = at(i, r, c);
          if (dtype == MPC_DT_F32)
            std::memcpy(&bytes[size_t(slot) * 4], &v, 4);
          else {
            uint16_t h = dtype == MPC_DT_F16
                             ? mpc::runtime::floatToHalfBits(v)
                             : mpc::runtime::floatToBFloat16Bits(v);
            std::memcpy(&bytes[size_t(slot) * 2], &h, 2);
          }
        }
    device = mpcCudaAlloc(bytes.size());
    mpcCudaUpload(device, bytes.data(), bytes.size());
    desc.allocated = desc.aligned = device;
    int d = 0;
    if (batch) {
      desc.sizes[0] = batch;
      desc.strides[0] = rows * cols;
      d = 1;
    }
    desc.sizes[d] = rows;
    desc.sizes[d + 1] = cols;
    desc.strides[d] = transposed ? 1 : cols;
    desc.strides[d + 1] = transposed ? rows : 1;
  }

  std::vector<float> download() const {
    int64_t b = batch ? batch : 1;
    std::vector<uint8_t> bytes(size_t(b * rows * cols) * elementBytes());
    mpcCudaDownload(bytes.data(), device, bytes.size());
    std::vector<float> out(size_t(b * rows * cols));
    for (int64_t i = 0; i < b; ++i)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t slot = i * rows * cols +
                         (transposed ? c * rows + r : r * cols + c);
          float v;
          if (dtype == MPC_DT_F32) {
            std::memcpy(&v, &bytes[size_t(slot) * 4], 4);
          } else {
            uint16_t h;
            std::memcpy(&h, &bytes[size_t(slot) * 2], 2);
            v = dtype == MPC_DT_F16 ? mpc::runtime::halfBitsToFloat(h)
                                    : mpc::runtime::bfloat16BitsToFloat(h);
          }
          out[size_t((i * rows + r) * cols + c)] = v;
        }
    return out;
  }
};

float roundTo(int32_t dtype, float v) {
  if (dtype == MPC_DT_F16)
    return mpc::runtime::halfBitsToFloat(mpc::runtime::floatToHalfBits(v));
  if (dtype == MPC_DT_BF16)
    return mpc::runtime::bfloat16BitsToFloat(
        mpc::runtime::floatToBFloat16Bits(v));
  return v;
}

// What an epilogue does to x = (A x B + C)[.., col], in double.
double applyEpilogue(int32_t epilogue, double x, const std::vector<float> &bias, int64_t col) {
  if (epilogue & MPC_MM_EPILOGUE_BIAS)
    x += bias[size_t(col)];
  if (epilogue & MPC_MM_EPILOGUE_RELU)
    x = std::max(x, 0.0);
  if (epilogue & MPC_MM_EPILOGUE_GELU)
    x = 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return x;
}

void checkMatmul(const char *name, int64_t batchA, int64_t batchB, int64_t batchC, int64_t m,
                 int64_t k, int64_t n, bool tA, bool tB, bool tC, int32_t inType, int32_t outType,
                 int32_t flags, int32_t epilogue = MPC_MM_EPILOGUE_NONE) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto make = [&](int64_t batch, int64_t rows, int64_t cols, bool t,
                  int32_t dtype) {
    Operand op{batch, rows, cols, t, dtype, {}};
    op.values.resize(size_t((batch ? batch : 1) * rows * cols));
    for (float &v : op.values)
      v = roundTo(dtype, dist(rng));
    op.upload();
    return op;
  };
  Operand a = make(batchA, m, k, tA, inType), b = make(batchB, k, n, tB, inType);
  Operand c = make(batchC, m, n, tC, outType);
  // The bias [n] in C's type: a [1, n] operand's first row.
  Operand bias = make(0, 1, n, false, outType);
  struct {
    void *allocated, *aligned;
    int64_t offset, size, stride;
  } biasDesc{bias.device, bias.device, 0, n, 1};
  mpc_cuda_matmul_epilogue_descriptors(a.rank(), &a.desc, b.rank(), &b.desc, c.rank(), &c.desc,
                                       inType, inType, outType, flags, epilogue, &biasDesc,
                                       outType);
  std::vector<float> got = c.download();
  double worst = 0;
  int64_t batches = batchC ? batchC : 1;
  for (int64_t i = 0; i < batches; ++i)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t col = 0; col < n; ++col) {
        double want = (flags & MPC_MM_BETA0) ? 0 : c.at(i, r, col);
        for (int64_t x = 0; x < k; ++x)
          want += double(a.at(batchA > 1 ? i : 0, r, x)) *
                  b.at(batchB > 1 ? i : 0, x, col);
        want = applyEpilogue(epilogue, want, bias.values, col);
        worst = std::max(worst,
                         std::fabs(got[size_t((i * m + r) * n + col)] - want));
      }
  // Inputs are exact in their type; the error is the output's rounding and
  // (TF32) the products'.
  double tolerance = outType == MPC_DT_BF16  ? 0.05 * std::sqrt(double(k))
                     : outType == MPC_DT_F16 ? 0.01 * std::sqrt(double(k))
                     : (flags & MPC_MM_ALLOW_TF32) ? 2e-3 * k
                                                   : 1e-4 * k;
  report(worst <= tolerance,
         std::string("matmul ") + name + " (max error " +
             std::to_string(worst) + ", tolerance " +
             std::to_string(tolerance) + ")");
  for (Operand *op : {&a, &b, &c, &bias})
    mpcCudaFree(op->device);
}

struct BenchShape {
  int64_t m, n, k;
};

struct BenchType {
  const char *name;
  int32_t in, out, flags;
};

struct BenchResult {
  BenchShape shape;
  const char *type;
  double medianMs, minMs, tflops;
};

// Random values in [-1, 1) in the given type: the tensor cores' power (and
// so their clocks) depends on the data; zeros would flatter them.
void *randomDevice(int64_t count, int32_t dtype, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1, 1);
  size_t bytes = size_t(count) * (dtype == MPC_DT_F32 ? 4 : 2);
  std::vector<uint8_t> host(bytes);
  for (int64_t i = 0; i < count; ++i) {
    float v = dist(rng);
    if (dtype == MPC_DT_F32) {
      std::memcpy(&host[size_t(i) * 4], &v, 4);
    } else {
      uint16_t h = dtype == MPC_DT_F16 ? mpc::runtime::floatToHalfBits(v)
                                       : mpc::runtime::floatToBFloat16Bits(v);
      std::memcpy(&host[size_t(i) * 2], &h, 2);
    }
  }
  void *device = mpcCudaAlloc(bytes);
  mpcCudaUpload(device, host.data(), bytes);
  return device;
}

Operand::Desc rowMajor(void *device, int64_t rows, int64_t cols) {
  Operand::Desc d{};
  d.allocated = d.aligned = device;
  d.sizes[0] = rows;
  d.sizes[1] = cols;
  d.strides[0] = cols;
  d.strides[1] = 1;
  return d;
}

BenchResult benchOne(const BenchShape &s, const BenchType &t, int iterations,
                     std::mt19937 &rng) {
  void *a = randomDevice(s.m * s.k, t.in, rng);
  void *b = randomDevice(s.k * s.n, t.in, rng);
  void *c = randomDevice(s.m * s.n, t.out, rng);
  Operand::Desc da = rowMajor(a, s.m, s.k), db = rowMajor(b, s.k, s.n),
                dc = rowMajor(c, s.m, s.n);
  auto call = [&] {
    mpc_cuda_matmul_descriptors(2, &da, 2, &db, 2, &dc, t.in, t.in, t.out,
                                t.flags);
  };
  // (Warm-up runs the heuristic query.)
  mpc::probe::Timing timing = mpc::probe::timeCalls(call, iterations);
  double median = timing.medianMs;
  double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  for (void *p : {a, b, c})
    mpcCudaFree(p);
  mpcCudaSynchronize();
  return {s, t.name, median, timing.minMs, flops / (median * 1e-3) / 1e12};
}

bool parseShapes(const std::string &text, std::vector<BenchShape> &shapes) {
  shapes.clear();
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string one = text.substr(at, comma == std::string::npos ? std::string::npos
                                                                 : comma - at);
    long long m, n, k;
    char tail;
    if (std::sscanf(one.c_str(), "%lldx%lldx%lld%c", &m, &n, &k, &tail) != 3 ||
        m < 1 || n < 1 || k < 1)
      return false;
    shapes.push_back({m, n, k});
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return !shapes.empty();
}

int benchGemm(const std::vector<BenchShape> &shapes, int iterations,
              const std::string &jsonPath) {
  const BenchType types[] = {
      {"f32", MPC_DT_F32, MPC_DT_F32, MPC_MM_BETA0},
      {"tf32", MPC_DT_F32, MPC_DT_F32, MPC_MM_BETA0 | MPC_MM_ALLOW_TF32},
      {"bf16", MPC_DT_BF16, MPC_DT_BF16, MPC_MM_BETA0},
      {"fp16", MPC_DT_F16, MPC_DT_F16, MPC_MM_BETA0},
  };
  std::mt19937 rng(7);
  std::vector<BenchResult> results;
  std::printf("mpc_cuda_matmul (cuBLASLt), C = A x B row-major, median of %d "
              "calls after 3 warm-up\n",
              iterations);
  std::printf("%-20s %-6s %12s %12s %10s\n", "MxNxK", "type", "median ms",
              "min ms", "TFLOP/s");
  for (const BenchShape &s : shapes)
    for (const BenchType &t : types) {
      BenchResult r = benchOne(s, t, iterations, rng);
      results.push_back(r);
      std::string shape = std::to_string(s.m) + "x" + std::to_string(s.n) +
                          "x" + std::to_string(s.k);
      std::printf("%-20s %-6s %12.4f %12.4f %10.1f\n", shape.c_str(), t.name,
                  r.medianMs, r.minMs, r.tflops);
      std::fflush(stdout);
    }
  if (!jsonPath.empty()) {
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
                   "%s\n    {\"m\": %lld, \"n\": %lld, \"k\": %lld, \"type\": \"%s\", "
                   "\"median_ms\": %.6g, \"min_ms\": %.6g, \"tflops\": %.6g}",
                   i ? "," : "", (long long)r.shape.m, (long long)r.shape.n,
                   (long long)r.shape.k, r.type, r.medianMs, r.minMs, r.tflops);
    }
    std::fprintf(file, "\n  ]\n}\n");
    std::fclose(file);
  }
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: mpc-cuda-probe [--selftest]\n"
               "       mpc-cuda-probe --bench-gemm [--json FILE] [--iterations N] "
               "[--shapes MxNxK,...]\n"
               "       mpc-cuda-probe --bench-attention [--json FILE] [--iterations N]\n"
               "       mpc-cuda-probe --bench-conv [--json FILE] [--iterations N] "
               "[--batch N]\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  bool selftest = false, bench = false, benchAttention = false, benchConv = false;
  bool shapesGiven = false;
  std::string jsonPath;
  int iterations = 20, batch = 0;
  std::vector<BenchShape> shapes = {
      {4096, 4096, 4096}, {8192, 768, 3072}, {8192, 3072, 768}, {4096, 768, 768}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--selftest") {
      selftest = true;
    } else if (arg == "--bench-gemm") {
      bench = true;
    } else if (arg == "--bench-attention") {
      benchAttention = true;
    } else if (arg == "--bench-conv") {
      benchConv = true;
    } else if (arg == "--batch") {
      const char *v = value();
      if (!v || (batch = std::atoi(v)) < 1)
        return usage();
    } else if (arg == "--json") {
      const char *v = value();
      if (!v)
        return usage();
      jsonPath = v;
    } else if (arg == "--iterations") {
      const char *v = value();
      if (!v || (iterations = std::atoi(v)) < 1)
        return usage();
    } else if (arg == "--shapes") {
      const char *v = value();
      if (!v || !parseShapes(v, shapes))
        return usage();
      shapesGiven = true;
    } else {
      return usage();
    }
  }
  bool anyBench = bench || benchAttention || benchConv;
  if (int(selftest) + int(bench) + int(benchAttention) + int(benchConv) > 1 ||
      (batch && !benchConv) || (shapesGiven && !bench) ||
      (!anyBench && (!jsonPath.empty() || argc > 2)))
    return usage();
  std::string why;
  if (!mpcCudaAvailable(&why)) {
    std::fprintf(stderr, "mpc: error: %s\n", why.c_str());
    return 1;
  }
  std::printf("%s\n", mpcCudaDeviceDescription().c_str());
  if (bench)
    return benchGemm(shapes, iterations, jsonPath);
  if (benchAttention)
    return mpc::probe::benchAttention(iterations, jsonPath);
  if (benchConv)
    return mpc::probe::benchConvolutions(batch ? batch : 32, iterations, jsonPath);
  if (!selftest)
    return 0;
  mpcCudaRegisterKernelInfo("mpc_probe_fill", "probe/fill");
  checkKernel(ctorModule, "mgpuModuleLoad from a global constructor");
  void *jit = mgpuModuleLoadJIT(const_cast<char *>(kProbePtx), 2);
  checkKernel(jit, "mgpuModuleLoadJIT");
  mgpuModuleUnload(jit);
  const int32_t F32 = MPC_DT_F32, F16 = MPC_DT_F16, BF16 = MPC_DT_BF16;
  const int32_t B0 = MPC_MM_BETA0;
  checkMatmul("f32 row-major", 0, 0, 0, 33, 65, 17, false, false, false, F32,
              F32, B0);
  checkMatmul("f32 accumulate (beta 1)", 0, 0, 0, 16, 32, 8, false, false,
              false, F32, F32, 0);
  checkMatmul("f32 TF32", 0, 0, 0, 64, 128, 32, false, false, false, F32, F32,
              B0 | MPC_MM_ALLOW_TF32);
  checkMatmul("f32 B transposed view", 0, 0, 0, 31, 40, 24, false, true, false,
              F32, F32, B0);
  checkMatmul("f32 A transposed view", 0, 0, 0, 31, 40, 24, true, false, false,
              F32, F32, B0);
  checkMatmul("f32 column-major C", 0, 0, 0, 31, 40, 24, true, true, true, F32,
              F32, B0);
  checkMatmul("f16 -> f32", 0, 0, 0, 64, 64, 64, false, true, false, F16, F32,
              B0);
  checkMatmul("f16 -> f16", 0, 0, 0, 64, 64, 64, false, false, false, F16, F16,
              B0);
  checkMatmul("bf16 -> bf16 batched", 3, 3, 3, 32, 48, 16, false, false, false,
              BF16, BF16, B0);
  checkMatmul("bf16 -> f32 batched, B broadcast", 4, 0, 4, 32, 48, 16, false,
              true, false, BF16, F32, B0);
  checkMatmul("f32 M=1", 0, 0, 0, 1, 40, 24, false, false, false, F32, F32,
              B0);
  // Epilogues (row-major C: the bias runs over N, cuBLASLt's rows).
  checkMatmul("f32 + bias", 0, 0, 0, 33, 65, 17, false, true, false, F32, F32, B0,
              MPC_MM_EPILOGUE_BIAS);
  checkMatmul("f32 relu(+ bias)", 0, 0, 0, 31, 40, 24, false, true, false, F32, F32, B0,
              MPC_MM_EPILOGUE_RELU_BIAS);
  checkMatmul("f32 relu", 0, 0, 0, 16, 32, 8, false, false, false, F32, F32, B0,
              MPC_MM_EPILOGUE_RELU);
  checkMatmul("f32 gelu_tanh(+ bias)", 0, 0, 0, 64, 48, 40, false, true, false, F32, F32, B0,
              MPC_MM_EPILOGUE_GELU_BIAS);
  checkMatmul("f16 -> f16 gelu_tanh", 0, 0, 0, 64, 64, 64, false, true, false, F16, F16, B0,
              MPC_MM_EPILOGUE_GELU);
  checkMatmul("bf16 -> bf16 relu(+ bias) batched, B broadcast", 4, 0, 4, 32, 48, 16, false, true,
              false, BF16, BF16, B0, MPC_MM_EPILOGUE_RELU_BIAS);
  checkMatmul("bf16 -> f32 gelu_tanh(+ bias)", 0, 0, 0, 32, 64, 48, false, true, false, BF16, F32,
              B0, MPC_MM_EPILOGUE_GELU_BIAS);
  checkMatmul("f32 accumulate (beta 1) + bias", 0, 0, 0, 16, 32, 8, false, false, false, F32, F32,
              0, MPC_MM_EPILOGUE_BIAS);
  failures += mpc::probe::checkAttention();
  failures += mpc::probe::checkConvolutions();
  mpcCudaSynchronize();
  std::printf("%s\n", failures ? "selftest FAILED" : "selftest passed");
  return failures ? 1 : 0;
}
