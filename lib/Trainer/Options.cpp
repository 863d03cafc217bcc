//===- Options.cpp - the trainer's command line ---------------------------===//
#include "mpc/Trainer/Options.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace mpc::trainer {

bool parseCount(const std::string &flag, const char *text, int64_t minimum, int64_t &out, std::string &error) {
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (errno || end == text || *end || value < minimum) {
    error = flag + " needs an integer of at least " + std::to_string(minimum) + ", got '" + text + "'";
    return false;
  }
  out = value;
  return true;
}

bool parseDeviceOrdinal(const std::string &flag, const char *text, int &out, std::string &error) {
  int64_t value = 0;
  if (!parseCount(flag, text, 0, value, error))
    return false;
  if (value > INT32_MAX) {
    error = flag + " " + text + ": no such device";
    return false;
  }
  out = static_cast<int>(value);
  return true;
}

bool parseNamedFile(const std::string &flag, const char *text, std::vector<DataFile> &out, std::string &error) {
  const char *equals = std::strchr(text, '=');
  if (!equals || equals == text || !equals[1]) {
    error = flag + " needs NAME=FILE.npy, got '" + std::string(text) + "'";
    return false;
  }
  out.push_back(DataFile{std::string(text, equals), std::string(equals + 1)});
  return true;
}

bool parseOptions(int argc, char **argv, Options &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--manifest") {
      options.printManifest = true;
      continue;
    }
    if (flag == "--no-shuffle") {
      options.shuffle = false;
      continue;
    }
    static const char *const kValued[] = {"--data", "--eval", "--steps", "--epochs", "--seed",
                                          "--log", "--save", "--checkpoint", "--checkpoint-every",
                                          "--resume", "--weights", "--progress-every", "--log-every",
                                          "--device"};
    bool known = false;
    for (const char *name : kValued)
      known |= flag == name;
    if (!known) {
      error = "unknown flag '" + flag + "'";
      return false;
    }
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return false;
    }
    const char *value = argv[++i];
    int64_t number = 0;
    bool ok = true;
    if (flag == "--data") ok = parseNamedFile(flag, value, options.data, error);
    else if (flag == "--eval") ok = parseNamedFile(flag, value, options.eval, error);
    else if (flag == "--steps") {
      ok = parseCount(flag, value, 1, number, error);
      options.steps = number;
    }
    else if (flag == "--epochs") {
      ok = parseCount(flag, value, 1, number, error);
      options.epochs = number;
    }
    else if (flag == "--seed") {
      ok = parseCount(flag, value, 0, number, error);
      options.seed = number;
    }
    else if (flag == "--checkpoint-every") ok = parseCount(flag, value, 1, options.checkpointEvery, error);
    else if (flag == "--progress-every") ok = parseCount(flag, value, 1, options.progressEvery, error);
    else if (flag == "--log-every") ok = parseCount(flag, value, 1, options.logEvery, error);
    else if (flag == "--device") ok = parseDeviceOrdinal(flag, value, options.device, error);
    else if (flag == "--log") options.logPath = value;
    else if (flag == "--save") options.savePath = value;
    else if (flag == "--checkpoint") options.checkpointPath = value;
    else if (flag == "--resume") options.resumePath = value;
    else if (flag == "--weights") options.weightsPath = value;
    if (!ok)
      return false;
  }
  if (options.help || options.printManifest)
    return true;
  if (options.steps && options.epochs) {
    error = "give --steps or --epochs, not both";
    return false;
  }
  if (options.data.empty()) {
    error = "no training data: give --data NAME=FILE.npy for every input and the label";
    return false;
  }
  if (!options.weightsPath.empty() && !options.resumePath.empty()) {
    error = "give --weights or --resume, not both: --resume continues a run with the checkpoint's weights, "
            "--weights starts one from a model's";
    return false;
  }
  if (options.checkpointEvery && options.checkpointPath.empty()) {
    error = "--checkpoint-every needs --checkpoint FILE to write to";
    return false;
  }
  return true;
}

std::string usageText(const char *program) {
  return std::string("usage: ") + program +
         " --data NAME=FILE.npy [--data ...] [--steps N | --epochs E] [--no-shuffle] [--seed S]\n"
         "       [--log FILE.jsonl] [--save OUT.onnx] [--checkpoint FILE [--checkpoint-every N]]\n"
         "       [--resume FILE] [--eval NAME=FILE.npy ...] [--progress-every K] [--log-every N]\n"
         "       [--weights FILE.onnx|FILE.safetensors] [--device N]\n"
         "       " + std::string(program) + " --manifest\n"
         "Trains the compiled model; see docs/trainer.md. --manifest prints the embedded manifest.\n";
}

} // namespace mpc::trainer
