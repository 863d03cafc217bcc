//===- Profile.cpp - MPC_CUDA_PROFILE: GPU time per kernel and GEMM -------===//
//
// Every launch (and mpc_cuda_matmul) is bracketed by two timing events on
// the one stream. The pairs wait in a queue; every kProbeEvery launches the
// completed ones at its head are read (cuEventQuery, no waiting) and their
// events reused, so the host never stalls unless kMaxPending pairs are
// outstanding. At exit the stream is drained, the rest read, and the JSON
// written. What an event pair measures is the GPU's time between the two
// records: for a kernel queued behind others that is its run time; on an
// idle GPU (a host-bound program) it also holds the launch call's own few
// microseconds, so tiny kernels read as upper bounds.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Profile.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <mutex>
#include <unistd.h>

namespace mpc::runtime::cuda {

//===----------------------------------------------------------------------===//
// The table and its JSON (no driver)
//===----------------------------------------------------------------------===//

void ProfileTable::add(const std::string &name, const std::string &kind,
                       double micros, double flopsPerCall) {
  ProfileEntry &e = byName[name];
  if (e.calls == 0) {
    e.name = name;
    e.kind = kind;
    e.minUs = micros;
    e.maxUs = micros;
    e.flopsPerCall = flopsPerCall;
  }
  ++e.calls;
  e.totalUs += micros;
  e.minUs = std::min(e.minUs, micros);
  e.maxUs = std::max(e.maxUs, micros);
}

std::vector<ProfileEntry> ProfileTable::entries() const {
  std::vector<ProfileEntry> out;
  for (const auto &[name, entry] : byName)
    out.push_back(entry);
  std::sort(out.begin(), out.end(),
            [](const ProfileEntry &a, const ProfileEntry &b) {
              return a.totalUs != b.totalUs ? a.totalUs > b.totalUs
                                            : a.name < b.name;
            });
  return out;
}

double ProfileTable::totalUs() const {
  double total = 0;
  for (const auto &[name, entry] : byName)
    total += entry.totalUs;
  return total;
}

std::string jsonQuote(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\t': out += "\\t"; break;
    case '\r': out += "\\r"; break;
    default:
      if (c < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out += char(c);
      }
    }
  }
  return out + "\"";
}

namespace {
std::string number(double value) {
  if (!(value == value) || value == std::numeric_limits<double>::infinity() ||
      value == -std::numeric_limits<double>::infinity())
    return "null";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}
} // namespace

std::string ProfileTable::toJson(const std::string &device) const {
  std::string out = "{\n  \"format\": \"mpc-cuda-profile-1\",\n  \"device\": " +
                    jsonQuote(device) + ",\n  \"total_us\": " +
                    number(totalUs()) + ",\n  \"entries\": [";
  bool first = true;
  for (const ProfileEntry &e : entries()) {
    out += first ? "\n    {" : ",\n    {";
    first = false;
    out += "\"name\": " + jsonQuote(e.name) + ", \"kind\": " + jsonQuote(e.kind) +
           ", \"calls\": " + std::to_string(e.calls) +
           ", \"total_us\": " + number(e.totalUs) +
           ", \"mean_us\": " + number(e.meanUs()) +
           ", \"min_us\": " + number(e.minUs) + ", \"max_us\": " + number(e.maxUs);
    if (e.flopsPerCall > 0)
      out += ", \"flops_per_call\": " + number(e.flopsPerCall) +
             ", \"tflops\": " +
             number(e.totalUs > 0 ? e.flopsPerCall * double(e.calls) /
                                        (e.totalUs * 1e6)
                                  : 0);
    out += "}";
  }
  return out + (first ? "]\n}\n" : "\n  ]\n}\n");
}

std::string profilePathFromEnv(const char *value, long pid) {
  if (!value)
    return "";
  std::string path = value;
  for (size_t at = path.find("%p"); at != std::string::npos;
       at = path.find("%p", at)) {
    std::string id = std::to_string(pid);
    path.replace(at, 2, id);
    at += id.size();
  }
  return path;
}

std::string gemmProfileName(int64_t batch, int64_t m, int64_t n, int64_t k,
                            const char *typeA, const char *typeB,
                            const char *typeC, bool tf32, bool accumulate) {
  std::string out = "gemm ";
  if (batch > 1)
    out += std::to_string(batch) + "x";
  out += std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
         " " + typeA + "*" + typeB + "->" + typeC;
  if (tf32)
    out += " +tf32";
  if (accumulate)
    out += " +acc";
  return out;
}

//===----------------------------------------------------------------------===//
// Events (the driver)
//===----------------------------------------------------------------------===//

