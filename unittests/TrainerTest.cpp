//===- TrainerTest.cpp - the trainer runtime's pieces ---------------------===//
#include "mpc/Runtime/PackedCall.h"
#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Trainer/BatchOrder.h"
#include "mpc/Trainer/EvalMetrics.h"
#include "mpc/Trainer/Json.h"
#include "mpc/Trainer/Manifest.h"
#include "mpc/Trainer/OnnxWriter.h"
#include "mpc/Trainer/Safetensors.h"
#include "mpc/Trainer/StateSchema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

using namespace mpc::trainer;
using mpc::runtime::ElementKind;
using mpc::runtime::HostArray;

namespace {

TEST(TrainerJson, RoundTripsEveryKind) {
  std::string text = R"({"a":[1,-2.5,true,false,null],"b":{"c":"q\"\\\n\u00e9"},"d":12345678901234,"e":[]})";
  Json value;
  std::string error;
  ASSERT_TRUE(parseJson(text, value, error)) << error;
  EXPECT_EQ(writeJson(value), R"({"a":[1,-2.5,true,false,null],"b":{"c":"q\"\\\né"},"d":12345678901234,"e":[]})");
  EXPECT_EQ(value.find("d")->asInteger(), 12345678901234);
  EXPECT_TRUE(value.find("a")->items()[0].isInteger());
  EXPECT_FALSE(value.find("a")->items()[1].isInteger());
  EXPECT_EQ(value.find("b")->find("c")->asString(), "q\"\\\n\xc3\xa9");
  EXPECT_EQ(value.find("missing"), nullptr);
}

TEST(TrainerJson, WritesShortestNumbersAndNullForNonFinite) {
  Json line = Json::object();
  line.set("single", Json::single(1.1f));
  line.set("double", Json::number(0.1));
  line.set("nan", Json::number(NAN));
  line.set("inf", Json::single(INFINITY));
  EXPECT_EQ(writeJson(line), R"({"single":1.1,"double":0.1,"nan":null,"inf":null})");
  // 1.1f as a double is 1.100000023841858: only the float form is short.
  EXPECT_EQ(writeJson(Json::number(1.1f)), "1.100000023841858");
}

TEST(TrainerJson, RejectsMalformedInput) {
  for (const char *bad : {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "-", "\"abc",
                          "\"\\x\"", "\"\\ud800\"", "tru", "[1] 2", "{1:2}", "\"a\nb\""}) {
    Json value;
    std::string error;
    EXPECT_FALSE(parseJson(bad, value, error)) << bad;
    EXPECT_NE(error.find("malformed JSON at byte"), std::string::npos) << bad;
  }
  // Deep nesting is an error, not a stack overflow.
  Json value;
  std::string error;
  EXPECT_FALSE(parseJson(std::string(100000, '['), value, error));
  EXPECT_NE(error.find("nested more than 200 deep"), std::string::npos);
}

HostArray iota(ElementKind kind, std::vector<int64_t> shape) {
  HostArray array(kind, std::move(shape));
  auto *bytes = static_cast<unsigned char *>(array.data());
  for (size_t i = 0; i < array.sizeInBytes(); ++i)
    bytes[i] = static_cast<unsigned char>(i * 7 + 1);
  return array;
}

TEST(TrainerSafetensors, RoundTripsTensorsAndMetadata) {
  HostArray w = iota(ElementKind::F32, {2, 3}), step = iota(ElementKind::I64, {}),
            h = iota(ElementKind::BF16, {5}), flag = iota(ElementKind::Bool, {1});
  std::string bytes = serializeSafetensors({{"w", &w}, {"step", &step}, {"h", &h}, {"flag", &flag}},
                                           {{"step", "7"}, {"seed", "3"}});
  uint64_t length;
  std::memcpy(&length, bytes.data(), 8);
  EXPECT_EQ(length % 8, 0u);
  EXPECT_EQ(bytes.substr(8, 47), R"({"__metadata__":{"step":"7","seed":"3"},"w":{"d)");
  std::vector<NamedArray> tensors;
  Metadata metadata;
  std::string error;
  ASSERT_TRUE(parseSafetensors(bytes, "ck", tensors, metadata, error)) << error;
  ASSERT_EQ(tensors.size(), 4u);
  EXPECT_EQ(metadata, (Metadata{{"step", "7"}, {"seed", "3"}}));
  const HostArray *originals[] = {&w, &step, &h, &flag};
  const char *names[] = {"w", "step", "h", "flag"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(tensors[i].name, names[i]);
    EXPECT_EQ(tensors[i].array.kind(), originals[i]->kind());
    EXPECT_EQ(tensors[i].array.shape(), originals[i]->shape());
    EXPECT_EQ(std::memcmp(tensors[i].array.data(), originals[i]->data(), originals[i]->sizeInBytes()), 0);
  }
}

