"""Exports the small real-exporter test models with torch.onnx.export.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 export_torch_models.py`.
The .onnx files are committed so the test suite does not need PyTorch; rerun
this script to regenerate them. Weights are random (seeded); the batch dim is
dynamic, as users usually export it, so the shape chains the exporter writes
are part of each model.
"""
import math
import pathlib

import torch
import torch.nn as nn

HERE = pathlib.Path(__file__).parent


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=-1)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class EncoderLayer(nn.Module):
    """A BERT-style post-norm block written out the way such models are."""

    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        split = lambda t: t.reshape(b, s, self.heads, h // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(h // self.heads)
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.proj(attn))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class TinyEncoder(nn.Module):
    def __init__(self, vocab=100, seq=8, hidden=32, heads=4, ffn=64, layers=2, classes=5):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Parameter(torch.randn(1, seq, hidden) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, ffn) for _ in range(layers))
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(dim=1))


def export(model, example, name, input_name, opset):
    model.eval()
    torch.onnx.export(
        model, example, str(HERE / f"{name}.onnx"), input_names=[input_name],
        output_names=["output"], dynamic_axes={input_name: {0: "batch"}, "output": {0: "batch"}},
        opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False)


def main():
    torch.manual_seed(0)
    export(MLP(), torch.randn(2, 16), "torch_mlp", "x", 13)
    cnn = SmallCNN()
    for bn in (cnn.bn1, cnn.bn2):  # non-trivial running statistics
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    export(cnn, torch.randn(2, 3, 16, 16), "torch_cnn", "image", 14)
    export(TinyEncoder(), torch.randint(0, 100, (2, 8)), "torch_encoder", "ids", 17)


if __name__ == "__main__":
    main()
