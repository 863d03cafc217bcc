//===- DataSet.cpp - the .npy files a trainer reads -----------------------===//
#include "mpc/Trainer/DataSet.h"

#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Runtime/ManifestKeys.h"

#include <cmath>
#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;
using runtime::HostArray;

namespace {
/// Python's spelling of shape[from:]: "(4,)", "(3, 4)".
std::string shapeText(const std::vector<int64_t> &shape, size_t from) {
  std::string text = "(";
  for (size_t i = from; i < shape.size(); ++i)
    text += (i > from ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() - from == 1 ? ",)" : ")");
}

/// "(ROWS, 3, 4)" for a batch shape [batch, 3, 4].
std::string rowsShapeText(const std::vector<int64_t> &shape) {
  std::string text = "(ROWS";
  for (size_t i = 1; i < shape.size(); ++i)
    text += ", " + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::string numpyName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32: return "float32";
  case ElementKind::F64: return "float64";
  case ElementKind::F16: return "float16";
  case ElementKind::I64: return "int64";
  case ElementKind::I32: return "int32";
  case ElementKind::Bool: return "bool";
  default: return std::string(runtime::elementName(kind));
  }
}

bool elementIsFinite(const HostArray &array, int64_t i) {
  switch (array.kind()) {
  case ElementKind::F32: return std::isfinite(array.as<float>()[i]);
  case ElementKind::F64: return std::isfinite(array.as<double>()[i]);
  case ElementKind::F16: return std::isfinite(runtime::halfBitsToFloat(array.as<uint16_t>()[i]));
  case ElementKind::BF16: return std::isfinite(runtime::bfloat16BitsToFloat(array.as<uint16_t>()[i]));
  default: return true;
  }
}

/// "'x.npy' (--data x): 3 non-finite values in rows 4, 7" or "".
std::string nonFiniteReport(const HostArray &array, const std::string &label) {
  int64_t rowSize = array.shape().empty() ? 1 : array.numElements() / std::max<int64_t>(array.shape()[0], 1);
  int64_t count = 0;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < array.numElements(); ++i) {
    if (elementIsFinite(array, i))
      continue;
    ++count;
    int64_t row = rowSize ? i / rowSize : 0;
    if ((rows.empty() || rows.back() != row) && rows.size() < 6)
      rows.push_back(row);
  }
  if (!count)
    return "";
  std::string text = label + " holds " + std::to_string(count) + " non-finite value" +
                     (count == 1 ? "" : "s") + " (NaN or inf) in rows ";
  for (size_t i = 0; i < rows.size() && i < 5; ++i)
    text += (i ? ", " : "") + std::to_string(rows[i]);
  if (rows.size() > 5)
    text += ", ...";
  return text + "; the training steps whose batch holds them will be skipped";
}

/// The class count of a cross-entropy loss: the last dimension of its logits.
bool checkLabelRange(const HostArray &labels, int64_t classes, const std::string &label, std::string &error) {
  int64_t rowSize = labels.shape().size() > 1 ? labels.numElements() / labels.shape()[0] : 1;
  const int64_t *values = labels.as<int64_t>();
  for (int64_t i = 0; i < labels.numElements(); ++i) {
    if (values[i] >= 0 && values[i] < classes)
      continue;
    error = label + ": row " + std::to_string(i / rowSize) + " holds label " + std::to_string(values[i]) +
            ", outside the " + std::to_string(classes) + " classes [0, " + std::to_string(classes) +
            ") of the cross-entropy loss";
    return false;
  }
  return true;
}

