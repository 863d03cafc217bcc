//===- Trainer.cpp - the compiled trainer's main loop ---------------------===//
#include "mpc/Trainer/Trainer.h"

#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Trainer/BatchOrder.h"
#include "mpc/Trainer/DataSet.h"
#include "mpc/Trainer/EvalMetrics.h"
#include "mpc/Trainer/FileIO.h"
#include "mpc/Trainer/Json.h"
#include "mpc/Trainer/Options.h"
#include "mpc/Trainer/TrainState.h"

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
  int prepareState();
  /// The train function's buffers: state arguments live in state_, batch
  /// arguments in `args` (filled from the data every step).
  struct TrainCall {
    std::vector<HostArray> args, results;
    std::vector<int> stateOfArg, dataOfArg; // index into state_ / train_, or -1
    runtime::PackedCall call;
  };
  TrainCall buildTrainCall();
  void adoptNewState(TrainCall &call);
  void reportStep(float loss, double lossScale, bool finite);
  int trainSteps();
  int writeCheckpoint(const std::string &path);
  int saveModel();
  /// Runs the eval data; prints the result, and logs it when `final`.
  void evaluate(bool final);
  void logLine(const Json &line);
  double currentLossScale() const;

  const CompiledModel &model_;
  const Manifest &manifest_;
  const Options &options_;
  DataSet train_, eval_;
  TrainState state_;
  Progress progress_;
  int64_t totalSteps_ = 0;
  FilePtr log_;
  std::chrono::steady_clock::time_point lastPrint_;
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
    evaluate(true);
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

int Trainer::prepareState() {
  std::string error;
  if (!initialState(manifest_, model_.blob, state_, error))
    return report(kDataError, error);
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

double Trainer::currentLossScale() const {
  if (const HostArray *scale = state_.find(manifest::kLossScaleState))
    return floatElement(*scale, 0);
  return manifest_.lossScaleMode == manifest::scale_mode::kStatic ? manifest_.staticLossScale : 1.0;
}

void Trainer::logLine(const Json &line) {
  if (!log_)
    return;
  std::string text = writeJson(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), log_.get());
  std::fflush(log_.get());
}

Trainer::TrainCall Trainer::buildTrainCall() {
  const Signature &train = manifest_.train;
  TrainCall c;
  c.stateOfArg.assign(train.args.size(), -1);
  c.dataOfArg.assign(train.args.size(), -1);
  for (size_t i = 0, s = 0; i < train.args.size(); ++i) {
    bool isState = train.args[i].isState();
    c.args.push_back(isState ? HostArray() : HostArray(train.args[i].kind, train.args[i].shape));
    if (isState)
      c.stateOfArg[i] = static_cast<int>(s++);
    for (size_t d = 0; d < train_.specs.size(); ++d)
      if (train_.specs[d] == &train.args[i])
        c.dataOfArg[i] = static_cast<int>(d);
    c.call.add(isState ? state_.arrays[c.stateOfArg[i]].data() : c.args[i].data(), train.args[i].shape);
  }
  for (const TensorDesc &result : train.results) {
    c.results.emplace_back(result.kind, result.shape);
    c.call.add(c.results.back().data(), result.shape);
  }
  return c;
}

void Trainer::adoptNewState(TrainCall &c) {
  // Swapping buffers instead of copying: the old state becomes the next
  // step's result storage.
  const Signature &train = manifest_.train;
  for (size_t i = 0; i < train.args.size(); ++i) {
    if (c.stateOfArg[i] < 0)
      continue;
    int r = train.resultIndex(train.args[i].name);
    std::swap(state_.arrays[c.stateOfArg[i]], c.results[r]);
    c.call.rebind(i, state_.arrays[c.stateOfArg[i]].data());
    c.call.rebind(train.args.size() + r, c.results[r].data());
  }
}

void Trainer::reportStep(float loss, double lossScale, bool finite) {
  Json line = Json::object();
  line.set("step", Json::integer(progress_.step));
  line.set("loss", Json::single(loss));
  line.set("loss_scale", Json::number(lossScale));
  line.set("skipped", Json::integer(progress_.skipped));
  line.set("finite", Json::boolean(finite));
  logLine(line);
  samplesSincePrint_ += manifest_.batch;
  if (progress_.step % options_.progressEvery != 0 && progress_.step != totalSteps_)
    return;
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - lastPrint_).count();
  std::printf("step %lld/%lld  loss %.6g  loss_scale %g  skipped %lld  samples/s %.1f\n",
              static_cast<long long>(progress_.step), static_cast<long long>(totalSteps_),
              static_cast<double>(loss), lossScale, static_cast<long long>(progress_.skipped),
              seconds > 0 ? static_cast<double>(samplesSincePrint_) / seconds : 0.0);
  std::fflush(stdout);
  lastPrint_ = now;
  samplesSincePrint_ = 0;
}

