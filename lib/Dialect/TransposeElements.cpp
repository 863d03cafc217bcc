//===- TransposeElements.cpp - permute constant data at compile time ------===//
#include "mpc/Dialect/TransposeElements.h"

#include <cstring>
#include <vector>

using namespace mlir;

std::optional<DenseElementsAttr> mpc::transposeElements(DenseElementsAttr value, RankedTensorType resultType,
                                                       ArrayRef<int64_t> perm) {
  if (value.getNumElements() == 0)
    return std::nullopt; // nothing to move, nothing to save
  if (value.isSplat())
    return value.resizeSplat(resultType);
  Type element = value.getElementType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
    return std::nullopt;
  const size_t width = element.getIntOrFloatBitWidth() / 8;
  ArrayRef<char> raw = value.getRawData();
  ArrayRef<int64_t> inShape = value.getType().getShape();
  const int64_t rank = static_cast<int64_t>(inShape.size());
  const int64_t count = value.getNumElements();
  if (raw.size() != static_cast<size_t>(count) * width)
    return std::nullopt;
  // Input strides (in elements) seen along the result's dimensions.
  SmallVector<int64_t> inStrides(rank, 1), strides(rank);
  for (int64_t d = rank - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * inShape[d + 1];
  for (int64_t d = 0; d < rank; ++d)
    strides[d] = inStrides[perm[d]];
  ArrayRef<int64_t> outShape = resultType.getShape();
  std::vector<char> out(raw.size());
  SmallVector<int64_t> index(rank, 0);
  int64_t source = 0;
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(out.data() + i * width, raw.data() + source * width, width);
    // Advance the result index like an odometer, innermost dimension first.
    for (int64_t d = rank - 1; d >= 0; --d) {
      source += strides[d];
      if (++index[d] < outShape[d])
        break;
      source -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
  return DenseElementsAttr::getFromRawBuffer(resultType, out);
}
