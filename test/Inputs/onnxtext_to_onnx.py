"""Turns a textual ONNX model (onnx.parser syntax) into a binary .onnx file.

Usage: onnxtext_to_onnx.py IN.onnxtext OUT.onnx
Lines starting with '#' or '//' (lit RUN/CHECK lines) are dropped first.
"""
import sys

import onnx
import onnx.parser


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        text = "".join(l for l in f if not l.lstrip().startswith(("#", "//")))
    model = onnx.parser.parse_model(text)
    onnx.save(model, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
