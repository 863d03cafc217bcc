//===- Attention.cpp - mpc_cuda_attention over cuDNN's flash attention ----===//
//
// The checked block (AttentionPlan.h) becomes a cuDNN backend operation
// graph with the operations, tensor shapes and types that the cuDNN
// frontend's SDPA node (cudnn-frontend 1.x, scaled_dot_product_flash_attention.h
// and its composite softmax in softmax.h) hands to cuDNN for the fused flash
// attention forward, inference form:
//
//   S = Q x K^T          MATMUL; K^T is K with its last two dims and strides
//                        swapped; S f32 [B,H,Sq,Skv] (virtual)
//   S = S * scale        POINTWISE MUL, the scale an f32 by-value tensor
//   S = S + mask         POINTWISE ADD (only with a mask)
//   M = max over keys    REDUCTION MAX to [B,H,Sq,1]
//   E = exp(S - M)       POINTWISE SUB, POINTWISE EXP
//   Z = sum over keys    REDUCTION ADD to [B,H,Sq,1]
//   stats = M + log Z    POINTWISE LOG, POINTWISE ADD; a virtual output here
//                        (inference), the frontend builds it all the same
//   P = E / Z            POINTWISE DIV, P in the I/O type (bf16/f16)
//   O = P x V            MATMUL
//
// Intermediates are f32, every operation computes in f32. Each distinct
// problem (dims, strides, types, pointer alignments) gets its graph, engine
// (heuristics mode A, the first configuration whose plan finalizes) and plan
// once; later calls only build a variant pack and execute. The scale travels
// by value, so one plan serves every scale.
//
//===----------------------------------------------------------------------===//

#include "Cudnn.h"
#include "Driver.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/AttentionPlan.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

using namespace mpc::runtime::cuda;

namespace {

constexpr char kFallback[] = "; compile with mpc-compile --cuda-attention=kernels to run "
                             "attention as generated kernels instead";

// Compiled graphs kept; beyond this the least recently used one goes.
constexpr size_t kMaxCachedGraphs = 64;

// Unique ids of the graph's tensors; the variant pack names the real ones.
enum : int64_t { kUidQ = 1, kUidK, kUidV, kUidO, kUidScale, kUidMask, kUidFirstVirtual = 100 };

// Owns one backend descriptor. Nothing is destroyed once exit began (the
// library may already be going).
class Descriptor {
public:
  Descriptor() = default;
  explicit Descriptor(cudnnBackendDescriptor_t desc) : desc(desc) {}
  Descriptor(Descriptor &&other) noexcept : desc(std::exchange(other.desc, nullptr)) {}
  Descriptor &operator=(Descriptor &&other) noexcept {
    if (this != &other) {
      reset();
      desc = std::exchange(other.desc, nullptr);
    }
    return *this;
  }
  Descriptor(const Descriptor &) = delete;
  Descriptor &operator=(const Descriptor &) = delete;
  ~Descriptor() { reset(); }

  cudnnBackendDescriptor_t get() const { return desc; }
  void reset() {
    if (desc && !shuttingDown())
      cudnn().cudnnBackendDestroyDescriptor(desc);
    desc = nullptr;
  }

private:
  cudnnBackendDescriptor_t desc = nullptr;
};

// Exits naming the cuDNN call, its status and the problem when it failed.
struct Checker {
  const AttentionCall &call;
  void operator()(cudnnStatus_t status, const char *what) const {
    if (status != CUDNN_STATUS_SUCCESS)
      checkCudnn(status, what, "mpc_cuda_attention [" + describeAttention(call) + "]");
  }
};

bool isUnsupported(cudnnStatus_t status) {
  return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED;
}


int64_t elementBytes(int64_t code) { return code == MPC_DT_F32 ? 4 : 2; }

// The largest power of two up to 16 (what the cuDNN frontend declares by
// default) that divides the address.
int64_t alignmentOf(uint64_t address) {
  return std::min<int64_t>(16, addressAlignment(reinterpret_cast<const void *>(address)));
}

uint64_t elementAddress(const AttentionOperand &op, int64_t bytes) {
  return op.pointer + uint64_t(op.offset * bytes);
}

AttentionTensor packed(int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  AttentionTensor t;
  const int64_t dims[4] = {d0, d1, d2, d3};
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    t.dims[d] = dims[d];
    t.strides[d] = stride;
    stride *= dims[d];
  }
  return t;
}

struct Compiled {
  std::vector<Descriptor> descriptors; // everything the plan was built from
  Descriptor plan;
  int64_t workspaceBytes = 0;
  uint64_t lastUse = 0;
};

