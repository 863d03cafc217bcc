//===- DataSet.h - the .npy files a trainer reads ---------------*- C++ -*-===//
//
// Every check on the data happens here, before the first step: names against
// the manifest, dtypes, per-row shapes, row counts, label ranges, and a count
// of non-finite values (a warning: the compiled step skips the steps they
// poison).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_DATASET_H
#define MPC_TRAINER_DATASET_H

#include "mpc/Runtime/HostArray.h"
#include "mpc/Trainer/Manifest.h"

#include <string>
#include <utility>
#include <vector>

namespace mpc::trainer {

/// NAME=FILE as given on the command line.
struct DataFile {
  std::string name;
  std::string path;
};

/// One array per expected argument, in the order of `specs`.
struct DataSet {
  std::vector<const TensorDesc *> specs;
  std::vector<std::string> paths;
  std::vector<runtime::HostArray> arrays;
  int64_t rows = 0;
};

/// What a failed load is: the flags name the wrong tensors (usage, exit 2) or
/// a file is bad (data, exit 1).
enum class DataError { None, Usage, Data };

/// Loads `files` for the tensors `specs` (each shaped [batch, ...]).
/// `flag` ("--data", "--eval") names the flag in errors. `minRows` is the
/// fewest rows accepted. Warnings (non-finite values) go to `warnings`.
DataError loadDataSet(const Manifest &manifest, const std::vector<const TensorDesc *> &specs,
                      const std::vector<DataFile> &files, const char *flag, int64_t minRows,
                      DataSet &data, std::vector<std::string> &warnings, std::string &error);

/// Copies rows `rows` of array `index` into `batch` (shaped like the spec).
void gatherRows(const DataSet &data, size_t index, const std::vector<int64_t> &rows,
                runtime::HostArray &batch);
/// The same into `batch`'s bytes (rows.size() rows of array `index`).
void gatherRows(const DataSet &data, size_t index, const std::vector<int64_t> &rows, void *batch);

} // namespace mpc::trainer

#endif // MPC_TRAINER_DATASET_H
