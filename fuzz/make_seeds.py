"""Writes the fuzzer's seed corpus and dictionary from the importer's tests.

Usage: make_seeds.py OUT_DIR [DICT_FILE]

Seeds: in binary and (for small models) in the fuzzer's text form, every
model of test/Import (whole .onnxtext files and the `#--- *.onnxtext`
parts of .test files), every model test/Inputs/make_models.py builds, and the
exported models in test/Inputs/models. The dictionary holds op types,
attribute names and attribute string values, so that mutations can swap one
op or attribute for another.
"""
import pathlib
import re
import sys

import onnx
import onnx.parser
from google.protobuf import text_format

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "Inputs"))
import make_models  # noqa: E402


def strip_comments(text):
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.lstrip().startswith(("#", "//")))


def textual_models():
    """(name, text) for each textual model in the lit tests."""
    for path in sorted((ROOT / "test" / "Import").iterdir()):
        if path.suffix == ".onnxtext":
            yield path.stem, strip_comments(path.read_text())
        elif path.suffix == ".test":
            parts = re.split(r"^#--- (\S+)\n", path.read_text(), flags=re.M)
            for name, body in zip(parts[1::2], parts[2::2]):
                if name.endswith(".onnxtext"):
                    yield f"{path.stem}-{name[:-len('.onnxtext')]}", strip_comments(body)


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    models = []
    for name, text in textual_models():
        try:
            models.append((name, onnx.parser.parse_model(text)))
        except Exception:  # a part that is deliberately not a model
            continue
    models += [(name, build()) for name, build in make_models.MODELS.items()]
    for name, model in models:
        binary = model.SerializeToString()
        (out / f"{name}.onnx").write_bytes(binary)
        # The fuzzer's text form (see fuzz/mpc-onnx-fuzzer.cpp), for small models.
        if len(binary) < 16384:
            (out / f"{name}.pbtxt").write_text("#pbtxt\n" + text_format.MessageToString(model))
    for path in sorted((ROOT / "test" / "Inputs" / "models").glob("*.onnx")):
        (out / path.name).write_bytes(path.read_bytes())
        models.append((path.stem, onnx.load(str(path))))

    if len(sys.argv) > 2:
        # Every supported op, also those no seed uses.
        table = (ROOT / "docs" / "supported-ops.md").read_text()
        words = set(re.findall(r"^\| (\w+) \| \d+-\d+ \|", table, flags=re.M))
        for _, model in models:
            for node in model.graph.node:
                words.add(node.op_type)
                for attr in node.attribute:
                    words.add(attr.name)
                    if attr.s:
                        words.add(attr.s.decode("utf-8", "replace"))
        lines = sorted('"%s"' % w.replace("\\", "\\\\").replace('"', '\\"') for w in words if w)
        pathlib.Path(sys.argv[2]).write_text("\n".join(lines) + "\n")
    print(f"wrote {len(list(out.iterdir()))} seeds to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
