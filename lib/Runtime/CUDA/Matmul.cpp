//===- Matmul.cpp - mpc_cuda_matmul over cuBLASLt, opened at run time -----===//
//
// cuBLASLt is opened with dlopen on the first call (see LibrarySearch.h);
// cublasLt.h gives the types only. Each distinct problem (geometry, types,
// flags, epilogue, pointer alignments) gets its descriptors and heuristic
// algorithm once; later calls with the same key only set the bias pointer
// and run cublasLtMatmul.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/LibrarySearch.h"
#include "mpc/Runtime/CUDA/MatmulPlan.h"
#include "mpc/Runtime/CUDA/Profile.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <cublasLt.h>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

using namespace mpc::runtime::cuda;

namespace {

#define MPC_CUBLASLT_FUNCTIONS(X)                                              \
  X(cublasLtCreate)                                                            \
  X(cublasLtGetStatusName)                                                     \
  X(cublasLtGetStatusString)                                                   \
  X(cublasLtMatmulDescCreate)                                                  \
  X(cublasLtMatmulDescSetAttribute)                                            \
  X(cublasLtMatrixLayoutCreate)                                                \
  X(cublasLtMatrixLayoutSetAttribute)                                          \
  X(cublasLtMatmulPreferenceCreate)                                            \
  X(cublasLtMatmulPreferenceSetAttribute)                                      \
  X(cublasLtMatmulAlgoGetHeuristic)                                            \
  X(cublasLtMatmul)

struct CublasLtApi {
#define MPC_DECLARE(name) decltype(&::name) name = nullptr;
  MPC_CUBLASLT_FUNCTIONS(MPC_DECLARE)
#undef MPC_DECLARE
};

constexpr size_t kWorkspaceBytes = size_t(32) << 20;

struct Compiled {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t layouts[3] = {}; // first, second, out
  cublasLtMatmulAlgo_t algo;
};

// Geometry and alignments, the dtypes of A, B, C and the bias, flags, epilogue.
using Key = std::tuple<std::vector<int64_t>, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t>;

struct Blas {
  std::mutex mutex;
  CublasLtApi api;
  cublasLtHandle_t handle = nullptr;
  void *workspace = nullptr;
  std::map<Key, Compiled> compiled;
};

struct DtypeInfo {
  cudaDataType_t type;
  int64_t bytes;
  const char *name;
};

/// An epilogue as the caller asked for it.
struct Epilogue {
  int32_t kind = MPC_MM_EPILOGUE_NONE;
  const char *name = nullptr; // for messages and the profile
  cublasLtEpilogue_t cublas = CUBLASLT_EPILOGUE_DEFAULT;
  bool hasBias = false;
  DtypeInfo biasType{};
  char *bias = nullptr;
};

bool epilogueInfo(int32_t kind, Epilogue &e) {
  static const struct {
    int32_t kind;
    cublasLtEpilogue_t cublas;
    const char *name;
  } kEpilogues[] = {
      {MPC_MM_EPILOGUE_NONE, CUBLASLT_EPILOGUE_DEFAULT, ""},
      {MPC_MM_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_BIAS, "bias"},
      {MPC_MM_EPILOGUE_RELU, CUBLASLT_EPILOGUE_RELU, "relu"},
      {MPC_MM_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_RELU_BIAS, "bias+relu"},
      {MPC_MM_EPILOGUE_GELU, CUBLASLT_EPILOGUE_GELU, "gelu_tanh"},
      {MPC_MM_EPILOGUE_GELU_BIAS, CUBLASLT_EPILOGUE_GELU_BIAS, "bias+gelu_tanh"},
  };
  for (const auto &known : kEpilogues)
    if (known.kind == kind) {
      e.kind = kind;
      e.cublas = known.cublas;
      e.name = known.name;
      e.hasBias = kind & MPC_MM_EPILOGUE_BIAS;
      return true;
    }
  return false;
}

bool dtypeInfo(int32_t code, DtypeInfo &info) {
  switch (code) {
  case MPC_DT_F32: info = {CUDA_R_32F, 4, "f32"}; return true;
  case MPC_DT_F16: info = {CUDA_R_16F, 2, "f16"}; return true;
  case MPC_DT_BF16: info = {CUDA_R_16BF, 2, "bf16"}; return true;
  case MPC_DT_F8E4M3: info = {CUDA_R_8F_E4M3, 1, "f8E4M3FN"}; return true;
  case MPC_DT_F8E5M2: info = {CUDA_R_8F_E5M2, 1, "f8E5M2"}; return true;
  default: return false;
  }
}

std::string statusText(const CublasLtApi &api, cublasStatus_t status) {
  const char *name = api.cublasLtGetStatusName(status);
  const char *text = api.cublasLtGetStatusString(status);
  return std::string(name ? name : "?") + " (" + (text ? text : "?") + ")";
}

Blas &blas() {
  static Blas *instance = [] {
    auto *b = new Blas;
    LoadedLibrary lib = loadCudaLibrary(
        "libcublasLt.so." + std::to_string(CUBLAS_VER_MAJOR), "cuBLASLt",
        {"nvidia/cublas/lib", "nvidia/cu13/lib"});
    if (!lib.handle)
      fatal(lib.error);
#define MPC_RESOLVE(name)                                                      \
  b->api.name = reinterpret_cast<decltype(b->api.name)>(                       \
      dlsym(lib.handle, #name));                                               \
  if (!b->api.name)                                                            \
    fatal(lib.path + " has no " #name ": not the cuBLASLt this program was "  \
          "built for (" + std::to_string(CUBLAS_VER_MAJOR) + ".x)");
    MPC_CUBLASLT_FUNCTIONS(MPC_RESOLVE)
#undef MPC_RESOLVE
    driver();
    if (cublasStatus_t status = b->api.cublasLtCreate(&b->handle))
      fatal("cublasLtCreate failed: " + statusText(b->api, status));
    b->workspace = mpcCudaAlloc(kWorkspaceBytes);
    return b;
  }();
  return *instance;
}

// Exits when a cuBLASLt call fails, naming the problem.
struct Checker {
  const CublasLtApi &api;
  const std::string &problem;
  void operator()(cublasStatus_t status, const char *call) const {
    if (status != CUBLAS_STATUS_SUCCESS)
      fatal(std::string(call) + " failed: " + statusText(api, status) +
            " for " + problem);
  }
};

Compiled compile(Blas &b, const GemmPlan &plan, const DtypeInfo types[3], int32_t flags,
                 const Epilogue &epilogue, const uint32_t alignments[3], const Checker &ok) {
  const CublasLtApi &api = b.api;
  Compiled c;
  bool f32 = types[0].type == CUDA_R_32F && types[1].type == CUDA_R_32F;
  cublasComputeType_t compute = f32 && (flags & MPC_MM_ALLOW_TF32)
                                    ? CUBLAS_COMPUTE_32F_FAST_TF32
                                    : CUBLAS_COMPUTE_32F;
  ok(api.cublasLtMatmulDescCreate(&c.desc, compute, CUDA_R_32F),
     "cublasLtMatmulDescCreate");
  cublasOperation_t opA = plan.first.transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = plan.second.transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
  ok(api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                        &opA, sizeof(opA)),
     "cublasLtMatmulDescSetAttribute(TRANSA)");
  ok(api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                        &opB, sizeof(opB)),
     "cublasLtMatmulDescSetAttribute(TRANSB)");
  if (epilogue.kind != MPC_MM_EPILOGUE_NONE)
    ok(api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue.cublas,
                                          sizeof(epilogue.cublas)),
       "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (epilogue.hasBias) {
    // The heuristic reads the pointer's alignment (part of the key); each
    // call sets its own pointer.
    int32_t biasType = epilogue.biasType.type;
    ok(api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType,
                                          sizeof(biasType)),
       "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
    ok(api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &epilogue.bias,
                                          sizeof(epilogue.bias)),
       "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }
  const GemmOperand *operands[] = {&plan.first, &plan.second, &plan.out};
  for (int i = 0; i < 3; ++i) {
    const GemmOperand &op = *operands[i];
    ok(api.cublasLtMatrixLayoutCreate(&c.layouts[i], types[op.operand].type,
                                      op.rows, op.cols, op.ld),
       "cublasLtMatrixLayoutCreate");
    if (plan.batch > 1) {
      int32_t count = int32_t(plan.batch);
      ok(api.cublasLtMatrixLayoutSetAttribute(
             c.layouts[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
             sizeof(count)),
         "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
      int64_t stride = op.batchStride;
      ok(api.cublasLtMatrixLayoutSetAttribute(
             c.layouts[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
             &stride, sizeof(stride)),
         "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
    }
  }
  cublasLtMatmulPreference_t preference = nullptr;
  ok(api.cublasLtMatmulPreferenceCreate(&preference),
     "cublasLtMatmulPreferenceCreate");
  uint64_t workspace = kWorkspaceBytes;
  ok(api.cublasLtMatmulPreferenceSetAttribute(
         preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
         sizeof(workspace)),
     "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
  const cublasLtMatmulPreferenceAttributes_t alignmentAttrs[] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  uint32_t operandAlignment[] = {alignments[plan.first.operand],
                                 alignments[plan.second.operand],
                                 alignments[2], alignments[2]};
  for (int i = 0; i < 4; ++i)
    ok(api.cublasLtMatmulPreferenceSetAttribute(preference, alignmentAttrs[i],
                                                &operandAlignment[i],
                                                sizeof(uint32_t)),
       "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT)");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  ok(api.cublasLtMatmulAlgoGetHeuristic(b.handle, c.desc, c.layouts[0],
                                        c.layouts[1], c.layouts[2],
                                        c.layouts[2], preference, 1, &result,
                                        &found),
     "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0)
    ok(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmulAlgoGetHeuristic (no algorithm)");
  c.algo = result.algo;
  return c;
}

std::string describeProblem(const MemrefShape shapes[3], const DtypeInfo types[3], int32_t flags,
                            const Epilogue &epilogue) {
  std::string out = "mpc_cuda_matmul";
  const char *names[] = {"A", "B", "C"};
  for (int i = 0; i < 3; ++i) {
    out += std::string(i ? ", " : " ") + names[i] + " " + types[i].name + "[";
    for (int64_t d = 0; d < shapes[i].rank; ++d)
      out += (d ? "," : "") + std::to_string(shapes[i].sizes[d]);
    out += "] strides [";
    for (int64_t d = 0; d < shapes[i].rank; ++d)
      out += (d ? "," : "") + std::to_string(shapes[i].strides[d]);
    out += "]";
  }
  out += ", flags " + std::to_string(flags);
  if (epilogue.kind != MPC_MM_EPILOGUE_NONE)
    out += std::string(", epilogue ") + epilogue.name;
  if (epilogue.hasBias)
    out += std::string(" (bias ") + epilogue.biasType.name + ")";
  return out;
}

// K = 0: C = beta * C, so only BETA0 writes (zeros).
void zeroOutput(const GemmPlan &plan, char *data, int64_t elementBytes) {
  const GemmOperand &out = plan.out;
  for (int64_t i = 0; i < plan.batch; ++i)
    check(driver().cuMemsetD2D8Async(
              reinterpret_cast<CUdeviceptr>(data + i * out.batchStride *
                                                       elementBytes),
              size_t(out.ld * elementBytes), 0, size_t(out.rows * elementBytes),
              size_t(out.cols), theStream()),
          "cuMemsetD2D8Async", "mpc_cuda_matmul with K = 0");
}

} // namespace

namespace {

void matmul(int64_t rankA, void *descA, int64_t rankB, void *descB, int64_t rankC, void *descC,
            int32_t dtypeA, int32_t dtypeB, int32_t dtypeC, int32_t flags, int32_t epilogueKind,
            void *descBias, int32_t dtypeBias) {
  DtypeInfo types[3];
  int32_t codes[] = {dtypeA, dtypeB, dtypeC};
  for (int i = 0; i < 3; ++i)
    if (!dtypeInfo(codes[i], types[i]))
      fatal("mpc_cuda_matmul: unknown element type code " +
            std::to_string(codes[i]) + " for operand " + std::string(1, "ABC"[i]) +
            " (this program and its runtime disagree on Abi.h)");
  Epilogue epilogue;
  if (!epilogueInfo(epilogueKind, epilogue))
    fatal("mpc_cuda_matmul: unknown epilogue code " + std::to_string(epilogueKind) +
          " (this program and its runtime disagree on Abi.h)");
  if (epilogue.kind != MPC_MM_EPILOGUE_NONE && types[0].bytes == 1)
    fatal(std::string("mpc_cuda_matmul: epilogue ") + epilogue.name +
          " on fp8 inputs is not supported");
  if (epilogue.hasBias) {
    if (!descBias)
      fatal(std::string("mpc_cuda_matmul: epilogue ") + epilogue.name + " without a bias");
    if (dtypeBias != dtypeC)
      fatal("mpc_cuda_matmul: the bias's element type code " + std::to_string(dtypeBias) +
            " is not C's (" + std::to_string(dtypeC) +
            "): cuBLASLt reads the bias in the output's type");
    dtypeInfo(dtypeBias, epilogue.biasType);
  }
  for (int64_t rank : {rankA, rankB, rankC})
    if (rank != 2 && rank != 3)
      fatal("mpc_cuda_matmul: operands must have rank 2 or 3, not " +
            std::to_string(rank));
  MemrefShape shapes[] = {readMemrefShape(rankA, descA),
                          readMemrefShape(rankB, descB),
                          readMemrefShape(rankC, descC)};
  GemmPlan plan = planGemm(shapes[0], shapes[1], shapes[2]);
  if (!plan.error.empty())
    fatal(plan.error);
  if (epilogue.hasBias) {
    // {T *allocated, T *aligned, int64_t offset, size, stride}
    auto *fields = reinterpret_cast<const int64_t *>(static_cast<void *const *>(descBias) + 2);
    std::string error = checkBias(plan, fields[1], fields[2]);
    if (!error.empty())
      fatal(error);
    epilogue.bias = memrefData(descBias, epilogue.biasType.bytes);
  }
  if (plan.empty())
    return;
  void *descs[] = {descA, descB, descC};
  char *data[3];
  for (int i = 0; i < 3; ++i)
    data[i] = memrefData(descs[i], types[i].bytes);
  if (plan.k == 0) {
    // C = act(beta * C + bias): only the plain forms are this simple.
    if (epilogue.kind != MPC_MM_EPILOGUE_NONE)
      fatal(std::string("mpc_cuda_matmul: K = 0 with epilogue ") + epilogue.name +
            " is not supported");
    if (flags & MPC_MM_BETA0)
      zeroOutput(plan, data[2], types[2].bytes);
    return;
  }
  Blas &b = blas();
  std::string problem = describeProblem(shapes, types, flags, epilogue);
  Checker ok{b.api, problem};
  uint32_t alignments[3] = {addressAlignment(data[0]), addressAlignment(data[1]),
                            addressAlignment(data[2])};
  std::vector<int64_t> geometry;
  for (const MemrefShape &s : shapes) {
    geometry.push_back(s.rank);
    geometry.insert(geometry.end(), s.sizes, s.sizes + s.rank);
    geometry.insert(geometry.end(), s.strides, s.strides + s.rank);
  }
  geometry.insert(geometry.end(), alignments, alignments + 3);
  geometry.push_back(epilogue.hasBias ? addressAlignment(epilogue.bias) : 0);
  Key key{std::move(geometry), dtypeA, dtypeB, dtypeC, epilogue.hasBias ? dtypeBias : -1, flags,
          epilogue.kind};
  std::lock_guard<std::mutex> lock(b.mutex);
  auto it = b.compiled.find(key);
  if (it == b.compiled.end())
    it = b.compiled.emplace(key, compile(b, plan, types, flags, epilogue, alignments, ok)).first;
  const Compiled &c = it->second;
  if (epilogue.hasBias)
    ok(b.api.cublasLtMatmulDescSetAttribute(c.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                            &epilogue.bias, sizeof(epilogue.bias)),
       "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  float alpha = 1.0f, beta = (flags & MPC_MM_BETA0) ? 0.0f : 1.0f;
  const void *first = data[plan.first.operand];
  const void *second = data[plan.second.operand];
  CUevent profileStart = profiling() ? profileBegin() : nullptr;
  ok(b.api.cublasLtMatmul(b.handle, c.desc, &alpha, first, c.layouts[0], second,
                          c.layouts[1], &beta, data[2], c.layouts[2], data[2],
                          c.layouts[2], &c.algo, b.workspace, kWorkspaceBytes,
                          theStream()),
     "cublasLtMatmul");
  if (profileStart) {
    // In the caller's terms: A [b?,M,K] x B [b?,K,N].
    const MemrefShape &a = shapes[0], &bShape = shapes[1];
    int64_t m = a.sizes[a.rank - 2], k = a.sizes[a.rank - 1];
    int64_t n = bShape.sizes[bShape.rank - 1];
    std::string name = gemmProfileName(
        plan.batch, m, n, k, types[0].name, types[1].name, types[2].name,
        (flags & MPC_MM_ALLOW_TF32) && types[0].bytes == 4, !(flags & MPC_MM_BETA0));
    if (epilogue.kind != MPC_MM_EPILOGUE_NONE)
      name += std::string(" +") + epilogue.name;
    profileEnd(profileStart, name, "gemm",
               2.0 * double(plan.batch) * double(m) * double(n) * double(k));
  }
  if (syncAfterLaunch())
    check(driver().cuStreamSynchronize(theStream()),
          "cublasLtMatmul execution (MPC_CUDA_SYNC)", problem);
}

} // namespace

extern "C" void mpc_cuda_matmul_descriptors(int64_t rankA, void *descA, int64_t rankB, void *descB,
                                            int64_t rankC, void *descC, int32_t dtypeA,
                                            int32_t dtypeB, int32_t dtypeC, int32_t flags) {
  matmul(rankA, descA, rankB, descB, rankC, descC, dtypeA, dtypeB, dtypeC, flags,
         MPC_MM_EPILOGUE_NONE, nullptr, -1);
}

extern "C" void mpc_cuda_matmul_epilogue_descriptors(int64_t rankA, void *descA, int64_t rankB,
                                                     void *descB, int64_t rankC, void *descC,
                                                     int32_t dtypeA, int32_t dtypeB, int32_t dtypeC,
                                                     int32_t flags, int32_t epilogue,
                                                     void *descBias, int32_t dtypeBias) {
  matmul(rankA, descA, rankB, descB, rankC, descC, dtypeA, dtypeB, dtypeC, flags, epilogue,
         descBias, dtypeBias);
}

extern "C" void mpc_cuda_matmul(int64_t *allocated, int64_t *params, int64_t offset,
                                int64_t size, int64_t stride) {
  (void)allocated;
  LibraryCallScope scope;
  if (size < MPC_MM_PARAMS || stride != 1 || params[offset + MPC_MM_SLOT_ABI] != MPC_MM_ABI_VERSION)
    fatal("mpc_cuda_matmul: this program was compiled for another version of the CUDA runtime "
          "(argument block version " +
          std::to_string(size >= 1 ? params[offset + MPC_MM_SLOT_ABI] : -1) + ", expected " +
          std::to_string(int(MPC_MM_ABI_VERSION)) + "); recompile it with this mpc");
  const int64_t *p = params + offset;
  // Ranked descriptors of rank 3 at most: {allocated, aligned, offset,
  // sizes[rank], strides[rank]}, built from the packed slots.
  int64_t descs[3][3 + 2 * 3];
  int64_t ranks[3];
  for (int i = 0; i < 3; ++i) {
    const int64_t *slot = p + MPC_MM_SLOT_OPERANDS + i * MPC_MM_OPERAND_SLOTS;
    int64_t rank = slot[2];
    if (rank != 2 && rank != 3)
      fatal("mpc_cuda_matmul: operands must have rank 2 or 3, not " + std::to_string(rank));
    ranks[i] = rank;
    descs[i][0] = slot[0];
    descs[i][1] = slot[0];
    descs[i][2] = slot[1];
    for (int64_t d = 0; d < rank; ++d) {
      descs[i][3 + d] = slot[3 + d];
      descs[i][3 + rank + d] = slot[6 + d];
    }
  }
  // The bias as a rank-1 descriptor {allocated, aligned, offset, size, stride}.
  const int64_t *bias = p + MPC_MM_SLOT_BIAS;
  int64_t biasDesc[5] = {bias[0], bias[0], bias[1], bias[2], bias[3]};
  int32_t epilogue = int32_t(p[MPC_MM_SLOT_EPILOGUE]);
  matmul(ranks[0], descs[0], ranks[1], descs[1], ranks[2], descs[2],
         int32_t(p[MPC_MM_SLOT_DTYPE_A]), int32_t(p[MPC_MM_SLOT_DTYPE_B]),
         int32_t(p[MPC_MM_SLOT_DTYPE_C]), int32_t(p[MPC_MM_SLOT_FLAGS]), epilogue,
         (epilogue & MPC_MM_EPILOGUE_BIAS) ? biasDesc : nullptr,
         int32_t(p[MPC_MM_SLOT_DTYPE_BIAS]));
}