// Builds one graph's descriptors; every failure exits through `ok`.
class GraphBuilder {
public:
  explicit GraphBuilder(const Checker &ok) : api(cudnn()), ok(ok) {}

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type, const char *what) {
    cudnnBackendDescriptor_t desc = nullptr;
    ok(api.cudnnBackendCreateDescriptor(type, &desc), what);
    kept.emplace_back(desc);
    return desc;
  }

  void set(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name,
           cudnnBackendAttributeType_t type, int64_t count, const void *values, const char *what) {
    ok(api.cudnnBackendSetAttribute(desc, name, type, count, values), what);
  }

  void finalize(cudnnBackendDescriptor_t desc, const char *what) {
    ok(api.cudnnBackendFinalize(desc), what);
  }

  cudnnBackendDescriptor_t tensor(int64_t uid, const AttentionTensor &t, cudnnDataType_t type,
                                  int64_t alignment, bool isVirtual, bool byValue = false) {
    cudnnBackendDescriptor_t desc =
        make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "cudnnBackendCreateDescriptor(TENSOR)");
    set(desc, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type,
        "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_DATA_TYPE)");
    set(desc, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, t.dims,
        "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_DIMENSIONS)");
    set(desc, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, t.strides,
        "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_STRIDES)");
    set(desc, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid,
        "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_UNIQUE_ID)");
    set(desc, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment,
        "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT)");
    bool yes = true;
    if (isVirtual)
      set(desc, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &yes,
          "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_IS_VIRTUAL)");
    if (byValue)
      set(desc, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &yes,
          "cudnnBackendSetAttribute(CUDNN_ATTR_TENSOR_IS_BY_VALUE)");
    finalize(desc, "cudnnBackendFinalize(TENSOR)");
    return desc;
  }

  // A float virtual tensor with the next free id.
  cudnnBackendDescriptor_t intermediate(const AttentionTensor &t,
                                        cudnnDataType_t type = CUDNN_DATA_FLOAT) {
    return tensor(nextVirtual++, t, type, 16, /*isVirtual=*/true);
  }

  void matmul(cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t c) {
    cudnnBackendDescriptor_t desc =
        make(CUDNN_BACKEND_MATMUL_DESCRIPTOR, "cudnnBackendCreateDescriptor(MATMUL)");
    cudnnDataType_t compute = CUDNN_DATA_FLOAT;
    set(desc, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute,
        "cudnnBackendSetAttribute(CUDNN_ATTR_MATMUL_COMP_TYPE)");
    finalize(desc, "cudnnBackendFinalize(MATMUL)");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR,
                                       "cudnnBackendCreateDescriptor(OPERATION_MATMUL)");
    set(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &a,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_MATMUL_ADESC)");
    set(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_MATMUL_BDESC)");
    set(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_MATMUL_CDESC)");
    set(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &desc,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_MATMUL_DESC)");
    finalize(op, "cudnnBackendFinalize(OPERATION_MATMUL)");
    ops.push_back(op);
  }

  // y = mode(x) or mode(x, b) (b null for unary modes).
  void pointwise(cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t b,
                 cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t desc =
        make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "cudnnBackendCreateDescriptor(POINTWISE)");
    set(desc, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode,
        "cudnnBackendSetAttribute(CUDNN_ATTR_POINTWISE_MODE)");
    cudnnDataType_t precision = CUDNN_DATA_FLOAT;
    set(desc, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &precision,
        "cudnnBackendSetAttribute(CUDNN_ATTR_POINTWISE_MATH_PREC)");
    finalize(desc, "cudnnBackendFinalize(POINTWISE)");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR,
                                       "cudnnBackendCreateDescriptor(OPERATION_POINTWISE)");
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &desc,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR)");
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_POINTWISE_XDESC)");
    if (b)
      set(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b,
          "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_POINTWISE_BDESC)");
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_POINTWISE_YDESC)");
    finalize(op, "cudnnBackendFinalize(OPERATION_POINTWISE)");
    ops.push_back(op);
  }

  // y = reduce(x) over the axes where y has size 1 and x does not.
  void reduction(cudnnReduceTensorOp_t reduce, cudnnBackendDescriptor_t x,
                 cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t desc =
        make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, "cudnnBackendCreateDescriptor(REDUCTION)");
    set(desc, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &reduce,
        "cudnnBackendSetAttribute(CUDNN_ATTR_REDUCTION_OPERATOR)");
    cudnnDataType_t compute = CUDNN_DATA_FLOAT;
    set(desc, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute,
        "cudnnBackendSetAttribute(CUDNN_ATTR_REDUCTION_COMP_TYPE)");
    finalize(desc, "cudnnBackendFinalize(REDUCTION)");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR,
                                       "cudnnBackendCreateDescriptor(OPERATION_REDUCTION)");
    set(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_REDUCTION_XDESC)");
    set(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_REDUCTION_YDESC)");
    set(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &desc,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATION_REDUCTION_DESC)");
    finalize(op, "cudnnBackendFinalize(OPERATION_REDUCTION)");
    ops.push_back(op);
  }

  const CudnnApi &api;
  const Checker &ok;
  std::vector<Descriptor> kept;
  std::vector<cudnnBackendDescriptor_t> ops;
  int64_t nextVirtual = kUidFirstVirtual;
};

