//===- HostArray.cpp - dense host tensors and .npy files ------------------===//
//
// The .npy format: magic "\x93NUMPY", a version byte pair, a little-endian
// header length (2 bytes in 1.0, 4 in 2.0/3.0), then a Python dict literal
// with 'descr', 'fortran_order' and 'shape', padded so the data starts at a
// multiple of 64 bytes.
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/HostArray.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mpc::runtime {

size_t elementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
  case ElementKind::I64:
  case ElementKind::U64:
    return 8;
  case ElementKind::F32:
  case ElementKind::I32:
  case ElementKind::U32:
    return 4;
  case ElementKind::F16:
  case ElementKind::BF16:
  case ElementKind::I16:
  case ElementKind::U16:
    return 2;
  case ElementKind::F8E4M3FN:
  case ElementKind::F8E5M2:
  case ElementKind::I8:
  case ElementKind::U8:
  case ElementKind::Bool:
    return 1;
  }
  return 1;
}

std::string_view elementName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64: return "f64";
  case ElementKind::F32: return "f32";
  case ElementKind::F16: return "f16";
  case ElementKind::BF16: return "bf16";
  case ElementKind::F8E4M3FN: return "f8E4M3FN";
  case ElementKind::F8E5M2: return "f8E5M2";
  case ElementKind::I64: return "i64";
  case ElementKind::I32: return "i32";
  case ElementKind::I8: return "i8";
  case ElementKind::U8: return "ui8";
  case ElementKind::Bool: return "i1";
  case ElementKind::I16: return "i16";
  case ElementKind::U16: return "ui16";
  case ElementKind::U32: return "ui32";
  case ElementKind::U64: return "ui64";
  }
  return "?";
}

HostArray::HostArray(ElementKind kind, std::vector<int64_t> shape)
    : kind_(kind), shape_(std::move(shape)) {
  // aligned_alloc wants a multiple of the alignment, and never 0 bytes.
  size_t bytes = (std::max<size_t>(sizeInBytes(), 1) + 63) / 64 * 64;
  storage_.reset(std::aligned_alloc(64, bytes));
  std::memset(storage_.get(), 0, bytes);
}

int64_t HostArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);

bool fail(std::string &error, std::string_view source, const std::string &message) {
  error = "'" + std::string(source) + "': " + message;
  return false;
}

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  return s;
}

/// The text after `'key':` in the header dict (quotes may be ' or ").
std::optional<std::string_view> dictValue(std::string_view header, std::string_view key) {
  for (char quote : {'\'', '"'}) {
    std::string quoted = quote + std::string(key) + quote;
    size_t at = header.find(quoted);
    if (at == std::string_view::npos)
      continue;
    std::string_view rest = trimLeft(header.substr(at + quoted.size()));
    if (rest.empty() || rest.front() != ':')
      return std::nullopt;
    return trimLeft(rest.substr(1));
  }
  return std::nullopt;
}

struct DescrEntry {
  std::string_view type;
  ElementKind kind;
  std::string_view writtenAs;
};
// ml_dtypes saves bfloat16 as 'V2', float8_e4m3fn as 'V1' and float8_e5m2
// as 'f1'; numpy itself has none of the three.
constexpr DescrEntry kDescrs[] = {
    {"f8", ElementKind::F64, "<f8"},      {"f4", ElementKind::F32, "<f4"},
    {"f2", ElementKind::F16, "<f2"},      {"V2", ElementKind::BF16, "<V2"},
    {"V1", ElementKind::F8E4M3FN, "<V1"}, {"f1", ElementKind::F8E5M2, "<f1"},
    {"i8", ElementKind::I64, "<i8"},      {"i4", ElementKind::I32, "<i4"},
    {"i1", ElementKind::I8, "|i1"},       {"u1", ElementKind::U8, "|u1"},
    {"b1", ElementKind::Bool, "|b1"},     {"i2", ElementKind::I16, "<i2"},
    {"u2", ElementKind::U16, "<u2"},      {"u4", ElementKind::U32, "<u4"},
    {"u8", ElementKind::U64, "<u8"},
};

std::optional<ElementKind> kindFromDescr(std::string_view descr) {
  // '<' little endian, '|' byte order not applicable, '=' native (little on
  // every host we build for).
  if (descr.empty() || (descr.front() != '<' && descr.front() != '|' && descr.front() != '='))
    return std::nullopt;
  for (const DescrEntry &entry : kDescrs)
    if (entry.type == descr.substr(1))
      return entry.kind;
  return std::nullopt;
}

