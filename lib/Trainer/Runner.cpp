//===- Runner.cpp - the compiled inference runner -------------------------===//
#include "mpc/Trainer/Runner.h"

#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Runtime/PackedCall.h"
#include "mpc/Trainer/DataSet.h"
#include "mpc/Trainer/DeviceArray.h"
#include "mpc/Trainer/Json.h"
#include "mpc/Trainer/Manifest.h"
#include "mpc/Trainer/Options.h"
#include "mpc/Trainer/TrainState.h"
#include "mpc/Trainer/Weights.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace mpc::trainer {
using runtime::HostArray;

namespace {
int report(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

struct RunnerOptions {
  std::vector<DataFile> inputs;
  std::string outputDir;
  std::string weightsPath;
  int64_t iterations = 0; // 0: one untimed run
  int64_t warmup = 1;
  bool warmupGiven = false;
  int device = 0;
  bool help = false;
  bool printManifest = false;
};

bool parseRunnerOptions(int argc, char **argv, RunnerOptions &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool inlineValue = false;
    if (size_t equals = flag.find('='); flag.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = flag.substr(equals + 1); // --flag=value
      flag.resize(equals);
      inlineValue = true;
    }
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--manifest") {
      options.printManifest = true;
      continue;
    }
    if (flag != "--input" && flag != "--output-dir" && flag != "--weights" && flag != "--iterations" &&
        flag != "--warmup" && flag != "--device") {
      error = "unknown flag '" + flag + "' (run with --help for usage)";
      return false;
    }
    if (!inlineValue) {
      if (i + 1 >= argc) {
        error = flag + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (flag == "--input") {
      if (!parseNamedFile(flag, value.c_str(), options.inputs, error))
        return false;
    } else if (flag == "--output-dir") {
      options.outputDir = value;
    } else if (flag == "--weights") {
      options.weightsPath = value;
    } else if (flag == "--iterations") {
      if (!parseCount(flag, value.c_str(), 1, options.iterations, error))
        return false;
    } else if (flag == "--device") {
      if (!parseDeviceOrdinal(flag, value.c_str(), options.device, error))
        return false;
    } else if (!parseCount(flag, value.c_str(), 0, options.warmup, error)) {
      return false;
    } else {
      options.warmupGiven = true;
    }
  }
  if (options.warmupGiven && !options.iterations) {
    error = "--warmup needs --iterations N (the timed runs it precedes)";
    return false;
  }
  return true;
}

std::string runnerUsage(const char *program) {
  return std::string("usage: ") + program +
         " --input NAME=FILE.npy [--input ...] [--output-dir DIR]\n"
         "       [--weights FILE.onnx|FILE.safetensors] [--iterations N [--warmup W]] [--device N]\n"
         "       " + program + " --manifest\n"
         "Runs the compiled model once on the inputs and writes DIR/<output>.npy for every\n"
         "output. --weights replaces the state (required when it was compiled with\n"
         "--weights external). --iterations: W untimed warm-up runs (default 1), then N\n"
         "timed runs; prints their mean and median latency. --device N: the GPU to run on\n"
         "(default 0). --manifest prints the compiled model's manifest (inputs, outputs,\n"
         "state). See docs/mpc-compile.md.\n";
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string typeText(runtime::ElementKind kind, const std::vector<int64_t> &shape) {
  return std::string(runtime::elementName(kind)) + " " + shapeText(shape);
}

/// numpy's name of a dtype, for the advice in a dtype mismatch.
const char *numpyName(runtime::ElementKind kind) {
  switch (kind) {
  case runtime::ElementKind::F64: return "np.float64";
  case runtime::ElementKind::F32: return "np.float32";
  case runtime::ElementKind::F16: return "np.float16";
  case runtime::ElementKind::BF16: return "ml_dtypes.bfloat16";
  case runtime::ElementKind::F8E4M3FN: return "ml_dtypes.float8_e4m3fn";
  case runtime::ElementKind::F8E5M2: return "ml_dtypes.float8_e5m2";
  case runtime::ElementKind::I64: return "np.int64";
  case runtime::ElementKind::I32: return "np.int32";
  case runtime::ElementKind::I8: return "np.int8";
  case runtime::ElementKind::U8: return "np.uint8";
  case runtime::ElementKind::Bool: return "np.bool_";
  case runtime::ElementKind::I16: return "np.int16";
  case runtime::ElementKind::U16: return "np.uint16";
  case runtime::ElementKind::U32: return "np.uint32";
  case runtime::ElementKind::U64: return "np.uint64";
  }
  return "?";
}

/// The file the runner writes for output NAME: mpc-run's convention
/// ([A-Za-z0-9_.-] kept, anything else '_'), plus ".npy".
std::string outputFileName(const std::string &name) {
  std::string file;
  for (char c : name)
    file += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return file + ".npy";
}

/// Creates `dir` when missing (not its parents); false with `error` unless it
/// then is a writable directory.
bool prepareOutputDir(const std::string &dir, std::string &error) {
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) {
    if (::mkdir(dir.c_str(), 0777) != 0) {
      error = "--output-dir: cannot create '" + dir + "': " + std::strerror(errno);
      return false;
    }
  } else if (!S_ISDIR(info.st_mode)) {
    error = "--output-dir: '" + dir + "' exists and is not a directory";
    return false;
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    error = "--output-dir: cannot write into '" + dir + "'";
    return false;
  }
  return true;
}

/// Loads one array per `input` argument of `eval`, in argument order.
bool loadInputs(const Signature &eval, const std::vector<DataFile> &files, std::vector<HostArray> &arrays,
                std::string &error) {
  std::string names;
  for (const TensorDesc &arg : eval.args)
    if (arg.role == manifest::role::kInput)
      names += (names.empty() ? "'" : ", '") + arg.name + "'";
  for (size_t i = 0; i < files.size(); ++i) {
    int index = eval.argIndex(files[i].name);
    if (index < 0 || eval.args[index].role != manifest::role::kInput) {
      error = "--input " + files[i].name + "=" + files[i].path + ": the model has no input '" + files[i].name +
              "' (its inputs: " + names + ")";
      return false;
    }
    for (size_t j = 0; j < i; ++j)
      if (files[j].name == files[i].name) {
        error = "--input '" + files[i].name + "' is given twice";
        return false;
      }
  }
  for (const TensorDesc &arg : eval.args) {
    if (arg.role != manifest::role::kInput)
      continue;
    const DataFile *file = nullptr;
    for (const DataFile &candidate : files)
      if (candidate.name == arg.name)
        file = &candidate;
    if (!file) {
      error = "missing --input " + arg.name + "=FILE.npy (" + typeText(arg.kind, arg.shape) +
              "; the model's inputs: " + names + ")";
      return false;
    }
    HostArray array;
    std::string readError;
    if (!runtime::readNpy(file->path, array, readError)) {
      error = "--input " + arg.name + "=" + file->path + ": " + readError;
      return false;
    }
    if (array.kind() != arg.kind || array.shape() != arg.shape) {
      error = "--input " + arg.name + "=" + file->path + ": expected " + typeText(arg.kind, arg.shape) +
              ", got " + typeText(array.kind(), array.shape());
      if (array.kind() != arg.kind)
        error += std::string(" (no conversion is done: save it with .astype(") + numpyName(arg.kind) + "))";
      return false;
    }
    arrays.push_back(std::move(array));
  }
  return true;
}

class Runner {
public:
  Runner(const CompiledModel &model, const Manifest &manifest, const RunnerOptions &options)
      : model_(model), manifest_(manifest), eval_(*manifest.eval), options_(options) {}

  int run();

private:
  int prepareState();
  /// Points the call's descriptors at the buffers: the host arrays
  /// themselves on the host, device copies elsewhere.
  int bindBuffers();
  int callOnce();
  int timeRuns();
  int writeOutputs();

  const CompiledModel &model_;
  const Manifest &manifest_;
  const Signature &eval_;
  const RunnerOptions &options_;
  // Made once the inputs and weights are known to be right, so that they
  // are checked on machines without the device too.
  std::unique_ptr<Device> device_;
  std::vector<HostArray> inputs_; // one per input argument, in order
  TrainState state_;
  std::vector<HostArray> results_;
  std::vector<DeviceArray> buffers_; // arguments then results
  runtime::PackedCall call_;
};

int Runner::run() {
  std::string error;
  if (!loadInputs(eval_, options_.inputs, inputs_, error))
    return report(error);
  if (int code = prepareState())
    return code;
  if (!options_.outputDir.empty()) {
    if (!prepareOutputDir(options_.outputDir, error))
      return report(error);
    for (size_t i = 0; i < eval_.results.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (outputFileName(eval_.results[i].name) == outputFileName(eval_.results[j].name))
          return report("outputs '" + eval_.results[j].name + "' and '" + eval_.results[i].name +
                        "' would both be written to " + outputFileName(eval_.results[i].name));
  }
  for (const TensorDesc &result : eval_.results)
    results_.emplace_back(result.kind, result.shape);
  device_ = createDevice(manifest_.target, options_.device, error);
  if (!device_)
    return report(error);
  if (int code = bindBuffers())
    return code;
  if (int code = options_.iterations ? timeRuns() : callOnce())
    return code;
  return writeOutputs();
}

int Runner::prepareState() {
  std::string error;
  if (!initialState(manifest_, model_.blob, state_, error))
    return report(error);
  size_t external = 0;
  for (const TensorDesc *spec : state_.specs)
    external += spec->external;
  if (options_.weightsPath.empty()) {
    if (external)
      return report("this runner was compiled with --weights external: pass --weights FILE (the model's .onnx "
                    "or a .safetensors file) holding its " + std::to_string(external) + " state tensors");
    return 0;
  }
  if (!loadWeights(manifest_, options_.weightsPath, state_, error))
    return report(error);
  return 0;
}

int Runner::bindBuffers() {
  std::string error;
  buffers_.resize(eval_.args.size() + eval_.results.size());
  size_t input = 0;
  for (size_t i = 0; i < eval_.args.size(); ++i) {
    const TensorDesc &arg = eval_.args[i];
    HostArray &host = arg.isState() ? *state_.find(arg.name) : inputs_[input++];
    if (!buffers_[i].bind(*device_, host, "'" + arg.name + "'", error) || !buffers_[i].upload(error))
      return report(error);
  }
  for (size_t i = 0; i < eval_.results.size(); ++i)
    if (!buffers_[eval_.args.size() + i].bind(*device_, results_[i], "output '" + eval_.results[i].name + "'",
                                              error))
      return report(error);
  for (size_t i = 0; i < buffers_.size(); ++i)
    call_.add(buffers_[i].data(), i < eval_.args.size() ? eval_.args[i].shape
                                                        : eval_.results[i - eval_.args.size()].shape);
  return 0;
}

int Runner::callOnce() {
  call_.call(model_.evalStep);
  if (!device_->synchronize())
    return report(std::string("running the model on ") + device_->name() + " failed: " + device_->lastError());
  return 0;
}

int Runner::timeRuns() {
  for (int64_t i = 0; i < options_.warmup; ++i)
    if (int code = callOnce())
      return code;
  std::vector<double> milliseconds;
  milliseconds.reserve(static_cast<size_t>(options_.iterations));
  for (int64_t i = 0; i < options_.iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (int code = callOnce())
      return code;
    milliseconds.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  double sum = 0;
  for (double ms : milliseconds)
    sum += ms;
  std::vector<double> sorted = milliseconds;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  std::printf("latency_ms mean %.6g median %.6g min %.6g max %.6g  (%lld iterations after %lld warm-up, "
              "batch %lld, %s)\n",
              sum / static_cast<double>(n), median, sorted.front(), sorted.back(),
              static_cast<long long>(n), static_cast<long long>(options_.warmup),
              static_cast<long long>(manifest_.batch), device_->name());
  std::fflush(stdout);
  return 0;
}

int Runner::writeOutputs() {
  std::string error;
  for (size_t i = 0; i < results_.size(); ++i)
    if (!buffers_[eval_.args.size() + i].download(error))
      return report(error);
  if (options_.outputDir.empty())
    return 0;
  for (size_t i = 0; i < results_.size(); ++i) {
    std::string path = options_.outputDir + "/" + outputFileName(eval_.results[i].name);
    std::string error;
    if (!runtime::writeNpy(path, results_[i], error))
      return report("--output-dir: " + error);
  }
  return 0;
}
} // namespace

int runInference(int argc, char **argv, const CompiledModel &model) {
  RunnerOptions options;
  std::string error;
  if (!parseRunnerOptions(argc, argv, options, error))
    return report(error);
  if (options.help) {
    std::fputs(runnerUsage(argc > 0 ? argv[0] : "runner").c_str(), stdout);
    return 0;
  }
  if (options.printManifest) {
    std::printf("%s\n", model.manifest);
    return 0;
  }
  Manifest manifest;
  if (!parseManifest(model.manifest, model.blobSize, manifest, error))
    return report(error);
  if (!manifest.isInference() || !model.evalStep)
    return report("the compiled model is not an inference build (rebuild it with mpc-compile --infer)");
  return Runner(model, manifest, options).run();
}

int runCompiledModel(int argc, char **argv, const CompiledModel &model) {
  // Only the mode is read here; each side parses and checks the whole
  // manifest itself (and reports a malformed one its own way).
  Json json;
  std::string error;
  if (parseJson(model.manifest, json, error) && json.isObject())
    if (const Json *mode = json.find(manifest::key::kMode);
        mode && mode->isString() && mode->asString() == manifest::mode::kInfer)
      return runInference(argc, argv, model);
  if (!model.trainStep)
    return report("the compiled model has no training step (its manifest's mode is not 'infer'); rebuild it "
                  "with mpc-compile");
  return runTrainer(argc, argv, model);
}

} // namespace mpc::trainer