int Trainer::trainSteps() {
  const Signature &train = manifest_.train;
  TrainCall c = buildTrainCall();
  int lossIndex = train.resultIndexOfRole(role::kLoss);
  int finiteIndex = train.resultIndexOfRole(role::kFinite);
  BatchOrder order(train_.rows, manifest_.batch, progress_.seed, progress_.shuffle);
  lastPrint_ = std::chrono::steady_clock::now();
  for (int64_t step = progress_.step; step < totalSteps_; ++step) {
    std::vector<int64_t> rows = order.rowsOfStep(step);
    for (size_t i = 0; i < train.args.size(); ++i)
      if (c.dataOfArg[i] >= 0)
        gatherRows(train_, static_cast<size_t>(c.dataOfArg[i]), rows, c.args[i]);
    double lossScale = currentLossScale();
    c.call.call(model_.trainStep);
    float loss = c.results[lossIndex].as<float>()[0];
    bool finite = (c.results[finiteIndex].as<uint8_t>()[0] & 1) != 0;
    progress_.skipped += !finite;
    progress_.step = step + 1;
    adoptNewState(c);
    reportStep(loss, lossScale, finite);
    if (!options_.eval.empty() && progress_.step % order.stepsPerEpoch() == 0 && progress_.step != totalSteps_)
      evaluate(false);
    if (options_.checkpointEvery && progress_.step % options_.checkpointEvery == 0 &&
        progress_.step != totalSteps_)
      if (int code = writeCheckpoint(options_.checkpointPath))
        return code;
  }
  return 0;
}

int Trainer::writeCheckpoint(const std::string &path) {
  std::string error;
  if (!writeFileAtomically(path, serializeCheckpoint(manifest_, state_, progress_), error))
    return report(kDataError, "--checkpoint: " + error);
  return 0;
}

int Trainer::saveModel() {
  if (options_.savePath.empty())
    return 0;
  std::string bytes, error;
  if (!buildTrainedModel(manifest_, model_.blob, state_, bytes, error) ||
      !writeFileAtomically(options_.savePath, bytes, error))
    return report(kDataError, "--save: " + error);
  return 0;
}

void Trainer::evaluate(bool final) {
  const Signature &eval = *manifest_.eval;
  std::vector<HostArray> inputs, results;
  runtime::PackedCall call;
  std::vector<int> dataOfArg(eval.args.size(), -1);
  for (size_t i = 0; i < eval.args.size(); ++i) {
    bool isState = eval.args[i].isState();
    inputs.push_back(isState ? HostArray() : HostArray(eval.args[i].kind, eval.args[i].shape));
    for (size_t d = 0; d < eval_.specs.size(); ++d)
      if (eval_.specs[d] == &eval.args[i])
        dataOfArg[i] = static_cast<int>(d);
    call.add(isState ? state_.find(eval.args[i].name)->data() : inputs[i].data(), eval.args[i].shape);
  }
  for (const TensorDesc &result : eval.results) {
    results.emplace_back(result.kind, result.shape);
    call.add(results.back().data(), result.shape);
  }
  size_t labelData = eval_.specs.size() - 1;
  HostArray labels(eval_.specs[labelData]->kind, eval_.specs[labelData]->shape);
  const HostArray &output = results[eval.resultIndex(manifest_.lossOutput()->name)];
  EvalTotals totals;
  int64_t batch = manifest_.batch;
  for (int64_t first = 0; first < eval_.rows; first += batch) {
    // The last batch is padded by repeating its own rows; only the real ones count.
    int64_t valid = std::min(batch, eval_.rows - first);
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < batch; ++i)
      rows.push_back(first + i % valid);
    for (size_t i = 0; i < eval.args.size(); ++i)
      if (dataOfArg[i] >= 0)
        gatherRows(eval_, static_cast<size_t>(dataOfArg[i]), rows, inputs[i]);
    gatherRows(eval_, labelData, rows, labels);
    call.call(model_.evalStep);
    if (manifest_.loss == manifest::loss::kCrossEntropy)
      accumulateCrossEntropy(output, labels, valid, totals);
    else
      accumulateMeanSquaredError(output, labels, valid, totals);
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
  Manifest manifest;
  if (!parseManifest(model.manifest, model.blobSize, manifest, error))
    return report(kDataError, error);
  return Trainer(model, manifest, options).run();
}

} // namespace mpc::trainer