[[noreturn]] void unsupported(const AttentionCall &call, const std::string &why) {
  fatal("mpc_cuda_attention: cuDNN cannot run this attention: " + why + " [" +
        describeAttention(call) + "]" + kFallback);
}

// The operations listed at the top of this file.
void buildOperations(GraphBuilder &g, const AttentionPlan &plan, const AttentionCall &call,
                     const int64_t alignments[kAttnOperands]) {
  cudnnDataType_t io = cudnnDataTypeOf(call.dtype);
  cudnnBackendDescriptor_t q = g.tensor(kUidQ, plan.q, io, alignments[kAttnQ], false);
  cudnnBackendDescriptor_t kT = g.tensor(kUidK, plan.kTransposed, io, alignments[kAttnK], false);
  cudnnBackendDescriptor_t v = g.tensor(kUidV, plan.v, io, alignments[kAttnV], false);
  cudnnBackendDescriptor_t o = g.tensor(kUidO, plan.o, io, alignments[kAttnO], false);
  cudnnBackendDescriptor_t scale = g.tensor(kUidScale, AttentionTensor(), CUDNN_DATA_FLOAT, 16,
                                            /*isVirtual=*/false, /*byValue=*/true);
  AttentionTensor scores = packed(plan.batch, plan.heads, plan.seqQ, plan.seqKv);
  AttentionTensor rows = packed(plan.batch, plan.heads, plan.seqQ, 1);

  cudnnBackendDescriptor_t s = g.intermediate(scores);
  g.matmul(q, kT, s);
  cudnnBackendDescriptor_t scaled = g.intermediate(scores);
  g.pointwise(CUDNN_POINTWISE_MUL, s, scale, scaled);
  cudnnBackendDescriptor_t logits = scaled;
  if (plan.hasMask) {
    cudnnBackendDescriptor_t mask =
        g.tensor(kUidMask, plan.mask, cudnnDataTypeOf(call.maskDtype), alignments[kAttnMask], false);
    logits = g.intermediate(scores);
    g.pointwise(CUDNN_POINTWISE_ADD, scaled, mask, logits);
  }
  cudnnBackendDescriptor_t max = g.intermediate(rows);
  g.reduction(CUDNN_REDUCE_TENSOR_MAX, logits, max);
  cudnnBackendDescriptor_t shifted = g.intermediate(scores);
  g.pointwise(CUDNN_POINTWISE_SUB, logits, max, shifted);
  cudnnBackendDescriptor_t exps = g.intermediate(scores);
  g.pointwise(CUDNN_POINTWISE_EXP, shifted, nullptr, exps);
  cudnnBackendDescriptor_t sum = g.intermediate(rows);
  g.reduction(CUDNN_REDUCE_TENSOR_ADD, exps, sum);
  cudnnBackendDescriptor_t logSum = g.intermediate(rows);
  g.pointwise(CUDNN_POINTWISE_LOG, sum, nullptr, logSum);
  cudnnBackendDescriptor_t stats = g.intermediate(rows);
  g.pointwise(CUDNN_POINTWISE_ADD, max, logSum, stats);
  cudnnBackendDescriptor_t probabilities = g.intermediate(scores, io);
  g.pointwise(CUDNN_POINTWISE_DIV, exps, sum, probabilities);
  g.matmul(probabilities, v, o);
}