TEST(TrainerSafetensors, RejectsCorruptFiles) {
  HostArray w = iota(ElementKind::F32, {2, 3});
  std::string good = serializeSafetensors({{"w", &w}}, {});
  auto expectError = [](const std::string &bytes, const std::string &message) {
    std::vector<NamedArray> tensors;
    Metadata metadata;
    std::string error;
    EXPECT_FALSE(parseSafetensors(bytes, "ck.st", tensors, metadata, error)) << message;
    EXPECT_NE(error.find("'ck.st' is not a valid safetensors file"), std::string::npos) << error;
    EXPECT_NE(error.find(message), std::string::npos) << error;
  };
  expectError(good.substr(0, 5), "shorter than the 8-byte header length");
  expectError(good.substr(0, 20), "runs past the end of the file");
  expectError(good.substr(0, good.size() - 4), "data_offsets outside the file");
  std::string badJson = good;
  badJson[8] = '[';
  expectError(badJson, "header is not JSON");
  auto withHeader = [](const std::string &header) {
    std::string bytes(8, '\0');
    uint64_t length = header.size();
    std::memcpy(bytes.data(), &length, 8);
    return bytes + header + std::string(64, '\0');
  };
  expectError(withHeader(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})"),
              "do not match its dtype and shape");
  expectError(withHeader(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})"), "unsupported dtype 'Q7'");
  expectError(withHeader(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), "bad dimension");
  expectError(withHeader(R"({"w":{"dtype":"F32","shape":[1]}})"), "lacks dtype, shape or data_offsets");
  expectError(withHeader(R"({"__metadata__":{"step":7}})"), "'step' is not a string");
}

TEST(TrainerOnnxWriter, EncodesATensorProtoAsOnnxDoes) {
  // onnx.TensorProto(dims=[2, 300], data_type=1, name="w", raw_data=b"\1\2\3")
  // .SerializeToString() in Python.
  std::string expected("\x08\x02\x08\xac\x02\x10\x01\x42\x01\x77\x4a\x03\x01\x02\x03", 15);
  EXPECT_EQ(encodeTensorProto("w", 1, {2, 300}, std::string("\x01\x02\x03", 3)), expected);
  std::string varint;
  appendVarint(varint, 1ull << 63);
  EXPECT_EQ(varint, std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10));
}

TEST(TrainerOnnxWriter, NarrowsF32StateToTheModelsType) {
  HostArray w(ElementKind::F32, {2});
  w.as<float>()[0] = 1.0f;
  w.as<float>()[1] = -2.0f;
  std::string raw, error;
  ASSERT_TRUE(onnxRawData(w, 10, "w", raw, error)) << error; // float16
  EXPECT_EQ(raw, std::string("\x00\x3c\x00\xc0", 4));
  ASSERT_TRUE(onnxRawData(w, 16, "w", raw, error)) << error; // bfloat16
  EXPECT_EQ(raw, std::string("\x80\x3f\x00\xc0", 4));
  EXPECT_FALSE(onnxRawData(w, 7, "w", raw, error)); // int64
  EXPECT_NE(error.find("cannot write the trained 'w' (f32) as ONNX data type 7"), std::string::npos);
}

