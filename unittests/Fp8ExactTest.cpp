//===- Fp8ExactTest.cpp - fp8 casts bit for bit against ml_dtypes ---------===//
//
// Both places that convert to and from fp8 must agree with the OCP FP8
// definition as ml_dtypes implements it: the cast folder (APFloat, on the
// host, deciding constants at compile time) and the compiled cast (integer bit
// arithmetic in NarrowFloats.cpp, run through the JIT). If they differed, a
// value would depend on whether its cast was folded. The reference file is
// written at build time by fp8_reference.py (all 256 codes, ties, subnormals,
// overflow, infinities, NaNs, random inputs).
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/InitAll.h"
#include "mpc/Target/CPU/Pipeline.h"
#include "mpc/Target/CPU/JitRunner.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace mlir;
using mpc::runtime::ElementKind;
using mpc::runtime::HostArray;

namespace {

/// The contents of fp8_reference.py's output.
struct Reference {
  std::vector<float> decode[2]; // [format][code]
  std::vector<float> inputs;
  std::vector<uint8_t> encode[2][2]; // [format][saturate][input]
};

bool readReference(const std::string &path, Reference &ref, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t at = 0;
  auto take = [&](void *out, size_t size) {
    if (bytes.size() - at < size)
      return false;
    std::memcpy(out, bytes.data() + at, size);
    at += size;
    return true;
  };
  char magic[8];
  uint32_t n = 0;
  if (!take(magic, 8) || std::memcmp(magic, "MPCFP8R1", 8) != 0 || !take(&n, 4)) {
    error = "'" + path + "' is not fp8_reference.py output (rebuild mpc-unittests)";
    return false;
  }
  bool ok = true;
  for (auto &decode : ref.decode) {
    decode.resize(256);
    ok = ok && take(decode.data(), 256 * sizeof(float));
  }
  ref.inputs.resize(n);
  ok = ok && take(ref.inputs.data(), n * sizeof(float));
  for (auto &format : ref.encode)
    for (auto &encode : format) {
      encode.resize(n);
      ok = ok && take(encode.data(), n);
    }
  if (!ok || at != bytes.size())
    error = "'" + path + "' is truncated or has trailing bytes (rebuild mpc-unittests)";
  return ok && at == bytes.size();
}

const char *kFormatNames[2] = {"f8E4M3FN", "f8E5M2"};
const ElementKind kFormatKinds[2] = {ElementKind::F8E4M3FN, ElementKind::F8E5M2};

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

std::string hex(uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

/// Reports at most a few mismatches in full, then their count.
class MismatchLog {
public:
  explicit MismatchLog(std::string what) : what_(std::move(what)) {}
  ~MismatchLog() { EXPECT_EQ(count_, 0u) << count_ << " mismatches in " << what_; }
  void add(const std::string &message) {
    if (count_++ < 10)
      ADD_FAILURE() << what_ << ": " << message;
  }

private:
  std::string what_;
  size_t count_ = 0;
};

class Fp8ExactTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    reference = new Reference;
    std::string error;
    if (!readReference(MPC_FP8_REFERENCE_FILE, *reference, error)) {
      loadError = new std::string(error);
      delete reference;
      reference = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete reference;
    delete loadError;
    reference = nullptr;
    loadError = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(reference) << *loadError;
    mpc::registerAllDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }

  Type fp8Type(int format) {
    return format == 0 ? Type(Float8E4M3FNType::get(context.get()))
                       : Type(Float8E5M2Type::get(context.get()));
  }

  /// Folds `mpc.cast` of the constant `input` to element type `to`.
  DenseElementsAttr foldCast(DenseElementsAttr input, Type to, bool saturate) {
    OpBuilder builder(context.get());
    OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    Location loc = builder.getUnknownLoc();
    Value constant = arith::ConstantOp::create(builder, loc, input);
    auto type = RankedTensorType::get(input.getType().getShape(), to);
    auto cast = mpc::CastOp::create(builder, loc, type, constant, saturate);
    SmallVector<OpFoldResult> results;
    if (failed(cast->fold(results)) || results.size() != 1)
      return {};
    return dyn_cast_if_present<DenseElementsAttr>(dyn_cast<Attribute>(results[0]));
  }

  /// JIT-compiles `func.func @main(x) { return mpc.cast x }` through the
  /// whole CPU pipeline and runs it on `input`.
  HostArray runCompiledCast(const HostArray &input, StringRef from, StringRef to, bool saturate) {
    std::string n = std::to_string(input.numElements());
    std::string source = "func.func @main(%x: tensor<" + n + "x" + from.str() +
                         "> {mpc.name = \"x\"}) -> (tensor<" + n + "x" + to.str() +
                         "> {mpc.name = \"y\"}) {\n  %y = mpc.cast %x {saturate = " +
                         (saturate ? "true" : "false") + "} : tensor<" + n + "x" + from.str() +
                         "> to tensor<" + n + "x" + to.str() + ">\n  return %y : tensor<" + n +
                         "x" + to.str() + ">\n}\n";
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, context.get());
    EXPECT_TRUE(module) << source;
    if (!module)
      return {};
    auto entry = module->lookupSymbol<func::FuncOp>("main");
    auto signature = mpc::runtime::readEntrySignature(entry);
    EXPECT_TRUE(bool(signature)) << llvm::toString(signature.takeError());
    if (!signature)
      return {};
    PassManager pm(context.get());
    mpc::buildLowerToLLVMPipeline(pm);
    EXPECT_TRUE(succeeded(pm.run(*module)));
    auto program = mpc::runtime::JitProgram::compile(*module, "main", *signature);
    EXPECT_TRUE(bool(program)) << llvm::toString(program.takeError());
    if (!program)
      return {};
    std::vector<HostArray> outputs;
    llvm::Error error = (*program)->run({&input}, outputs);
    EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
    return outputs.empty() ? HostArray() : std::move(outputs[0]);
  }

