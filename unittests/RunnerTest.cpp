//===- RunnerTest.cpp - the inference runner's device path and readers ----===//
//
// The runner's non-host path (device buffers, uploads, downloads) has no
// device in this tree yet; a copying stand-in registered under its own target
// name exercises it the way an accelerator's Device will.
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/HostArray.h"
#include "mpc/Trainer/Device.h"
#include "mpc/Trainer/OnnxReader.h"
#include "mpc/Trainer/OnnxWriter.h"
#include "mpc/Trainer/Runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

using namespace mpc::trainer;
using mpc::runtime::ElementKind;
using mpc::runtime::HostArray;

namespace {

/// Device memory is ordinary heap memory that the test can tell apart.
struct CopyDeviceLog {
  std::set<void *> live;
  int allocs = 0, frees = 0, uploads = 0, downloads = 0, syncs = 0;
};
CopyDeviceLog deviceLog;

class CopyDevice final : public Device {
public:
  const char *name() const override { return "copy"; }
  bool isHost() const override { return false; }
  void *alloc(size_t bytes) override {
    void *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    deviceLog.live.insert(p);
    ++deviceLog.allocs;
    return p;
  }
  void free(void *p) override {
    deviceLog.live.erase(p);
    ++deviceLog.frees;
    std::free(p);
  }
  bool upload(void *d, const void *h, size_t n) override {
    EXPECT_TRUE(deviceLog.live.count(d));
    ++deviceLog.uploads;
    std::memcpy(d, h, n);
    return true;
  }
  bool download(void *h, const void *d, size_t n) override {
    EXPECT_TRUE(deviceLog.live.count(const_cast<void *>(d)));
    ++deviceLog.downloads;
    std::memcpy(h, d, n);
    return true;
  }
  bool synchronize() override {
    ++deviceLog.syncs;
    return true;
  }
  std::string lastError() const override { return ""; }
};

/// The aligned pointer of packed argument `i` (a rank-1 memref descriptor).
float *bufferOf(void **args, int i) {
  auto *descriptor = *static_cast<int64_t **>(args[i]);
  return reinterpret_cast<float *>(descriptor[1]);
}

bool sawDeviceMemory = false;

/// eval_step(w, x) -> y = x + w, for w, x, y f32 [2].
void fakeEvalStep(void **args) {
  sawDeviceMemory = true;
  for (int i = 0; i < 3; ++i)
    sawDeviceMemory &= deviceLog.live.count(bufferOf(args, i)) == 1;
  for (int k = 0; k < 2; ++k)
    bufferOf(args, 2)[k] = bufferOf(args, 1)[k] + bufferOf(args, 0)[k];
}

std::string manifestFor(const char *target) {
  return std::string(R"({"format": 1, "mode": "infer", "target": ")") + target +
         R"(", "batch": 2, "weights": "embedded", "eval": {"symbol": "mpc_eval_step",
      "args": [{"name": "w", "role": "param", "dtype": "f32", "shape": [2], "init": {"offset": 0, "bytes": 8}},
               {"name": "x", "role": "input", "dtype": "f32", "shape": [2]}],
      "results": [{"name": "y", "role": "output", "dtype": "f32", "shape": [2]}]}})";
}

/// Runs the runner on x = [1, 2] with w = [10, 20]; returns y.
std::vector<float> runOnTarget(const char *target) {
  char dir[] = "/tmp/mpc-runner-test-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  std::string root = dir, error;
  HostArray x(ElementKind::F32, {2});
  x.as<float>()[0] = 1;
  x.as<float>()[1] = 2;
  EXPECT_TRUE(mpc::runtime::writeNpy(root + "/x.npy", x, error)) << error;
  alignas(64) static const float blob[2] = {10, 20};
  std::string manifest = manifestFor(target);
  CompiledModel model{nullptr, fakeEvalStep, manifest.c_str(), reinterpret_cast<const unsigned char *>(blob),
                      sizeof(blob)};
  std::string input = "x=" + root + "/x.npy", out = root + "/out";
  std::vector<std::string> args = {"runner", "--input", input, "--output-dir", out, "--iterations", "3"};
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  EXPECT_EQ(runCompiledModel(static_cast<int>(argv.size()), argv.data(), model), 0);
  HostArray y;
  EXPECT_TRUE(mpc::runtime::readNpy(out + "/y.npy", y, error)) << error;
  std::filesystem::remove_all(root);
  return y.numElements() == 2 ? std::vector<float>{y.as<float>()[0], y.as<float>()[1]} : std::vector<float>{};
}

