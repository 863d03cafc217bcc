//===- HostArray.h - dense host tensors and .npy files ----------*- C++ -*-===//
//
// Plain C++ (no LLVM or MLIR): compiled executables link this and must not
// need LLVM's shared libraries at run time.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_HOSTARRAY_H
#define MPC_RUNTIME_HOSTARRAY_H

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpc::runtime {

/// Element types a host array can hold (the dialect's tensor element types).
enum class ElementKind : uint8_t {
  F64, F32, F16, BF16, F8E4M3FN, F8E5M2, I64, I32, I8, U8, Bool, I16, U16, U32, U64
};

/// Bytes per element.
size_t elementSize(ElementKind kind);
/// Short name as MLIR spells it ("f32", "bf16", "i1", ...).
std::string_view elementName(ElementKind kind);

/// A dense, row-major, little-endian tensor with 64-byte aligned storage.
class HostArray {
public:
  HostArray() = default;
  HostArray(ElementKind kind, std::vector<int64_t> shape);

  ElementKind kind() const { return kind_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t numElements() const;
  size_t sizeInBytes() const { return static_cast<size_t>(numElements()) * elementSize(kind_); }
  void *data() { return storage_.get(); }
  const void *data() const { return storage_.get(); }
  template <typename T> T *as() { return static_cast<T *>(data()); }
  template <typename T> const T *as() const { return static_cast<const T *>(data()); }

private:
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  ElementKind kind_ = ElementKind::F32;
  std::vector<int64_t> shape_;
  std::unique_ptr<void, Free> storage_;
};

/// Parses the bytes of a .npy file (format 1.0, 2.0 or 3.0; C order; little
/// endian or byte-order-free dtypes). `source` names the file in errors.
/// bf16 is read from ml_dtypes' '<V2' and f8E4M3FN from its '<V1'. On
/// failure returns false and sets `error` to a sentence naming `source`.
bool parseNpy(std::string_view bytes, std::string_view source, HostArray &array, std::string &error);
bool readNpy(const std::string &path, HostArray &array, std::string &error);

/// Serializes as format 1.0 (2.0 when the header needs it).
std::string serializeNpy(const HostArray &array);
bool writeNpy(const std::string &path, const HostArray &array, std::string &error);

} // namespace mpc::runtime

#endif // MPC_RUNTIME_HOSTARRAY_H