namespace {

constexpr size_t kProbeEvery = 256;
constexpr size_t kMaxPending = 1 << 16;

struct Pending {
  CUevent begin, end;
  std::string name;
  const char *kind;
  double flops;
};

// Never destroyed: read by the atexit handler.
struct Profiler {
  std::mutex mutex;
  std::string path;
  std::vector<CUevent> pool;
  std::deque<Pending> pending;
  size_t sinceProbe = 0;
  bool exitHandlerSet = false;
  bool written = false;
  ProfileTable table;
};

Profiler *profiler() {
  static Profiler *instance = [] () -> Profiler * {
    std::string path =
        profilePathFromEnv(std::getenv("MPC_CUDA_PROFILE"), long(getpid()));
    if (path.empty())
      return nullptr;
    auto *p = new Profiler;
    p->path = path;
    return p;
  }();
  return instance;
}

CUevent takeEvent(Profiler &p) {
  if (!p.pool.empty()) {
    CUevent event = p.pool.back();
    p.pool.pop_back();
    return event;
  }
  CUevent event = nullptr;
  check(driver().cuEventCreate(&event, CU_EVENT_DEFAULT),
        "cuEventCreate (MPC_CUDA_PROFILE)");
  return event;
}

// Reads the completed pairs at the head of the queue; with `wait`, all.
void resolve(Profiler &p, bool wait) {
  const DriverApi &api = driver();
  if (!api.cuEventElapsedTime || !api.cuEventQuery)
    fatal("MPC_CUDA_PROFILE: this CUDA driver has no cuEventElapsedTime");
  while (!p.pending.empty()) {
    Pending &head = p.pending.front();
    if (wait)
      check(api.cuEventSynchronize(head.end), "cuEventSynchronize (MPC_CUDA_PROFILE)");
    else if (api.cuEventQuery(head.end) != CUDA_SUCCESS)
      return;
    float ms = 0;
    check(api.cuEventElapsedTime(&ms, head.begin, head.end),
          "cuEventElapsedTime (MPC_CUDA_PROFILE)", describeKernel(head.name));
    p.table.add(head.name, head.kind, double(ms) * 1000.0, head.flops);
    p.pool.push_back(head.begin);
    p.pool.push_back(head.end);
    p.pending.pop_front();
  }
}

void writeAtExit() {
  Profiler *p = profiler();
  if (!p)
    return;
  std::lock_guard<std::mutex> lock(p->mutex);
  if (p->written)
    return;
  p->written = true;
  std::string device = "?";
  std::string why;
  if (mpcCudaAvailable(&why)) {
    check(driver().cuStreamSynchronize(theStream()),
          "cuStreamSynchronize (MPC_CUDA_PROFILE)");
    resolve(*p, /*wait=*/true);
    device = mpcCudaDeviceDescription();
  }
  std::string json = p->table.toJson(device);
  FILE *file = std::fopen(p->path.c_str(), "w");
  if (!file || std::fwrite(json.data(), 1, json.size(), file) != json.size() ||
      std::fclose(file) != 0)
    std::fprintf(stderr, "mpc: warning: MPC_CUDA_PROFILE: cannot write '%s'\n",
                 p->path.c_str());
}

} // namespace

bool profiling() {
  static const bool enabled = profiler() != nullptr;
  return enabled;
}

CUevent profileBegin() {
  Profiler &p = *profiler();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (!p.exitHandlerSet) {
    // After the driver's own exit handler (registered when it started), so
    // this one runs first, while the context and stream still exist.
    driver();
    std::atexit(writeAtExit);
    p.exitHandlerSet = true;
  }
  CUevent event = takeEvent(p);
  check(driver().cuEventRecord(event, theStream()),
        "cuEventRecord (MPC_CUDA_PROFILE)");
  return event;
}

void profileEnd(CUevent begin, const std::string &name, const char *kind,
                double flopsPerCall) {
  Profiler &p = *profiler();
  std::lock_guard<std::mutex> lock(p.mutex);
  CUevent end = takeEvent(p);
  check(driver().cuEventRecord(end, theStream()),
        "cuEventRecord (MPC_CUDA_PROFILE)");
  p.pending.push_back({begin, end, name, kind, flopsPerCall});
  if (++p.sinceProbe >= kProbeEvery) {
    p.sinceProbe = 0;
    resolve(p, /*wait=*/false);
  }
  if (p.pending.size() >= kMaxPending)
    resolve(p, /*wait=*/true);
}

} // namespace mpc::runtime::cuda

using namespace mpc::runtime::cuda;

extern "C" void *mpcCudaTimingEventRecord() {
  CUevent event = nullptr;
  check(driver().cuEventCreate(&event, CU_EVENT_DEFAULT), "cuEventCreate");
  check(driver().cuEventRecord(event, theStream()), "cuEventRecord");
  return event;
}

extern "C" float mpcCudaTimingElapsedMs(void *start, void *end) {
  const DriverApi &api = driver();
  if (!api.cuEventElapsedTime)
    fatal("this CUDA driver has no cuEventElapsedTime");
  check(api.cuEventSynchronize(static_cast<CUevent>(end)), "cuEventSynchronize");
  float ms = 0;
  check(api.cuEventElapsedTime(&ms, static_cast<CUevent>(start),
                               static_cast<CUevent>(end)),
        "cuEventElapsedTime");
  return ms;
}

extern "C" void mpcCudaTimingEventDestroy(void *event) {
  if (!shuttingDown())
    check(driver().cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy");
}