TEST(Runner, DeviceBuffersAreUploadedAndDownloaded) {
  registerDevice("copy", [](int, std::string &) -> std::unique_ptr<Device> { return std::make_unique<CopyDevice>(); });
  deviceLog = CopyDeviceLog();
  EXPECT_EQ(runOnTarget("copy"), (std::vector<float>{11, 22}));
  EXPECT_TRUE(sawDeviceMemory); // the entry point only saw device buffers
  EXPECT_EQ(deviceLog.allocs, 3);  // w, x, y
  EXPECT_EQ(deviceLog.uploads, 2); // w and x, once
  EXPECT_EQ(deviceLog.downloads, 1);
  EXPECT_EQ(deviceLog.syncs, 4); // 1 warm-up + 3 timed
  EXPECT_EQ(deviceLog.frees, 3);
  EXPECT_TRUE(deviceLog.live.empty());
}

TEST(Runner, HostTargetPassesHostMemory) {
  deviceLog = CopyDeviceLog();
  EXPECT_EQ(runOnTarget("cpu"), (std::vector<float>{11, 22}));
  EXPECT_FALSE(sawDeviceMemory);
  EXPECT_EQ(deviceLog.allocs, 0);
}

TEST(Runner, UnknownTargetIsAnError) {
  std::string error;
  EXPECT_EQ(createDevice("tpu", 0, error), nullptr);
  EXPECT_NE(error.find("targets 'tpu', which this runner cannot run"), std::string::npos) << error;
}

TEST(HostCopyDevice, ChosenByTheEnvironmentForCpuBuilds) {
  // Unset however the test ends: later tests in this process use the host.
  struct Unset {
    ~Unset() { unsetenv("MPC_TEST_DEVICE"); }
  } unset;
  ASSERT_EQ(setenv("MPC_TEST_DEVICE", "host-copy", 1), 0);
  std::string error;
  std::unique_ptr<Device> device = createDevice("cpu", 0, error);
  ASSERT_TRUE(device) << error;
  EXPECT_STREQ(device->name(), "host-copy");
  EXPECT_FALSE(device->isHost());
  // Fresh buffers read as NaN until something is uploaded.
  void *buffer = device->alloc(8);
  ASSERT_NE(buffer, nullptr);
  float values[2] = {1, 2}, back[2] = {0, 0};
  ASSERT_TRUE(device->download(back, buffer, sizeof(back)));
  EXPECT_TRUE(std::isnan(back[0]) && std::isnan(back[1]));
  ASSERT_TRUE(device->upload(buffer, values, sizeof(values)));
  ASSERT_TRUE(device->download(back, buffer, sizeof(back)));
  EXPECT_EQ(back[1], 2);
  // A copy past the buffer is the runtime's bug: one line, exit 1.
  EXPECT_EXIT(device->upload(static_cast<char *>(buffer) + 4, values, sizeof(values)),
              testing::ExitedWithCode(1), "upload of 8 bytes outside every live buffer");
  device->free(buffer);
  EXPECT_EQ(createDevice("cpu", 1, error), nullptr);
  EXPECT_NE(error.find("--device 1: a CPU build runs on the host"), std::string::npos) << error;
  EXPECT_EQ(createDevice("cuda", 0, error), nullptr);
  EXPECT_NE(error.find("MPC_TEST_DEVICE=host-copy runs CPU builds only"), std::string::npos) << error;
  ASSERT_EQ(setenv("MPC_TEST_DEVICE", "tpu", 1), 0);
  EXPECT_EQ(createDevice("cpu", 0, error), nullptr);
  EXPECT_NE(error.find("unknown test device 'tpu'"), std::string::npos) << error;
}