bool parseShape(std::string_view text, std::string_view source, std::vector<int64_t> &shape,
                std::string &error) {
  if (text.empty() || text.front() != '(')
    return fail(error, source, "the .npy header's 'shape' is not a tuple");
  size_t close = text.find(')');
  if (close == std::string_view::npos)
    return fail(error, source, "the .npy header's 'shape' tuple is not closed");
  std::string_view items = text.substr(1, close - 1);
  while (!items.empty()) {
    size_t comma = items.find(',');
    std::string_view item = trimLeft(items.substr(0, comma));
    items = comma == std::string_view::npos ? std::string_view() : items.substr(comma + 1);
    while (!item.empty() && (item.back() == ' ' || item.back() == 'L')) // 'L': Python 2 longs
      item.remove_suffix(1);
    if (item.empty())
      continue;
    int64_t dim = 0;
    for (char c : item) {
      if (c < '0' || c > '9' || dim > (INT64_MAX - 9) / 10)
        return fail(error, source, "the .npy header's shape has a bad dimension '" +
                                       std::string(item) + "'");
      dim = dim * 10 + (c - '0');
    }
    shape.push_back(dim);
  }
  return true;
}

} // namespace

bool parseNpy(std::string_view bytes, std::string_view source, HostArray &array, std::string &error) {
  if (bytes.substr(0, kMagic.size()) != kMagic)
    return fail(error, source, "not a .npy file (bad magic; expected \\x93NUMPY)");
  if (bytes.size() < kMagic.size() + 2)
    return fail(error, source, "truncated .npy header");
  unsigned major = static_cast<uint8_t>(bytes[kMagic.size()]);
  size_t lengthBytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
  if (!lengthBytes)
    return fail(error, source, "unsupported .npy format version " + std::to_string(major) +
                                   " (1, 2 and 3 are supported)");
  size_t prefix = kMagic.size() + 2 + lengthBytes;
  if (bytes.size() < prefix)
    return fail(error, source, "truncated .npy header");
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= static_cast<size_t>(static_cast<uint8_t>(bytes[kMagic.size() + 2 + i])) << (8 * i);
  if (bytes.size() - prefix < headerLength)
    return fail(error, source, "truncated .npy header");
  std::string_view header = bytes.substr(prefix, headerLength);

  std::optional<std::string_view> descr = dictValue(header, "descr");
  std::optional<std::string_view> fortran = dictValue(header, "fortran_order");
  std::optional<std::string_view> shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail(error, source, "the .npy header lacks 'descr', 'fortran_order' or 'shape'");
  if (fortran->substr(0, 4) == "True")
    return fail(error, source,
                "Fortran-order arrays are not supported; save it with "
                "np.save(path, np.ascontiguousarray(a))");
  char quote = descr->empty() ? 0 : descr->front();
  if (quote != '\'' && quote != '"')
    return fail(error, source, "structured dtypes are not supported");
  std::string_view descrText = descr->substr(1, descr->find(quote, 1) - 1);
  std::optional<ElementKind> kind = kindFromDescr(descrText);
  if (!kind)
    return fail(error, source,
                "unsupported dtype '" + std::string(descrText) +
                    "' (supported: little-endian f8 f4 f2 i8 i4 i1 u1 b1, and ml_dtypes "
                    "bfloat16 '<V2', float8_e4m3fn '<V1', float8_e5m2 '<f1')");
  std::vector<int64_t> shape;
  if (!parseShape(*shapeText, source, shape, error))
    return false;

  HostArray parsed(*kind, std::move(shape));
  std::string_view data = bytes.substr(prefix + headerLength);
  if (data.size() < parsed.sizeInBytes())
    return fail(error, source,
                "truncated data: the header promises " + std::to_string(parsed.sizeInBytes()) +
                    " bytes, the file holds " + std::to_string(data.size()));
  if (data.size() > parsed.sizeInBytes())
    return fail(error, source,
                std::to_string(data.size() - parsed.sizeInBytes()) +
                    " bytes follow the array data; not a single .npy array");
  std::memcpy(parsed.data(), data.data(), parsed.sizeInBytes());
  array = std::move(parsed);
  return true;
}

bool readNpy(const std::string &path, HostArray &array, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(error, path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    return fail(error, path, "read error");
  return parseNpy(contents.str(), path, array, error);
}

std::string serializeNpy(const HostArray &array) {
  std::string descr;
  for (const DescrEntry &entry : kDescrs)
    if (entry.kind == array.kind())
      descr = entry.writtenAs;
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape().size(); ++i)
    dict += (i ? ", " : "") + std::to_string(array.shape()[i]);
  dict += array.shape().size() == 1 ? ",), }" : "), }";
  // Pad with spaces so the data starts on a 64-byte boundary; newline last.
  auto paddedLength = [&](size_t prefix) { return (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix; };
  bool v1 = paddedLength(kMagic.size() + 4) <= 65535;
  size_t prefix = kMagic.size() + 2 + (v1 ? 2 : 4);
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');

  std::string out(kMagic);
  out.push_back(static_cast<char>(v1 ? 1 : 2));
  out.push_back(0);
  for (size_t i = 0; i < (v1 ? 2u : 4u); ++i)
    out.push_back(static_cast<char>((dict.size() >> (8 * i)) & 0xFF));
  out += dict;
  out.append(static_cast<const char *>(array.data()), array.sizeInBytes());
  return out;
}

bool writeNpy(const std::string &path, const HostArray &array, std::string &error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return fail(error, path, std::string("cannot create: ") + std::strerror(errno));
  std::string bytes = serializeNpy(array);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return fail(error, path, "write error (disk full?)");
  return true;
}

} // namespace mpc::runtime