TEST(TrainerBatchOrder, IsADeterministicPermutationPerSeedAndEpoch) {
  std::vector<int64_t> a = epochOrder(1000, 42, 0, true);
  EXPECT_EQ(a, epochOrder(1000, 42, 0, true));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(a, identity);
  EXPECT_NE(a, epochOrder(1000, 42, 1, true));
  EXPECT_NE(a, epochOrder(1000, 43, 0, true));
  EXPECT_EQ(epochOrder(1000, 42, 5, false), identity);
  // Pinned to a separate Python implementation of the algorithm in
  // docs/trainer.md, so that a change of generator (which would break
  // resuming old checkpoints bit-identically) shows up here.
  EXPECT_EQ(epochOrder(5, 0, 0, true), (std::vector<int64_t>{0, 4, 1, 2, 3}));
  EXPECT_EQ(epochOrder(10, 7, 1, true), (std::vector<int64_t>{3, 4, 5, 7, 6, 9, 0, 2, 8, 1}));
}

TEST(TrainerBatchOrder, StepsTakeWholeBatchesAndDropTheRemainder) {
  BatchOrder order(10, 3, 7, true);
  EXPECT_EQ(order.stepsPerEpoch(), 3);
  std::vector<int64_t> epoch0 = epochOrder(10, 7, 0, true), epoch1 = epochOrder(10, 7, 1, true);
  EXPECT_EQ(order.rowsOfStep(1), std::vector<int64_t>(epoch0.begin() + 3, epoch0.begin() + 6));
  EXPECT_EQ(order.rowsOfStep(3), std::vector<int64_t>(epoch1.begin(), epoch1.begin() + 3));
  // A step's rows do not depend on which steps ran before (resume).
  BatchOrder fresh(10, 3, 7, true);
  EXPECT_EQ(fresh.rowsOfStep(3), std::vector<int64_t>(epoch1.begin(), epoch1.begin() + 3));
}

TEST(TrainerPackedCall, LaysOutDenseRowMajorDescriptors) {
  float data[24];
  std::vector<int64_t> d = mpc::runtime::denseDescriptor(data, {2, 3, 4});
  auto address = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  EXPECT_EQ(d, (std::vector<int64_t>{address, address, 0, 2, 3, 4, 12, 4, 1}));
  EXPECT_EQ(mpc::runtime::denseDescriptor(data, {}), (std::vector<int64_t>{address, address, 0}));
}

// Stands in for compiled code: args[i] points to a pointer to descriptor i.
int64_t seen[2][5];
void recordDescriptors(void **args) {
  for (int i = 0; i < 2; ++i)
    std::memcpy(seen[i], *static_cast<int64_t **>(args[i]), sizeof(seen[i]));
}

TEST(TrainerPackedCall, PassesPointersToDescriptorPointers) {
  float a[6], b[6], c[6];
  mpc::runtime::PackedCall call;
  call.add(a, {6});
  call.add(b, {2, 3}); // the descriptor of rank 2 is longer than seen[1] records
  call.call(recordDescriptors);
  EXPECT_EQ(seen[0][1], static_cast<int64_t>(reinterpret_cast<intptr_t>(a)));
  EXPECT_EQ(seen[0][3], 6);
  EXPECT_EQ(seen[1][3], 2);
  EXPECT_EQ(seen[1][4], 3);
  call.rebind(0, c);
  call.call(recordDescriptors);
  EXPECT_EQ(seen[0][0], static_cast<int64_t>(reinterpret_cast<intptr_t>(c)));
  EXPECT_EQ(seen[0][1], static_cast<int64_t>(reinterpret_cast<intptr_t>(c)));
}