TEST(HostCopyDevice, AsynchronousUploadsKeepTheirPinnedSourceUntilAFence) {
  struct Unset {
    ~Unset() { unsetenv("MPC_TEST_DEVICE"); }
  } unset;
  ASSERT_EQ(setenv("MPC_TEST_DEVICE", "host-copy", 1), 0);
  std::string error;
  std::unique_ptr<Device> device = createDevice("cpu", 0, error);
  ASSERT_TRUE(device) << error;
  void *buffer = device->alloc(8);
  auto *pinned = static_cast<float *>(device->allocPinned(8));
  ASSERT_TRUE(buffer && pinned);
  std::unique_ptr<Device::Fence> fence = device->createFence();
  ASSERT_TRUE(fence->wait()); // never recorded: nothing to wait for
  pinned[0] = 1;
  pinned[1] = 2;
  ASSERT_TRUE(device->uploadAsync(buffer, pinned, 8));
  ASSERT_TRUE(fence->record());
  // Changing the source before the fence passed: a real device may not
  // have copied it yet.
  EXPECT_EXIT(
      {
        pinned[1] = 3;
        fence->wait();
      },
      testing::ExitedWithCode(1), "pinned memory changed while an upload from it was still pending");
  EXPECT_EXIT(device->freePinned(pinned), testing::ExitedWithCode(1),
              "pinned buffer freed while an upload from it is still pending");
  ASSERT_TRUE(fence->wait());
  pinned[1] = 3; // the copy has completed: free to reuse
  float back[2] = {0, 0};
  ASSERT_TRUE(device->download(back, buffer, sizeof(back)));
  EXPECT_EQ(back[1], 2);
  // Only pinned memory is copied from asynchronously.
  EXPECT_EXIT(device->uploadAsync(buffer, back, 8), testing::ExitedWithCode(1),
              "asynchronous upload of 8 bytes from memory that is not pinned");
  // A download waits for every queued upload, as synchronize() does.
  ASSERT_TRUE(device->uploadAsync(buffer, pinned, 8));
  EXPECT_EXIT(
      {
        pinned[0] = 5;
        device->download(back, buffer, sizeof(back));
      },
      testing::ExitedWithCode(1), "pinned memory changed");
  ASSERT_TRUE(device->synchronize());
  device->freePinned(pinned);
  device->free(buffer);
}

TEST(OnnxReader, ReadsRawAndTypedInitializers) {
  // raw_data (via the writer), then a float_data tensor written by hand:
  // dims 2 (packed), data_type 1, float_data packed, name "t".
  std::string graph;
  float raw[3] = {1.5f, -2, 0.25f};
  appendBytesField(graph, 5, encodeTensorProto("r", 1, {3}, std::string_view(reinterpret_cast<char *>(raw), 12)));
  std::string typed;
  appendBytesField(typed, 1, std::string("\x02", 1));
  appendVarintField(typed, 2, 1);
  float values[2] = {3, 4};
  appendBytesField(typed, 4, std::string_view(reinterpret_cast<char *>(values), 8));
  appendBytesField(typed, 8, "t");
  appendBytesField(graph, 5, typed);
  std::string model;
  appendVarintField(model, 1, 8); // ir_version
  appendBytesField(model, 7, graph);
  std::vector<OnnxTensor> tensors;
  std::string error;
  ASSERT_TRUE(readOnnxInitializers(model, "m.onnx", tensors, error)) << error;
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].name, "r");
  ASSERT_TRUE(tensors[0].array);
  EXPECT_EQ(tensors[0].array->as<float>()[1], -2);
  EXPECT_EQ(tensors[1].name, "t");
  ASSERT_TRUE(tensors[1].array) << tensors[1].problem;
  EXPECT_EQ(tensors[1].array->shape(), std::vector<int64_t>{2});
  EXPECT_EQ(tensors[1].array->as<float>()[1], 4);
  // Truncated bytes are an error, not a crash.
  EXPECT_FALSE(readOnnxInitializers(model.substr(0, model.size() - 3), "m.onnx", tensors, error));
  EXPECT_NE(error.find("is not a valid ONNX model"), std::string::npos);
}

} // namespace