std::unique_ptr<Compiled> compile(const AttentionPlan &plan, const AttentionCall &call,
                                  const int64_t alignments[kAttnOperands]) {
  Checker ok{call};
  GraphBuilder g(ok);
  buildOperations(g, plan, call, alignments);
  const CudnnApi &api = g.api;

  cudnnBackendDescriptor_t graph = g.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR,
                                          "cudnnBackendCreateDescriptor(OPERATIONGRAPH)");
  g.set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &api.handle,
        "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATIONGRAPH_HANDLE)");
  g.set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, int64_t(g.ops.size()),
        g.ops.data(), "cudnnBackendSetAttribute(CUDNN_ATTR_OPERATIONGRAPH_OPS)");
  cudnnStatus_t status = api.cudnnBackendFinalize(graph);
  if (isUnsupported(status))
    unsupported(call,
                "cudnnBackendFinalize(OPERATIONGRAPH) failed: " + describeCudnnStatus(status));
  ok(status, "cudnnBackendFinalize(OPERATIONGRAPH)");

  cudnnBackendDescriptor_t heuristics =
      g.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "cudnnBackendCreateDescriptor(ENGINEHEUR)");
  g.set(heuristics, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph,
        "cudnnBackendSetAttribute(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH)");
  cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  g.set(heuristics, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode,
        "cudnnBackendSetAttribute(CUDNN_ATTR_ENGINEHEUR_MODE)");
  status = api.cudnnBackendFinalize(heuristics);
  if (isUnsupported(status))
    unsupported(call, "cudnnBackendFinalize(ENGINEHEUR) failed: " + describeCudnnStatus(status));
  ok(status, "cudnnBackendFinalize(ENGINEHEUR)");
  int64_t count = 0;
  ok(api.cudnnBackendGetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
     "cudnnBackendGetAttribute(CUDNN_ATTR_ENGINEHEUR_RESULTS, count)");
  if (count <= 0)
    unsupported(call, "its heuristics (mode A) offer no engine for the graph");
  std::vector<cudnnBackendDescriptor_t> configs;
  for (int64_t i = 0; i < count; ++i)
    configs.push_back(
        g.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "cudnnBackendCreateDescriptor(ENGINECFG)"));
  int64_t returned = 0;
  ok(api.cudnnBackendGetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned, configs.data()),
     "cudnnBackendGetAttribute(CUDNN_ATTR_ENGINEHEUR_RESULTS)");

  auto compiled = std::make_unique<Compiled>();
  std::string firstRefusal;
  cudnnStatus_t firstStatus = CUDNN_STATUS_SUCCESS;
  for (int64_t i = 0; i < std::min(count, returned); ++i) {
    cudnnBackendDescriptor_t raw = nullptr;
    ok(api.cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &raw),
       "cudnnBackendCreateDescriptor(EXECUTION_PLAN)");
    Descriptor plan(raw);
    g.set(raw, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &api.handle,
          "cudnnBackendSetAttribute(CUDNN_ATTR_EXECUTION_PLAN_HANDLE)");
    g.set(raw, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
          &configs[size_t(i)], "cudnnBackendSetAttribute(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG)");
    // Finalizing compiles the engine's kernels (runtime fusion: NVRTC).
    status = api.cudnnBackendFinalize(raw);
    if (status == CUDNN_STATUS_SUCCESS) {
      int64_t n = 0;
      ok(api.cudnnBackendGetAttribute(raw, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                      CUDNN_TYPE_INT64, 1, &n, &compiled->workspaceBytes),
         "cudnnBackendGetAttribute(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE)");
      compiled->plan = std::move(plan);
      compiled->descriptors = std::move(g.kept);
      return compiled;
    }
    if (firstRefusal.empty()) {
      firstStatus = status;
      firstRefusal = describeCudnnStatus(status);
    }
  }
  std::string why = "none of the " + std::to_string(std::min(count, returned)) +
                    " engine configurations its heuristics offer builds a plan "
                    "(cudnnBackendFinalize(EXECUTION_PLAN) of the first: " +
                    firstRefusal + ")";
  if (firstStatus == CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING ||
      firstStatus == CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED)
    why += "; its runtime-fusion engines compile with NVRTC: is libnvrtc.so." +
           std::to_string(CUDA_VERSION / 1000) + " on the loader path, and the one cuDNN needs?";
  unsupported(call, why);
}

// Guarded by cudnnHandleMutex().
struct Cache {
  std::map<std::vector<int64_t>, std::unique_ptr<Compiled>> graphs;
  uint64_t uses = 0;
};

Cache &cache() {
  static Cache *instance = new Cache; // never destroyed: plans outlive exit
  return *instance;
}

void appendTensor(std::vector<int64_t> &key, const AttentionTensor &t) {
  key.insert(key.end(), t.dims, t.dims + 4);
  key.insert(key.end(), t.strides, t.strides + 4);
}