TEST(TrainerManifest, RejectsBrokenContracts) {
  auto parse = [](const std::string &text, std::string &error) {
    Manifest manifest;
    return parseManifest(text, 100, manifest, error);
  };
  std::string base = R"({"format":1,"batch":2,"loss":"mse","label":"t","train":{"symbol":"s","args":[
      {"name":"w","role":"param","dtype":"f32","shape":[3],"init":{"offset":0,"bytes":12}},
      {"name":"x","role":"input","dtype":"f32","shape":[2,3]},
      {"name":"t","role":"label","dtype":"f32","shape":[2]}],
    "results":[{"name":"w","role":"param","dtype":"f32","shape":[3]},
      {"name":"loss","role":"loss","dtype":"f32","shape":[]},
      {"name":"finite","role":"finite","dtype":"i1","shape":[]},
      {"name":"y","role":"output","dtype":"f32","shape":[2]}]}})";
  std::string error;
  EXPECT_TRUE(parse(base, error)) << error;
  auto expectError = [&](std::string from, std::string to, const std::string &message) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    EXPECT_FALSE(parse(text, error)) << message;
    EXPECT_NE(error.find(message), std::string::npos) << error;
  };
  expectError(R"("bytes":12)", R"("bytes":200)", "lies outside the blob of 100 bytes");
  expectError(R"("bytes":12)", R"("bytes":8)", "does not hold 3 elements of f32");
  expectError(R"("shape":[2,3])", R"("shape":[4,3])", "does not have the batch size 2");
  expectError(R"({"name":"w","role":"param","dtype":"f32","shape":[3]},)", "",
              "state argument 'w' has no result of the same name");
  expectError(R"("label":"t")", R"("label":"x")", "names no train argument with role 'label'");
  expectError(R"("dtype":"i1")", R"("dtype":"i8")", "no rank-0 i1 result with role 'finite'");
  expectError(R"("loss":"mse")", R"("loss":"l1")", "is 'l1', not cross_entropy or mse");
  expectError(R"("format":1)", R"("format":2)", "this trainer reads 1");
  expectError(R"("loss":"mse")", R"("loss":"cross_entropy")", "must be i64 shaped like the logits 'y'");
  expectError(R"("name":"t","role":"label","dtype":"f32","shape":[2])",
              R"("name":"t","role":"label","dtype":"f32","shape":[2,1])", "must be a float tensor of the shape");
  expectError(R"("role":"input")", R"("role":"inptu")", "has unknown role 'inptu'");
  expectError(R"("dtype":"f32","shape":[2,3])", R"("dtype":"f31","shape":[2,3])", "no known element type: 'f31'");
}

namespace {
// A train manifest with two state tensors, `w` (param) and `w.m` (opt).
const char kSchemaManifest[] = R"({"format":1,"target":"cpu","model":"m.onnx","batch":2,
  "precision":"fp32","loss":"mse","label":"t",
  "optimizer":{"name":"sgd","lr":0.10000000000000001,"momentum":0.9,"nesterov":false,"weight_decay":0},
  "loss_scale":{"mode":"none"},
  "train":{"symbol":"mpc_train_step","args":[
      {"name":"w","role":"param","dtype":"f32","shape":[3],"init":{"offset":0,"bytes":12}},
      {"name":"w.m","role":"opt","dtype":"f32","shape":[3],"fill":0},
      {"name":"x","role":"input","dtype":"f32","shape":[2,3]},
      {"name":"t","role":"label","dtype":"f32","shape":[2]}],
    "results":[{"name":"w","role":"param","dtype":"f32","shape":[3]},
      {"name":"w.m","role":"opt","dtype":"f32","shape":[3]},
      {"name":"loss","role":"loss","dtype":"f32","shape":[]},
      {"name":"finite","role":"finite","dtype":"i1","shape":[]},
      {"name":"y","role":"output","dtype":"f32","shape":[2]}]}})";

