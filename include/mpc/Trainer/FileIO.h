//===- FileIO.h - whole-file reads and atomic writes ------------*- C++ -*-===//
#ifndef MPC_TRAINER_FILEIO_H
#define MPC_TRAINER_FILEIO_H

#include <string>
#include <string_view>

namespace mpc::trainer {

bool readFile(const std::string &path, std::string &bytes, std::string &error);

/// Writes PATH.tmp, fsyncs it, renames it over PATH: a crash leaves either
/// the old file or the new one, never half of one.
bool writeFileAtomically(const std::string &path, std::string_view bytes, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_FILEIO_H
