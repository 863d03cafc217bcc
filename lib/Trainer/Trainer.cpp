//===- Trainer.cpp - the compiled trainer's main loop ---------------------===//
#include "mpc/Trainer/Trainer.h"

#include "TrainStep.h"
#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Trainer/BatchOrder.h"
#include "mpc/Trainer/DataSet.h"
#include "mpc/Trainer/DeviceArray.h"
#include "mpc/Trainer/EvalMetrics.h"
#include "mpc/Trainer/FileIO.h"
#include "mpc/Trainer/Json.h"
#include "mpc/Trainer/Options.h"
#include "mpc/Trainer/TrainState.h"
#include "mpc/Trainer/Weights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unistd.h>
#include <utility>

namespace mpc::trainer {
using runtime::HostArray;
namespace role = manifest::role;

namespace {
constexpr int kDataError = 1;
constexpr int kUsageError = 2;

int report(int code, const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  if (code == kUsageError)
    std::fprintf(stderr, "(run with --help for usage)\n");
  return code;
}

struct FileCloser {
  void operator()(FILE *file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

bool directoryIsWritable(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return ::access(directory.c_str(), W_OK) == 0;
}

class Trainer {
public:
  Trainer(const CompiledModel &model, const Manifest &manifest, const Options &options)
      : model_(model), manifest_(manifest), options_(options) {}

  int run();

private:
  int loadData();
  int loadInitialWeights();
  int prepareState();
  /// Makes the manifest target's device and puts the state on it.
  int openDevice();
  int trainSteps();
  /// The loss scale the next step uses (docs/trainer.md, "loss_scale").
  int lossScaleBeforeStep(double &scale);
  /// Reads the metrics of the steps run since the last read.
  int collectMetrics();
  void reportStep(float loss, double lossScale, bool finite);
  int writeCheckpoint(const std::string &path);
  int saveModel();
  /// Runs the eval data; prints the result, and logs it when `final`.
  int evaluate(bool final);
  void logLine(const Json &line);

  const CompiledModel &model_;
  const Manifest &manifest_;
  const Options &options_;
  DataSet train_, eval_;
  TrainState state_;
  Progress progress_;
  std::unique_ptr<Device> device_; // before step_, which frees buffers on it
  std::unique_ptr<TrainStep> step_;
  StepMetrics last_;
  int64_t totalSteps_ = 0;
  FilePtr log_;
  std::chrono::steady_clock::time_point lastPrint_;
  int64_t lastPrintStep_ = 0;
  int64_t samplesSincePrint_ = 0;
};

int Trainer::run() {
  if (!options_.eval.empty() && (!manifest_.eval || !model_.evalStep))
    return report(kUsageError, "--eval: this trainer was compiled without an eval function");
  if (!options_.savePath.empty() && !manifest_.onnxHead)
    return report(kUsageError, "--save: this trainer was compiled without the ONNX model to write");
  // Found out now rather than after a long run whose result would be lost.
  for (const auto &[flag, path] : {std::pair{"--save", &options_.savePath}, {"--checkpoint", &options_.checkpointPath}})
    if (!path->empty() && !directoryIsWritable(*path))
      return report(kDataError, std::string(flag) + ": cannot write into the directory of '" + *path +
                                    "'; create it or choose another path");
  if (int code = loadData())
    return code;
  if (int code = prepareState())
    return code;
  if (int code = openDevice())
    return code;
  if (!options_.logPath.empty()) {
    log_.reset(std::fopen(options_.logPath.c_str(), "w"));
    if (!log_)
      return report(kDataError, "--log: cannot write '" + options_.logPath + "'");
  }
  if (int code = trainSteps())
    return code;
  if (!options_.checkpointPath.empty())
    if (int code = writeCheckpoint(options_.checkpointPath))
      return code;
  if (int code = saveModel())
    return code;
  if (!options_.eval.empty())
    return evaluate(true);
  return 0;
}

int Trainer::loadData() {
  std::vector<const TensorDesc *> specs;
  for (const TensorDesc &arg : manifest_.train.args)
    if (arg.role == role::kInput || arg.role == role::kLabel)
      specs.push_back(&arg);
  std::vector<std::string> warnings;
  std::string error;
  if (DataError failure = loadDataSet(manifest_, specs, options_.data, "--data", manifest_.batch, train_,
                                      warnings, error);
      failure != DataError::None)
    return report(failure == DataError::Usage ? kUsageError : kDataError, error);
  if (!options_.eval.empty()) {
    std::vector<const TensorDesc *> evalSpecs;
    for (const TensorDesc &arg : manifest_.eval->args)
      if (arg.role == role::kInput)
        evalSpecs.push_back(&arg);
    evalSpecs.push_back(&manifest_.train.args[manifest_.train.argIndex(manifest_.label)]);
    if (DataError failure = loadDataSet(manifest_, evalSpecs, options_.eval, "--eval", 1, eval_, warnings, error);
        failure != DataError::None)
      return report(failure == DataError::Usage ? kUsageError : kDataError, error);
  }
  for (const std::string &warning : warnings)
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  return 0;
}

/// --weights, or for a --weights external build the error of its absence
/// (a --resume checkpoint holds every state tensor).
int Trainer::loadInitialWeights() {
  std::string error;
  if (!options_.weightsPath.empty())
    return loadWeights(manifest_, options_.weightsPath, state_, error) ? 0 : report(kDataError, error);
  size_t external = 0;
  for (const TensorDesc *spec : state_.specs)
    external += spec->external;
  if (!external || !options_.resumePath.empty())
    return 0;
  return report(kUsageError, "this trainer was compiled with --weights external: pass --weights FILE (the model's "
                             ".onnx or a .safetensors file) holding its " + std::to_string(external) +
                             " weights, or --resume a checkpoint");
}

int Trainer::prepareState() {
  std::string error;
  if (!initialState(manifest_, model_.blob, state_, error))
    return report(kDataError, error);
  if (int code = loadInitialWeights())
    return code;
  progress_.seed = options_.seed.value_or(0);
  progress_.shuffle = options_.shuffle;
  progress_.rows = train_.rows;
  if (!options_.resumePath.empty()) {
    Progress saved;
    if (!loadCheckpoint(manifest_, options_.resumePath, state_, saved, error))
      return report(kDataError, error);
    if (options_.seed && *options_.seed != saved.seed)
      return report(kUsageError, "--seed " + std::to_string(*options_.seed) + " differs from the seed " +
                                     std::to_string(saved.seed) + " of --resume '" + options_.resumePath +
                                     "'; drop --seed to continue that run");
    if (saved.shuffle != options_.shuffle)
      return report(kUsageError, std::string("--resume '") + options_.resumePath + "' was written " +
                                     (saved.shuffle ? "without" : "with") +
                                     " --no-shuffle; use the same batch order to continue it");
    if (saved.rows != train_.rows)
      return report(kDataError, "--resume '" + options_.resumePath + "' was trained on " +
                                    std::to_string(saved.rows) + " rows, --data has " +
                                    std::to_string(train_.rows) + "; resume with the same data");
    progress_.step = saved.step;
    progress_.skipped = saved.skipped;
    progress_.seed = saved.seed;
  }
  int64_t stepsPerEpoch = train_.rows / manifest_.batch;
  totalSteps_ = options_.steps ? *options_.steps : options_.epochs.value_or(1) * stepsPerEpoch;
  progress_.plan = options_.steps ? "steps " + std::to_string(*options_.steps)
                                  : "epochs " + std::to_string(options_.epochs.value_or(1));
  if (progress_.step > totalSteps_)
    return report(kUsageError, "--resume '" + options_.resumePath + "' is at step " +
                                   std::to_string(progress_.step) + ", past the " + std::to_string(totalSteps_) +
                                   " steps asked for; give more --steps or --epochs");
  return 0;
}

int Trainer::openDevice() {
  std::string error;
  device_ = createDevice(manifest_.target, options_.device, error);
  if (!device_)
    return report(kDataError, error);
  step_ = std::make_unique<TrainStep>(manifest_, train_, state_, *device_);
  // Metrics wait on the device between logged steps, in a ring that a long
  // --log-every empties more often (a download of 128 bytes per step).
  constexpr int64_t kMaxRingSlots = 1024;
  if (!step_->prepare(std::min({options_.logEvery, kMaxRingSlots, std::max<int64_t>(totalSteps_, 1)}), error))
    return report(kDataError, error);
  return 0;
}

int Trainer::lossScaleBeforeStep(double &scale) {
  int index = state_.indexOf(manifest::kLossScaleState);
  if (index < 0) {
    scale = manifest_.lossScaleMode == manifest::scale_mode::kStatic ? manifest_.staticLossScale : 1.0;
    return 0;
  }
  std::string error;
  if (!step_->downloadState(index, error))
    return report(kDataError, error);
  scale = floatElement(state_.arrays[index], 0);
  return 0;
}

void Trainer::logLine(const Json &line) {
  if (!log_)
    return;
  std::string text = writeJson(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), log_.get());
  std::fflush(log_.get());
}

void Trainer::reportStep(float loss, double lossScale, bool finite) {
  Json line = Json::object();
  line.set("step", Json::integer(progress_.step));
  line.set("loss", Json::single(loss));
  line.set("loss_scale", Json::number(lossScale));
  line.set("skipped", Json::integer(progress_.skipped));
  line.set("finite", Json::boolean(finite));
  logLine(line);
  // Logged steps are the only ones with metrics: print at the first one in
  // each --progress-every interval (every interval's end when every step is
  // logged).
  if (progress_.step / options_.progressEvery == lastPrintStep_ / options_.progressEvery &&
      progress_.step != totalSteps_)
    return;
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - lastPrint_).count();
  std::printf("step %lld/%lld  loss %.6g  loss_scale %g  skipped %lld  samples/s %.1f\n",
              static_cast<long long>(progress_.step), static_cast<long long>(totalSteps_),
              static_cast<double>(loss), lossScale, static_cast<long long>(progress_.skipped),
              seconds > 0 ? static_cast<double>(samplesSincePrint_) / seconds : 0.0);
  std::fflush(stdout);
  lastPrint_ = now;
  lastPrintStep_ = progress_.step;
  samplesSincePrint_ = 0;
}

int Trainer::collectMetrics() {
  std::vector<StepMetrics> metrics;
  std::string error;
  if (!step_->readMetrics(metrics, error))
    return report(kDataError, error);
  for (const StepMetrics &step : metrics) {
    progress_.skipped += !step.finite;
    last_ = step;
  }
  return 0;
}

int Trainer::trainSteps() {
  BatchOrder order(train_.rows, manifest_.batch, progress_.seed, progress_.shuffle);
  lastPrint_ = std::chrono::steady_clock::now();
  lastPrintStep_ = progress_.step;
  std::string error;
  for (int64_t step = progress_.step; step < totalSteps_; ++step) {
    // Lines fall on multiples of --log-every (and the last step), counted
    // from the start of the run, so a resumed log continues in step.
    bool logged = (step + 1) % options_.logEvery == 0 || step + 1 == totalSteps_;
    double lossScale = 0;
    if (logged)
      if (int code = lossScaleBeforeStep(lossScale))
        return code;
    if (!step_->run(model_.trainStep, order.rowsOfStep(step), error))
      return report(kDataError, error);
    progress_.step = step + 1;
    samplesSincePrint_ += manifest_.batch;
    bool checkpoint = options_.checkpointEvery && progress_.step % options_.checkpointEvery == 0 &&
                      progress_.step != totalSteps_;
    // A checkpoint records the exact skipped count; a full ring must be read.
    if (logged || checkpoint || step_->pending() == step_->capacity())
      if (int code = collectMetrics())
        return code;
    if (logged)
      reportStep(last_.loss, lossScale, last_.finite);
    if (!options_.eval.empty() && progress_.step % order.stepsPerEpoch() == 0 && progress_.step != totalSteps_)
      if (int code = evaluate(false))
        return code;
    if (checkpoint)
      if (int code = writeCheckpoint(options_.checkpointPath))
        return code;
  }
  return 0;
}

int Trainer::writeCheckpoint(const std::string &path) {
  std::string error;
  if (!step_->downloadState(-1, error))
    return report(kDataError, error);
  if (!writeFileAtomically(path, serializeCheckpoint(manifest_, state_, progress_), error))
    return report(kDataError, "--checkpoint: " + error);
  return 0;
}

int Trainer::saveModel() {
  if (options_.savePath.empty())
    return 0;
  std::string bytes, error;
  if (!step_->downloadState(-1, error))
    return report(kDataError, error);
  if (!buildTrainedModel(manifest_, model_.blob, state_, bytes, error) ||
      !writeFileAtomically(options_.savePath, bytes, error))
    return report(kDataError, "--save: " + error);
  return 0;
}

int Trainer::evaluate(bool final) {
  const Signature &eval = *manifest_.eval;
  size_t numArgs = eval.args.size();
  // Inputs and results staged on the host, on the device for the call; the
  // state is the train step's, where it lives.
  std::vector<HostArray> hosts(numArgs + eval.results.size());
  std::vector<DeviceArray> buffers(hosts.size());
  runtime::PackedCall call;
  std::vector<int> dataOfArg(numArgs, -1);
  std::string error;
  for (size_t i = 0; i < numArgs; ++i) {
    const TensorDesc &arg = eval.args[i];
    if (arg.isState()) {
      void *data = step_->stateData(arg.name);
      if (!data)
        return report(kDataError, "the eval function's state '" + arg.name + "' is no state of the train step");
      call.add(data, arg.shape);
      continue;
    }
    for (size_t d = 0; d < eval_.specs.size(); ++d)
      if (eval_.specs[d] == &arg)
        dataOfArg[i] = static_cast<int>(d);
    hosts[i] = HostArray(arg.kind, arg.shape);
    if (!buffers[i].bind(*device_, hosts[i], "eval batch '" + arg.name + "'", error) || !buffers[i].upload(error))
      return report(kDataError, error);
    call.add(buffers[i].data(), arg.shape);
  }
  for (size_t r = 0; r < eval.results.size(); ++r) {
    hosts[numArgs + r] = HostArray(eval.results[r].kind, eval.results[r].shape);
    if (!buffers[numArgs + r].bind(*device_, hosts[numArgs + r], "eval output '" + eval.results[r].name + "'",
                                   error))
      return report(kDataError, error);
    call.add(buffers[numArgs + r].data(), eval.results[r].shape);
  }
  size_t labelData = eval_.specs.size() - 1;
  HostArray labels(eval_.specs[labelData]->kind, eval_.specs[labelData]->shape);
  const DeviceArray &output = buffers[numArgs + eval.resultIndex(manifest_.lossOutput()->name)];
  EvalTotals totals;
  int64_t batch = manifest_.batch;
  for (int64_t first = 0; first < eval_.rows; first += batch) {
    // The last batch is padded by repeating its own rows; only the real ones count.
    int64_t valid = std::min(batch, eval_.rows - first);
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < batch; ++i)
      rows.push_back(first + i % valid);
    for (size_t i = 0; i < numArgs; ++i)
      if (dataOfArg[i] >= 0) {
        gatherRows(eval_, static_cast<size_t>(dataOfArg[i]), rows, hosts[i]);
        if (!buffers[i].upload(error))
          return report(kDataError, error);
      }
    gatherRows(eval_, labelData, rows, labels);
    call.call(model_.evalStep);
    if (!output.download(error))
      return report(kDataError, error);
    if (manifest_.loss == manifest::loss::kCrossEntropy)
      accumulateCrossEntropy(output.host(), labels, valid, totals);
    else
      accumulateMeanSquaredError(output.host(), labels, valid, totals);
  }
  Json line = Json::object();
  line.set("step", Json::integer(progress_.step));
  line.set("eval_loss", Json::number(totals.loss()));
  if (manifest_.loss == manifest::loss::kCrossEntropy)
    line.set("eval_accuracy", Json::number(totals.accuracy()));
  line.set("eval_rows", Json::integer(eval_.rows));
  std::printf("%s\n", writeJson(line).c_str());
  std::fflush(stdout);
  // Per-epoch results stay out of the log, so that a resumed run's log
  // still continues an uninterrupted run's line for line.
  if (final)
    logLine(line);
  return 0;
}
} // namespace

int runTrainer(int argc, char **argv, const CompiledModel &model) {
  Options options;
  std::string error;
  if (!parseOptions(argc, argv, options, error))
    return report(kUsageError, error);
  if (options.help) {
    std::fputs(usageText(argc > 0 ? argv[0] : "trainer").c_str(), stdout);
    return 0;
  }
  if (options.printManifest) {
    std::printf("%s\n", model.manifest);
    return 0;
  }
  Manifest manifest;
  if (!parseManifest(model.manifest, model.blobSize, manifest, error))
    return report(kDataError, error);
  return Trainer(model, manifest, options).run();
}

} // namespace mpc::trainer
