//===- Trainer.h - the compiled trainer's main loop -------------*- C++ -*-===//
//
// The executable's main() (lib/Trainer/Main.cpp) hands the symbols of the
// compiled model to runTrainer; everything else lives in the library so that
// tests link it without a model.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_TRAINER_H
#define MPC_TRAINER_TRAINER_H

#include "mpc/Runtime/PackedCall.h"

#include <cstdint>

namespace mpc::trainer {

/// What the object file mpc-compile writes defines (docs/training.md).
struct CompiledModel {
  runtime::PackedFunction trainStep;
  runtime::PackedFunction evalStep;
  const char *manifest;
  const unsigned char *blob;
  uint64_t blobSize;
};

/// Exit codes: 0 done, 1 bad data or a failed write, 2 bad usage.
int runTrainer(int argc, char **argv, const CompiledModel &model);

} // namespace mpc::trainer

#endif // MPC_TRAINER_TRAINER_H
