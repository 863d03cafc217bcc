//===- Runner.h - the compiled inference runner -----------------*- C++ -*-===//
//
// `mpc-compile --infer` links the same runtime as a trainer; main()
// (lib/Trainer/Main.cpp) calls runCompiledModel, which reads the manifest's
// "mode" and runs the trainer (Trainer.h) or the inference runner
// (docs/mpc-compile.md, "The runner"): inputs from .npy files checked against
// the manifest, state from the blob or a weights file (Weights.h), buffers
// on the target's Device (Device.h), outputs to .npy files, and optional
// latency measurements.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_RUNNER_H
#define MPC_TRAINER_RUNNER_H

#include "mpc/Trainer/Trainer.h"

namespace mpc::trainer {

/// main(): dispatches on the manifest's mode (absent: train).
int runCompiledModel(int argc, char **argv, const CompiledModel &model);

/// The inference runner. Exit codes: 0 done, 1 any error (one line on stderr).
int runInference(int argc, char **argv, const CompiledModel &model);

} // namespace mpc::trainer

#endif // MPC_TRAINER_RUNNER_H
