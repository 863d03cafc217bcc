//===- NpyTest.cpp - .npy reading and writing -----------------------------===//
#include "mpc/Runtime/HostArray.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mpc::runtime;

namespace {
/// A .npy file with the given header dict (padded to 64 bytes) and data.
std::string npyBytes(const std::string &dict, const std::string &data, int major = 1) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header.push_back(' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string data(values.size() * 4, '\0');
  std::memcpy(data.data(), values.begin(), data.size());
  return data;
}

HostArray parseOk(const std::string &bytes) {
  HostArray array;
  std::string error;
  EXPECT_TRUE(parseNpy(bytes, "test.npy", array, error)) << error;
  return array;
}

std::string parseError(const std::string &bytes) {
  HostArray array;
  std::string error;
  EXPECT_FALSE(parseNpy(bytes, "bad.npy", array, error));
  EXPECT_NE(error.find("'bad.npy'"), std::string::npos) << error;
  return error;
}
} // namespace

TEST(Npy, ReadsVersion1Float32) {
  HostArray a = parseOk(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                 floats({1, 2, 3, 4})));
  EXPECT_EQ(a.kind(), ElementKind::F32);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.as<float>()[3], 4.0f);
}

TEST(Npy, ReadsVersions2And3AndScalars) {
  HostArray v2 = parseOk(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                  floats({7}), 2));
  EXPECT_TRUE(v2.shape().empty());
  EXPECT_EQ(v2.numElements(), 1);
  EXPECT_EQ(v2.as<float>()[0], 7.0f);
  HostArray v3 = parseOk(npyBytes("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,), }",
                                  floats({5}), 3));
  EXPECT_EQ(v3.shape(), (std::vector<int64_t>{1}));
}

TEST(Npy, MapsEveryDtype) {
  struct Case {
    const char *descr;
    ElementKind kind;
    size_t size;
  } cases[] = {{"<f8", ElementKind::F64, 8}, {"<f4", ElementKind::F32, 4},
               {"<f2", ElementKind::F16, 2}, {"<V2", ElementKind::BF16, 2},
               {"<V1", ElementKind::F8E4M3FN, 1}, {"<f1", ElementKind::F8E5M2, 1},
               {"<i8", ElementKind::I64, 8}, {"<i4", ElementKind::I32, 4},
               {"|i1", ElementKind::I8, 1}, {"|u1", ElementKind::U8, 1},
               {"|b1", ElementKind::Bool, 1}, {"<i2", ElementKind::I16, 2},
               {"<u2", ElementKind::U16, 2}, {"<u4", ElementKind::U32, 4},
               {"<u8", ElementKind::U64, 8}};
  for (const Case &c : cases) {
    std::string dict = std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (3,), }";
    HostArray a = parseOk(npyBytes(dict, std::string(3 * c.size, '\1')));
    EXPECT_EQ(a.kind(), c.kind) << c.descr;
    EXPECT_EQ(elementSize(a.kind()), c.size) << c.descr;
  }
}

TEST(Npy, RoundTripsThroughSerialize) {
  HostArray a(ElementKind::I64, {2, 3});
  for (int i = 0; i < 6; ++i)
    a.as<int64_t>()[i] = i - 3;
  std::string bytes = serializeNpy(a);
  EXPECT_EQ((bytes.find("\n") + 1) % 64, 0u) << "data must start on a 64-byte boundary";
  HostArray b = parseOk(bytes);
  EXPECT_EQ(b.kind(), ElementKind::I64);
  EXPECT_EQ(b.shape(), a.shape());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.sizeInBytes()), 0);

  HostArray one(ElementKind::BF16, {4});
  EXPECT_NE(serializeNpy(one).find("'descr': '<V2'"), std::string::npos);
  EXPECT_NE(serializeNpy(one).find("'shape': (4,)"), std::string::npos);
  HostArray scalar(ElementKind::F32, {});
  EXPECT_NE(serializeNpy(scalar).find("'shape': ()"), std::string::npos);
}

TEST(Npy, RejectsBadFilesWithClearErrors) {
  EXPECT_NE(parseError("PK\3\4 not numpy").find("bad magic"), std::string::npos);
  EXPECT_NE(parseError(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                                floats({1, 2})))
                .find("Fortran"),
            std::string::npos);
  EXPECT_NE(parseError(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                                floats({1, 2})))
                .find("truncated data"),
            std::string::npos);
  EXPECT_NE(parseError(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                                floats({1})))
                .find("unsupported dtype '>f4'"),
            std::string::npos);
  EXPECT_NE(parseError(npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                                std::string(8, '\0')))
                .find("unsupported dtype '<c8'"),
            std::string::npos);
  EXPECT_NE(parseError(std::string("\x93NUMPY\1\0\x40", 9)).find("truncated"), std::string::npos);
  EXPECT_NE(parseError(std::string("\x93NUMPY\7\0\0\0", 10)).find("version 7"), std::string::npos);
}

TEST(Npy, ReadFileNamesTheMissingFile) {
  HostArray a;
  std::string error;
  EXPECT_FALSE(readNpy("/nonexistent/x.npy", a, error));
  EXPECT_NE(error.find("/nonexistent/x.npy"), std::string::npos);
}
