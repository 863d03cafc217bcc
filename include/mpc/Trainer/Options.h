//===- Options.h - the trainer's command line -------------------*- C++ -*-===//
#ifndef MPC_TRAINER_OPTIONS_H
#define MPC_TRAINER_OPTIONS_H

#include "mpc/Trainer/DataSet.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpc::trainer {

struct Options {
  std::vector<DataFile> data;
  std::vector<DataFile> eval;
  std::optional<int64_t> steps;
  std::optional<int64_t> epochs;
  bool shuffle = true;
  std::optional<uint64_t> seed; // 0 unless given (or taken from --resume)
  std::string logPath;
  std::string savePath;
  std::string checkpointPath;
  int64_t checkpointEvery = 0;
  std::string resumePath;
  std::string weightsPath; // --weights: the parameters and buffers to start from
  int64_t progressEvery = 10;
  int64_t logEvery = 1;
  int device = 0; // --device: which GPU (a CPU build has device 0 only)
  bool help = false;
  bool printManifest = false;
};

/// On a usage error returns false and sets `error` to a sentence naming the flag.
bool parseOptions(int argc, char **argv, Options &options, std::string &error);

std::string usageText(const char *program);

/// An integer flag value of at least `minimum` (trainer and runner alike);
/// false with `error` naming the flag otherwise.
bool parseCount(const std::string &flag, const char *text, int64_t minimum, int64_t &out,
                std::string &error);

/// A --device value: a device number (0, 1, ...); false with `error`
/// otherwise. Whether that device exists is the device's to say.
bool parseDeviceOrdinal(const std::string &flag, const char *text, int &out, std::string &error);

/// A NAME=FILE.npy value, appended to `out`; false with `error` otherwise.
bool parseNamedFile(const std::string &flag, const char *text, std::vector<DataFile> &out,
                    std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_OPTIONS_H
