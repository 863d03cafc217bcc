/* Calls a trainer object's entry points the way the runtime does, for
 * test_compile.py (which links it with the object mpc-compile emits).
 *
 *   harness manifest FILE     write mpc_trainer_manifest (without the NUL)
 *   harness blob FILE         write the mpc_trainer_blob bytes
 *   harness run SPEC          call mpc_train_step or mpc_eval_step
 *
 * SPEC is text: the entry ("train" or "eval"), then one line per argument and
 * then per result, "in|out ELEMENT_BYTES RANK D0 .. Dn-1 PATH": an argument's
 * raw row-major bytes are read from PATH, a result's written to PATH. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void mpc_train_step(void **args);
extern void mpc_eval_step(void **args);
extern const char mpc_trainer_manifest[];
extern const unsigned char mpc_trainer_blob[];
extern const unsigned long long mpc_trainer_blob_size;

enum { kMaxOperands = 256, kMaxRank = 8 };

typedef struct {
  int isOutput;
  int64_t bytes;
  char path[4096];
  void *data;
  int64_t descriptor[3 + 2 * kMaxRank]; /* allocated, aligned, offset, sizes, strides */
} Operand;

static int writeFile(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size) {
    fprintf(stderr, "harness: cannot write %s\n", path);
    return 1;
  }
  return fclose(f) != 0;
}

static int run(const char *specPath) {
  static Operand operands[kMaxOperands];
  void *descriptorPointers[kMaxOperands], *args[kMaxOperands];
  char entry[16], kind[8];
  int n = 0;
  FILE *spec = fopen(specPath, "r");
  if (!spec || fscanf(spec, "%15s", entry) != 1) {
    fprintf(stderr, "harness: cannot read %s\n", specPath);
    return 1;
  }
  while (n < kMaxOperands && fscanf(spec, "%7s", kind) == 1) {
    Operand *op = &operands[n];
    int64_t width, rank, elements = 1;
    if (fscanf(spec, "%ld %ld", &width, &rank) != 2 || rank > kMaxRank)
      return fprintf(stderr, "harness: bad spec line %d\n", n), 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (fscanf(spec, "%ld", &op->descriptor[3 + i]) != 1)
        return fprintf(stderr, "harness: bad dims on line %d\n", n), 1;
      elements *= op->descriptor[3 + i];
    }
    for (int64_t i = rank - 1, stride = 1; i >= 0; --i) {
      op->descriptor[3 + rank + i] = stride;
      stride *= op->descriptor[3 + i];
    }
    if (fscanf(spec, "%4095s", op->path) != 1)
      return fprintf(stderr, "harness: no path on line %d\n", n), 1;
    op->isOutput = strcmp(kind, "out") == 0;
    op->bytes = elements * width;
    op->data = aligned_alloc(64, (size_t)(op->bytes + 64) / 64 * 64);
    memset(op->data, 0, (size_t)op->bytes);
    if (!op->isOutput) {
      FILE *f = fopen(op->path, "rb");
      if (!f || fread(op->data, 1, (size_t)op->bytes, f) != (size_t)op->bytes)
        return fprintf(stderr, "harness: cannot read %ld bytes from %s\n", op->bytes, op->path), 1;
      fclose(f);
    }
    op->descriptor[0] = op->descriptor[1] = (int64_t)(intptr_t)op->data;
    op->descriptor[2] = 0;
    descriptorPointers[n] = op->descriptor;
    args[n] = &descriptorPointers[n];
    ++n;
  }
  fclose(spec);
  if (strcmp(entry, "train") == 0)
    mpc_train_step(args);
  else if (strcmp(entry, "eval") == 0)
    mpc_eval_step(args);
  else
    return fprintf(stderr, "harness: unknown entry %s\n", entry), 1;
  for (int i = 0; i < n; ++i)
    if (operands[i].isOutput && writeFile(operands[i].path, operands[i].data, (size_t)operands[i].bytes))
      return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return fprintf(stderr, "usage: harness manifest|blob|run FILE\n"), 2;
  if (strcmp(argv[1], "manifest") == 0)
    return writeFile(argv[2], mpc_trainer_manifest, strlen(mpc_trainer_manifest));
  if (strcmp(argv[1], "blob") == 0)
    return writeFile(argv[2], mpc_trainer_blob, (size_t)mpc_trainer_blob_size);
  if (strcmp(argv[1], "run") == 0)
    return run(argv[2]);
  return fprintf(stderr, "harness: unknown mode %s\n", argv[1]), 2;
}