  HostArray inputArray() {
    HostArray array(ElementKind::F32, {int64_t(reference->inputs.size())});
    std::memcpy(array.data(), reference->inputs.data(), array.sizeInBytes());
    return array;
  }

  static std::string describeInput(float x) {
    std::ostringstream out;
    out.precision(9);
    out << x << " (" << hex(bitsOf(x)) << ")";
    return out.str();
  }

  static inline Reference *reference = nullptr;
  static inline std::string *loadError = nullptr;
  DialectRegistry registry;
  std::unique_ptr<MLIRContext> context;
};

TEST_F(Fp8ExactTest, ReferenceCoversTheCasesThatMatter) {
  const std::vector<float> &x = reference->inputs;
  EXPECT_GE(x.size(), 100000u);
  auto count = [&](auto predicate) { return std::count_if(x.begin(), x.end(), predicate); };
  EXPECT_GT(count([](float v) { return std::isnan(v); }), 10);
  EXPECT_GT(count([](float v) { return std::isinf(v) && v < 0; }), 0);
  EXPECT_GT(count([](float v) { return std::fpclassify(v) == FP_SUBNORMAL; }), 1000);
  // Exact ties between two E4M3FN values (1 + 1/16 lies between 1 and 1.125).
  EXPECT_GT(count([](float v) { return v == 1.0625f; }), 0);
  EXPECT_GT(count([](float v) { return v == 464.0f; }), 0);
}

TEST_F(Fp8ExactTest, FolderDecodesEveryCode) {
  for (int format = 0; format < 2; ++format) {
    MismatchLog log(std::string("folding ") + kFormatNames[format] + " -> f32");
    std::vector<char> codes(256);
    for (int code = 0; code < 256; ++code)
      codes[code] = char(code);
    auto type = RankedTensorType::get({256}, fp8Type(format));
    auto input = DenseElementsAttr::getFromRawBuffer(type, codes);
    DenseElementsAttr folded = foldCast(input, Float32Type::get(context.get()), /*saturate=*/true);
    ASSERT_TRUE(folded);
    auto values = folded.getValues<float>();
    for (int code = 0; code < 256; ++code) {
      float expected = reference->decode[format][code], actual = values[code];
      bool same = std::isnan(expected) ? std::isnan(actual) && std::signbit(actual) == std::signbit(expected)
                                       : bitsOf(actual) == bitsOf(expected);
      if (!same)
        log.add("code " + hex(code) + ": got " + hex(bitsOf(actual)) + ", ml_dtypes " +
                hex(bitsOf(expected)));
    }
  }
}

