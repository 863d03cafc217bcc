//===- Safetensors.cpp - checkpoints in the safetensors format ------------===//
#include "mpc/Trainer/Safetensors.h"

#include "mpc/Trainer/Json.h"

#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;
using runtime::HostArray;

std::optional<std::string_view> safetensorsDtype(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64: return "F64";
  case ElementKind::F32: return "F32";
  case ElementKind::F16: return "F16";
  case ElementKind::BF16: return "BF16";
  case ElementKind::F8E4M3FN: return "F8_E4M3";
  case ElementKind::F8E5M2: return "F8_E5M2";
  case ElementKind::I64: return "I64";
  case ElementKind::I32: return "I32";
  case ElementKind::I8: return "I8";
  case ElementKind::U8: return "U8";
  case ElementKind::Bool: return "BOOL";
  case ElementKind::I16: return "I16";
  case ElementKind::U16: return "U16";
  case ElementKind::U32: return "U32";
  case ElementKind::U64: return "U64";
  }
  return std::nullopt;
}

namespace {
std::optional<ElementKind> kindOfDtype(std::string_view dtype) {
  for (ElementKind kind : {ElementKind::F64, ElementKind::F32, ElementKind::F16, ElementKind::BF16,
                           ElementKind::F8E4M3FN, ElementKind::F8E5M2, ElementKind::I64,
                           ElementKind::I32, ElementKind::I8, ElementKind::U8, ElementKind::Bool,
                           ElementKind::I16, ElementKind::U16, ElementKind::U32, ElementKind::U64})
    if (safetensorsDtype(kind) == dtype)
      return kind;
  return std::nullopt;
}
} // namespace

std::string serializeSafetensors(const std::vector<std::pair<std::string, const HostArray *>> &tensors,
                                 const Metadata &metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json &meta = header.set("__metadata__", Json::object());
    for (const auto &[key, value] : metadata)
      meta.set(key, Json::string(value));
  }
  uint64_t offset = 0;
  for (const auto &[name, array] : tensors) {
    Json entry = Json::object();
    entry.set("dtype", Json::string(std::string(*safetensorsDtype(array->kind()))));
    Json &shape = entry.set("shape", Json::array());
    for (int64_t d : array->shape())
      shape.push(Json::integer(d));
    Json &offsets = entry.set("data_offsets", Json::array());
    offsets.push(Json::integer(static_cast<int64_t>(offset)));
    offset += array->sizeInBytes();
    offsets.push(Json::integer(static_cast<int64_t>(offset)));
    header.set(name, std::move(entry));
  }
  std::string text = writeJson(header);
  // Padding keeps every tensor 8-byte aligned in a mapped file.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  out += text;
  for (const auto &[name, array] : tensors)
    out.append(static_cast<const char *>(array->data()), array->sizeInBytes());
  return out;
}

namespace {
bool readEntry(const std::string &name, const Json &entry, std::string_view data, std::string_view source,
               NamedArray &out, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "'" + std::string(source) + "' is not a valid safetensors file: tensor '" + name + "' " + what;
    return false;
  };
  const Json *dtype = entry.find("dtype"), *shape = entry.find("shape"),
             *offsets = entry.find("data_offsets");
  if (!entry.isObject() || !dtype || !dtype->isString() || !shape || !shape->isArray() || !offsets ||
      !offsets->isArray() || offsets->items().size() != 2)
    return fail("lacks dtype, shape or data_offsets");
  std::optional<ElementKind> kind = kindOfDtype(dtype->asString());
  if (!kind)
    return fail("has unsupported dtype '" + dtype->asString() + "'");
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (const Json &d : shape->items()) {
    if (!d.isInteger() || d.asInteger() < 0 || d.asInteger() > (int64_t{1} << 40))
      return fail("has a bad dimension");
    dims.push_back(d.asInteger());
    count *= d.asInteger();
    if (count > (int64_t{1} << 40))
      return fail("is too large");
  }
  const Json &begin = offsets->items()[0], &end = offsets->items()[1];
  if (!begin.isInteger() || !end.isInteger() || begin.asInteger() < 0 ||
      end.asInteger() < begin.asInteger() || static_cast<uint64_t>(end.asInteger()) > data.size())
    return fail("has data_offsets outside the file");
  uint64_t bytes = static_cast<uint64_t>(end.asInteger() - begin.asInteger());
  if (bytes != static_cast<uint64_t>(count) * runtime::elementSize(*kind))
    return fail("has data_offsets that do not match its dtype and shape");
  out.name = name;
  out.array = HostArray(*kind, dims);
  if (bytes)
    std::memcpy(out.array.data(), data.data() + begin.asInteger(), bytes);
  return true;
}
} // namespace

bool parseSafetensors(std::string_view bytes, std::string_view source, std::vector<NamedArray> &tensors,
                      Metadata &metadata, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "'" + std::string(source) + "' is not a valid safetensors file: " + what;
    return false;
  };
  if (bytes.size() < 8)
    return fail("it is shorter than the 8-byte header length");
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i)
    length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (length > bytes.size() - 8)
    return fail("its header length " + std::to_string(length) + " runs past the end of the file");
  Json header;
  std::string jsonError;
  if (!parseJson(bytes.substr(8, length), header, jsonError))
    return fail("its header is not JSON (" + jsonError + ")");
  if (!header.isObject())
    return fail("its header is not a JSON object");
  std::string_view data = bytes.substr(8 + length);
  tensors.clear();
  metadata.clear();
  for (const auto &[name, entry] : header.members()) {
    if (name == "__metadata__") {
      if (!entry.isObject())
        return fail("__metadata__ is not an object");
      for (const auto &[key, value] : entry.members()) {
        if (!value.isString())
          return fail("__metadata__ value '" + key + "' is not a string");
        metadata.emplace_back(key, value.asString());
      }
      continue;
    }
    tensors.emplace_back();
    if (!readEntry(name, entry, data, source, tensors.back(), error))
      return false;
  }
  return true;
}

} // namespace mpc::trainer
