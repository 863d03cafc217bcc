//===- StateSchema.h - what a checkpoint must match to resume ---*- C++ -*-===//
//
// A checkpoint resumes in any trainer whose state schema equals the one it
// was written with (docs/trainer.md, "Checkpoints and resume"): every state
// tensor's name, role, dtype and shape, the batch data's, and the training
// settings the compiled step bakes in (batch, precision, loss, optimizer, loss
// scaling). Nothing target-specific is in it, so a CPU trainer's checkpoint
// resumes in a CUDA trainer of the same model and flags, and the other way
// round.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_STATESCHEMA_H
#define MPC_TRAINER_STATESCHEMA_H

#include "mpc/Trainer/Manifest.h"

#include <string>

namespace mpc::trainer {

/// The manifest's state schema as compact JSON: the members "batch",
/// "precision", "loss", "label", "output", "optimizer", "loss_scale", then
/// "data" and "state", objects mapping each batch argument and each state
/// tensor, by name in byte order, to "ROLE DTYPE [D0,D1,...]". Equal for
/// manifests that differ only in target, symbols, model path, initial values,
/// eval signature or argument order.
std::string stateSchema(const Manifest &manifest);

/// An empty string when the schemas `written` (a checkpoint's) and `expected`
/// (this trainer's) describe the same state; else a phrase naming their first
/// difference, e.g. "state tensor 'w' is param f32 [4] there, param f32 [3]
/// here".
std::string stateSchemaDifference(const std::string &written, const std::string &expected);

} // namespace mpc::trainer

#endif // MPC_TRAINER_STATESCHEMA_H