DataError checkNames(const std::vector<const TensorDesc *> &specs, const std::vector<DataFile> &files,
                     const char *flag, std::vector<size_t> &fileOfSpec, std::string &error) {
  std::string expected;
  for (const TensorDesc *spec : specs)
    expected += (expected.empty() ? "" : ", ") + spec->name;
  fileOfSpec.assign(specs.size(), files.size());
  for (size_t f = 0; f < files.size(); ++f) {
    size_t s = 0;
    while (s < specs.size() && specs[s]->name != files[f].name)
      ++s;
    if (s == specs.size()) {
      error = std::string(flag) + " " + files[f].name + "=" + files[f].path + ": the model has no input or label named '" +
              files[f].name + "'; it expects " + expected;
      return DataError::Usage;
    }
    if (fileOfSpec[s] != files.size()) {
      error = std::string(flag) + " gives '" + files[f].name + "' twice; give each of " + expected + " once";
      return DataError::Usage;
    }
    fileOfSpec[s] = f;
  }
  for (size_t s = 0; s < specs.size(); ++s)
    if (fileOfSpec[s] == files.size()) {
      error = "no " + std::string(flag) + " for '" + specs[s]->name + "'; give " + flag + " " + specs[s]->name +
              "=FILE.npy (the model expects " + expected + ")";
      return DataError::Usage;
    }
  return DataError::None;
}
} // namespace

DataError loadDataSet(const Manifest &manifest, const std::vector<const TensorDesc *> &specs,
                      const std::vector<DataFile> &files, const char *flag, int64_t minRows, DataSet &data,
                      std::vector<std::string> &warnings, std::string &error) {
  std::vector<size_t> fileOfSpec;
  if (DataError failure = checkNames(specs, files, flag, fileOfSpec, error); failure != DataError::None)
    return failure;
  data = DataSet();
  data.specs = specs;
  for (size_t s = 0; s < specs.size(); ++s) {
    const TensorDesc &spec = *specs[s];
    const DataFile &file = files[fileOfSpec[s]];
    std::string label = "'" + file.path + "' (" + flag + " " + spec.name + ")";
    HostArray array;
    if (!runtime::readNpy(file.path, array, error)) {
      error = std::string(flag) + " " + spec.name + ": " + error;
      return DataError::Data;
    }
    if (array.kind() != spec.kind) {
      error = label + " has dtype " + numpyName(array.kind()) + "; the model expects " + numpyName(spec.kind) +
              " (convert it with numpy's .astype(np." + numpyName(spec.kind) + "))";
      return DataError::Data;
    }
    const std::vector<int64_t> &shape = array.shape();
    bool rowsMatch = shape.size() == spec.shape.size() &&
                     std::equal(shape.begin() + 1, shape.end(), spec.shape.begin() + 1);
    if (!rowsMatch) {
      error = label + " has shape " + shapeText(shape, 0) + "; the model expects rows of shape " +
              shapeText(spec.shape, 1) + ", i.e. an array of shape " +
              rowsShapeText(spec.shape);
      return DataError::Data;
    }
    if (s > 0 && shape[0] != data.rows) {
      error = label + " has " + std::to_string(shape[0]) + " rows but '" + data.paths[0] + "' has " +
              std::to_string(data.rows) + "; every " + flag + " file needs the same number of rows";
      return DataError::Data;
    }
    data.rows = shape[0];
    if (data.rows < minRows) {
      error = label + " has " + std::to_string(data.rows) + " rows, fewer than the " + std::to_string(minRows) +
              " of one batch; give at least " + std::to_string(minRows) + " rows";
      return DataError::Data;
    }
    if (spec.role == manifest::role::kLabel && manifest.loss == manifest::loss::kCrossEntropy &&
        !checkLabelRange(array, manifest.lossOutput()->shape.back(), label, error))
      return DataError::Data;
    if (std::string warning = nonFiniteReport(array, label); !warning.empty())
      warnings.push_back(std::move(warning));
    data.paths.push_back(file.path);
    data.arrays.push_back(std::move(array));
  }
  return DataError::None;
}

void gatherRows(const DataSet &data, size_t index, const std::vector<int64_t> &rows, HostArray &batch) {
  gatherRows(data, index, rows, batch.data());
}

void gatherRows(const DataSet &data, size_t index, const std::vector<int64_t> &rows, void *batch) {
  const HostArray &source = data.arrays[index];
  size_t rowBytes = data.rows ? source.sizeInBytes() / static_cast<size_t>(data.rows) : 0;
  auto *to = static_cast<char *>(batch);
  const auto *from = static_cast<const char *>(source.data());
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(to + i * rowBytes, from + static_cast<size_t>(rows[i]) * rowBytes, rowBytes);
}

} // namespace mpc::trainer