TEST_F(Fp8ExactTest, FolderEncodesTheSample) {
  const std::vector<float> &x = reference->inputs;
  auto type = RankedTensorType::get({int64_t(x.size())}, Float32Type::get(context.get()));
  auto input = DenseElementsAttr::get(type, llvm::ArrayRef<float>(x));
  for (int format = 0; format < 2; ++format)
    for (bool saturate : {false, true}) {
      MismatchLog log(std::string("folding f32 -> ") + kFormatNames[format] +
                      (saturate ? " (saturate)" : " (no saturation)"));
      DenseElementsAttr folded = foldCast(input, fp8Type(format), saturate);
      ASSERT_TRUE(folded);
      ArrayRef<char> raw = folded.getRawData();
      ASSERT_EQ(raw.size(), x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        uint8_t expected = reference->encode[format][saturate][i], actual = uint8_t(raw[i]);
        if (actual != expected)
          log.add(describeInput(x[i]) + ": got " + hex(actual) + ", ml_dtypes " + hex(expected));
      }
    }
}

TEST_F(Fp8ExactTest, CompiledCastDecodesEveryCode) {
  for (int format = 0; format < 2; ++format) {
    MismatchLog log(std::string("compiled ") + kFormatNames[format] + " -> f32");
    HostArray codes(kFormatKinds[format], {256});
    for (int code = 0; code < 256; ++code)
      codes.as<uint8_t>()[code] = uint8_t(code);
    HostArray decoded = runCompiledCast(codes, kFormatNames[format], "f32", /*saturate=*/true);
    ASSERT_EQ(decoded.numElements(), 256);
    for (int code = 0; code < 256; ++code) {
      float expected = reference->decode[format][code], actual = decoded.as<float>()[code];
      bool same = std::isnan(expected) ? std::isnan(actual) && std::signbit(actual) == std::signbit(expected)
                                       : bitsOf(actual) == bitsOf(expected);
      if (!same)
        log.add("code " + hex(code) + ": got " + hex(bitsOf(actual)) + ", ml_dtypes " +
                hex(bitsOf(expected)));
    }
  }
}

TEST_F(Fp8ExactTest, CompiledCastEncodesTheSample) {
  const std::vector<float> &x = reference->inputs;
  HostArray input = inputArray();
  for (int format = 0; format < 2; ++format)
    for (bool saturate : {false, true}) {
      MismatchLog log(std::string("compiled f32 -> ") + kFormatNames[format] +
                      (saturate ? " (saturate)" : " (no saturation)"));
      HostArray encoded = runCompiledCast(input, "f32", kFormatNames[format], saturate);
      ASSERT_EQ(encoded.numElements(), int64_t(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        uint8_t expected = reference->encode[format][saturate][i], actual = encoded.as<uint8_t>()[i];
        if (actual != expected)
          log.add(describeInput(x[i]) + ": got " + hex(actual) + ", ml_dtypes " + hex(expected));
      }
    }
}

} // namespace

// ml_dtypes and onnxruntime convert f64 to fp8 through f32 (rounding twice),
// and so does the compiled cast; the folder must give the same codes, not the
// once-rounded ones APFloat would give (1.0625 + 2^-40 is above the tie
// between 1 and 1.125, but its f32 rounding is the tie itself).
TEST_F(Fp8ExactTest, F64GoesThroughF32LikeMlDtypes) {
  std::vector<double> x = {1.0625 + std::ldexp(1.0, -40), 1.0625, 1.0625 - std::ldexp(1.0, -40),
                           1.1875 + std::ldexp(1.0, -40), 464.0 + std::ldexp(1.0, -30)};
  // ml_dtypes: np.array(x).astype(float8_e4m3fn), saturating the last one.
  std::vector<uint8_t> expected = {0x38, 0x38, 0x38, 0x3A, 0x7E};
  auto type = RankedTensorType::get({int64_t(x.size())}, Float64Type::get(context.get()));
  DenseElementsAttr folded =
      foldCast(DenseElementsAttr::get(type, llvm::ArrayRef<double>(x)), fp8Type(0), true);
  ASSERT_TRUE(folded);
  HostArray input(ElementKind::F64, {int64_t(x.size())});
  std::memcpy(input.data(), x.data(), input.sizeInBytes());
  HostArray compiled = runCompiledCast(input, "f64", "f8E4M3FN", true);
  ASSERT_EQ(compiled.numElements(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(uint8_t(folded.getRawData()[i]), expected[i]) << "folding " << x[i];
    EXPECT_EQ(compiled.as<uint8_t>()[i], expected[i]) << "compiled " << x[i];
  }
}