// `text` with every `from` replaced by `to` (which must occur).
std::string replaced(std::string text, const std::string &from, const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  for (; at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

Manifest parsedManifest(const std::string &text) {
  Manifest manifest;
  std::string error;
  EXPECT_TRUE(parseManifest(text, 100, manifest, error)) << error;
  return manifest;
}
} // namespace

TEST(TrainerStateSchema, ListsEveryTensorByNameAndTheTrainingSettings) {
  EXPECT_EQ(stateSchema(parsedManifest(kSchemaManifest)),
            R"({"batch":2,"precision":"fp32","loss":"mse","label":"t","output":"y",)"
            R"("optimizer":{"lr":0.1,"momentum":0.9,"name":"sgd","nesterov":false,"weight_decay":0},)"
            R"("loss_scale":{"mode":"none"},"data":{"t":"label f32 [2]","x":"input f32 [2,3]"},)"
            R"("state":{"w":"param f32 [3]","w.m":"opt f32 [3]"}})");
}

TEST(TrainerStateSchema, IgnoresWhatDiffersBetweenTargets) {
  Manifest cpu = parsedManifest(kSchemaManifest);
  std::string schema = stateSchema(cpu);
  // Another target, symbol, model path, initial value and argument order:
  // the manifest's fingerprint changes, the state schema does not.
  std::string other = replaced(kSchemaManifest, R"("target":"cpu")", R"("target":"cuda")");
  other = replaced(other, R"("symbol":"mpc_train_step")", R"("symbol":"train")");
  other = replaced(other, R"("model":"m.onnx")", R"("model":"/models/m.onnx")");
  other = replaced(other, R"("fill":0)", R"("fill":1)");
  other = replaced(other, R"("momentum":0.9,"nesterov":false)",
                   R"("nesterov":false,"momentum":0.9)");
  std::string w =
      R"({"name":"w","role":"param","dtype":"f32","shape":[3],"init":{"offset":0,"bytes":12}},)";
  other = replaced(other, w, "");
  other = replaced(other, R"({"name":"x")", w + R"({"name":"x")");
  Manifest cuda = parsedManifest(other);
  EXPECT_NE(cpu.fingerprint, cuda.fingerprint);
  EXPECT_EQ(cuda.target, "cuda");
  EXPECT_EQ(stateSchema(cuda), schema);
  EXPECT_EQ(stateSchemaDifference(stateSchema(cuda), schema), "");
}

TEST(TrainerStateSchema, NamesTheFirstDifference) {
  std::string schema = stateSchema(parsedManifest(kSchemaManifest));
  auto differenceAfter = [&](const std::string &from, const std::string &to,
                             const std::string &from2 = "", const std::string &to2 = "") {
    std::string text = replaced(kSchemaManifest, from, to);
    if (!from2.empty())
      text = replaced(text, from2, to2);
    std::string other = stateSchema(parsedManifest(text));
    EXPECT_NE(other, schema) << to;
    return stateSchemaDifference(other, schema);
  };
  EXPECT_EQ(differenceAfter(R"("name":"w","role":"param","dtype":"f32","shape":[3])",
                            R"("name":"w","role":"param","dtype":"f32","shape":[4])",
                            R"("bytes":12)", R"("bytes":16)"),
            "state tensor 'w' is param f32 [4] in the checkpoint, param f32 [3] in this trainer");
  EXPECT_EQ(differenceAfter(R"("name":"w.m","role":"opt","dtype":"f32")",
                            R"("name":"w.m","role":"opt","dtype":"bf16")"),
            "state tensor 'w.m' is opt bf16 [3] in the checkpoint, opt f32 [3] in this trainer");
  EXPECT_EQ(differenceAfter(R"("name":"w.m","role":"opt")", R"("name":"w.m","role":"buffer")"),
            "state tensor 'w.m' is buffer f32 [3] in the checkpoint, opt f32 [3] in this trainer");
  EXPECT_EQ(differenceAfter(R"("name":"w.m")", R"("name":"w.v")"),
            "the checkpoint lacks this trainer's state tensor 'w.m' (opt f32 [3])");
  EXPECT_EQ(differenceAfter(R"("name":"x")", R"("name":"ids")"),
            "the checkpoint lacks this trainer's batch argument 'x' (input f32 [2,3])");
  EXPECT_EQ(differenceAfter(R"("lr":0.10000000000000001)", R"("lr":0.01)"),
            R"(the checkpoint was written with optimizer {"lr":0.01,"momentum":0.9,"name":"sgd",)"
            R"("nesterov":false,"weight_decay":0}, this trainer has {"lr":0.1,"momentum":0.9,)"
            R"("name":"sgd","nesterov":false,"weight_decay":0})");
  EXPECT_EQ(differenceAfter(R"("precision":"fp32")", R"("precision":"bf16")"),
            "the checkpoint was written with precision bf16, this trainer has fp32");
  EXPECT_EQ(differenceAfter(R"("loss_scale":{"mode":"none"})",
                            R"("loss_scale":{"mode":"static","scale":128})"),
            R"(the checkpoint was written with loss_scale {"mode":"static","scale":128}, this trainer )"
            R"(has {"mode":"none"})");
  // A state tensor only the checkpoint has.
  std::string extra = stateSchema(parsedManifest(kSchemaManifest));
  extra.insert(extra.find(R"("w":)"), R"("a":"buffer f32 [1]",)");
  EXPECT_EQ(stateSchemaDifference(extra, schema),
            "the checkpoint has state tensor 'a' (buffer f32 [1]), which this trainer lacks");
  EXPECT_EQ(stateSchemaDifference("{", schema), "its state_schema is not a JSON object");
}

TEST(TrainerStateSchema, BatchSizeAndOptimizerAreChecked) {
  std::string schema = stateSchema(parsedManifest(kSchemaManifest));
  std::string adamw = replaced(kSchemaManifest, R"("name":"sgd")", R"("name":"adamw")");
  EXPECT_NE(stateSchemaDifference(stateSchema(parsedManifest(adamw)), schema).find("optimizer"),
            std::string::npos);
  std::string batch4 = replaced(kSchemaManifest, R"("batch":2)", R"("batch":4)");
  batch4 = replaced(batch4, R"("shape":[2,3])", R"("shape":[4,3])");
  batch4 = replaced(batch4, R"("shape":[2])", R"("shape":[4])");
  EXPECT_EQ(stateSchemaDifference(stateSchema(parsedManifest(batch4)), schema),
            "the checkpoint was written with batch 4, this trainer has 2");
}

TEST(TrainerEvalMetrics, CrossEntropyAndAccuracyOfTheCountedRows) {
  const float logits[] = {0, 0, 0, 1, 2, 3, 9, 9, 9};
  HostArray f32(ElementKind::F32, {3, 3}), bf16(ElementKind::BF16, {3, 3}), labels(ElementKind::I64, {3});
  for (int i = 0; i < 9; ++i) {
    f32.as<float>()[i] = logits[i];
    bf16.as<uint16_t>()[i] = mpc::runtime::floatToBFloat16Bits(logits[i]);
  }
  labels.as<int64_t>()[0] = 0;
  labels.as<int64_t>()[1] = 1;
  labels.as<int64_t>()[2] = 2; // a padding row: must not count
  double expected = (std::log(3.0) + std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 2) / 2;
  for (const HostArray *output : {&f32, &bf16}) {
    EvalTotals totals;
    accumulateCrossEntropy(*output, labels, 2, totals);
    EXPECT_EQ(totals.count, 2);
    EXPECT_NEAR(totals.loss(), expected, 1e-12);
    EXPECT_EQ(totals.accuracy(), 0.5); // row 0: argmax 0 (first of the ties); row 1: argmax 2
  }
}

TEST(TrainerEvalMetrics, MeanSquaredErrorOfTheCountedRows) {
  HostArray output(ElementKind::F32, {3, 2}), labels(ElementKind::F32, {3, 2});
  const float out[] = {1, 2, 3, 4, 100, 100}, want[] = {0, 4, 3, 5, 0, 0};
  for (int i = 0; i < 6; ++i) {
    output.as<float>()[i] = out[i];
    labels.as<float>()[i] = want[i];
  }
  EvalTotals totals;
  accumulateMeanSquaredError(output, labels, 2, totals);
  EXPECT_EQ(totals.count, 4);
  EXPECT_DOUBLE_EQ(totals.loss(), (1.0 + 4.0 + 0.0 + 1.0) / 4);
}

} // namespace

// --weights external trainers: parameters and buffers may come from a
// weights file; the optimizer's state never does (no model file has it).
TEST(TrainerManifest, OnlyParametersAndBuffersAreExternal) {
  std::string external = replaced(kSchemaManifest, R"("init":{"offset":0,"bytes":12})", R"("external":true)");
  Manifest manifest = parsedManifest(external);
  EXPECT_TRUE(manifest.train.args[0].external);
  std::string buffer = replaced(external, R"({"name":"w","role":"param")", R"({"name":"w","role":"buffer")");
  EXPECT_TRUE(parsedManifest(buffer).train.args[0].external);
  Manifest refused;
  std::string error;
  EXPECT_FALSE(parseManifest(replaced(kSchemaManifest, R"("fill":0)", R"("external":true)"), 100, refused, error));
  EXPECT_NE(error.find("'w.m' (opt) is external, which only param and buffer state may be"), std::string::npos)
      << error;
}