// The least recently used graph goes; the GPU may still run its kernels.
void evictOne(Cache &c) {
  auto oldest = c.graphs.begin();
  for (auto it = c.graphs.begin(); it != c.graphs.end(); ++it)
    if (it->second->lastUse < oldest->second->lastUse)
      oldest = it;
  check(driver().cuStreamSynchronize(theStream()), "cuStreamSynchronize",
        "before releasing a cached mpc_cuda_attention plan");
  c.graphs.erase(oldest);
}

void run(const AttentionPlan &plan, const AttentionCall &call) {
  const CudnnApi &api = cudnn();
  Checker ok{call};
  const int64_t uids[kAttnOperands] = {kUidQ, kUidK, kUidV, kUidO, kUidMask};
  int64_t alignments[kAttnOperands] = {16, 16, 16, 16, 16};
  void *pointers[kAttnOperands + 1] = {};
  int64_t packUids[kAttnOperands + 1] = {};
  int used = 0;
  for (int i = 0; i < kAttnOperands; ++i) {
    if (i == kAttnMask && !plan.hasMask)
      continue;
    int64_t bytes = elementBytes(i == kAttnMask ? call.maskDtype : call.dtype);
    uint64_t address = elementAddress(call.operands[i], bytes);
    alignments[i] = alignmentOf(address);
    pointers[used] = reinterpret_cast<void *>(address);
    packUids[used++] = uids[i];
  }
  float scale = call.scale();
  pointers[used] = &scale; // by value: a host pointer
  packUids[used++] = kUidScale;

  std::vector<int64_t> key = {call.dtype, call.maskDtype};
  for (const AttentionTensor *t : {&plan.q, &plan.kTransposed, &plan.v, &plan.o, &plan.mask})
    appendTensor(key, *t);
  key.insert(key.end(), alignments, alignments + kAttnOperands);

  Cache &c = cache();
  std::lock_guard<std::mutex> lock(cudnnHandleMutex());
  auto it = c.graphs.find(key);
  if (it == c.graphs.end()) {
    if (c.graphs.size() >= kMaxCachedGraphs)
      evictOne(c);
    it = c.graphs.emplace(std::move(key), compile(plan, call, alignments)).first;
  }
  Compiled &compiled = *it->second;
  compiled.lastUse = ++c.uses;

  void *workspace =
      compiled.workspaceBytes ? mpcCudaAlloc(size_t(compiled.workspaceBytes)) : nullptr;
  cudnnBackendDescriptor_t rawPack = nullptr;
  ok(api.cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &rawPack),
     "cudnnBackendCreateDescriptor(VARIANT_PACK)");
  Descriptor pack(rawPack);
  ok(api.cudnnBackendSetAttribute(rawPack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
                                  used, packUids),
     "cudnnBackendSetAttribute(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS)");
  ok(api.cudnnBackendSetAttribute(rawPack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS,
                                  CUDNN_TYPE_VOID_PTR, used, pointers),
     "cudnnBackendSetAttribute(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS)");
  ok(api.cudnnBackendSetAttribute(rawPack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR,
                                  1, &workspace),
     "cudnnBackendSetAttribute(CUDNN_ATTR_VARIANT_PACK_WORKSPACE)");
  ok(api.cudnnBackendFinalize(rawPack), "cudnnBackendFinalize(VARIANT_PACK)");

  CUevent profileStart = profiling() ? profileBegin() : nullptr;
  ok(api.cudnnBackendExecute(api.handle, compiled.plan.get(), rawPack), "cudnnBackendExecute");
  if (profileStart)
    profileEnd(profileStart, attentionProfileName(plan, call), "attention", plan.flops());
  if (workspace)
    mpcCudaFree(workspace); // one stream: whatever reuses it runs after
  if (syncAfterLaunch())
    check(driver().cuStreamSynchronize(theStream()),
          "cudnnBackendExecute execution (MPC_CUDA_SYNC)",
          "mpc_cuda_attention [" + describeAttention(call) + "]");
}

} // namespace

extern "C" void mpc_cuda_attention(int64_t *allocated, int64_t *params, int64_t offset,
                                   int64_t size, int64_t stride) {
  (void)allocated;
  LibraryCallScope scope;
  AttentionCall call;
  std::string error = decodeAttentionBlock(params, offset, size, stride, call);
  if (!error.empty())
    fatal(error);
  AttentionPlan plan = planAttention(call);
  if (!plan.error.empty())
    fatal(plan.error);
  if (!plan.empty())
    run(plan, call);
}
