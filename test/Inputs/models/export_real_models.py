"""Exports the real-model checks' networks with torch.onnx.export.

Run with Debian's python3-torch (1.13) and python3-torchvision:
`/usr/bin/python3 export_real_models.py OUT_DIR [NAME...]`. Names:

- resnet18, resnet50: torchvision, random weights, batch norms kept as
  BatchNormalization with non-trivial running statistics (opset 15).
- bert: a BERT-style encoder: token + position + segment embeddings, layer
  norm, an attention-mask input turned into an additive bias, erf GELU
  (opset 17: LayerNormalization). `bert_base` is the BERT-base size.
- gpt2: a GPT-2-style decoder as torch exports one: position ids from
  torch.arange (Range), the causal mask from triu (Trilu) applied with Where,
  Expand, a fused QKV projection cut with Split, tanh GELU written with Pow,
  layer norm decomposed into ReduceMean/Pow/Sqrt (opset 14: Trilu).
  `gpt2_small` is GPT-2 small (124M parameters, sequence 1024).

The files are not committed (ResNet weights are tens of MB): the tests and
bench/compile_speed.py call this into a cache directory under build/.
Weights are random (seeded) and the batch dim is dynamic.
"""
import math
import pathlib
import sys

import torch
import torch.nn as nn


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, bias):
        b, s, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, s, self.heads, d).permute(0, 2, 1, 3)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        context = context.permute(0, 2, 1, 3).reshape(b, s, h)
        x = self.ln1(x + self.out(context))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class Bert(nn.Module):
    def __init__(self, vocab, seq, hidden, heads, ffn, layers):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(seq, hidden)
        self.seg = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ffn) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.register_buffer("position_ids", torch.arange(seq).unsqueeze(0))

    def forward(self, ids, mask):
        s = ids.shape[1]
        x = self.tok(ids) + self.pos(self.position_ids[:, :s]) + self.seg(torch.zeros_like(ids))
        x = self.ln(x)
        # 1 = attend, 0 = padding, as in Hugging Face's BERT.
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return x, torch.tanh(self.pooler(x[:, 0]))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class LayerNorm(nn.Module):
    """GPT-2 implementations written before nn.LayerNorm: Pow and Sqrt."""

    def __init__(self, hidden, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))
        self.bias = nn.Parameter(0.1 * torch.randn(hidden))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = (x - mean).pow(2).mean(-1, keepdim=True)
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


class GptBlock(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln2 = LayerNorm(hidden)
        self.fc = nn.Linear(hidden, 4 * hidden)
        self.fc_proj = nn.Linear(4 * hidden, hidden)

    def forward(self, x):
        b, s, h = x.shape
        d = h // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(h, dim=2)
        heads = lambda t: t.view(b, s, self.heads, d).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
        causal = torch.triu(torch.ones(s, s, dtype=torch.bool, device=x.device), diagonal=1)
        scores = torch.where(causal.expand(b, self.heads, s, s),
                             torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype), scores)
        attn = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, h)
        x = x + self.proj(attn)
        return x + self.fc_proj(gelu_tanh(self.fc(self.ln2(x))))


class Gpt(nn.Module):
    def __init__(self, vocab, max_seq, hidden, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_seq, hidden)
        self.blocks = nn.ModuleList(GptBlock(hidden, heads) for _ in range(layers))
        self.ln_f = LayerNorm(hidden)

    def forward(self, ids):
        b, s = ids.shape
        positions = torch.arange(0, s, dtype=torch.long, device=ids.device).unsqueeze(0).expand(b, s)
        x = self.wte(ids) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        # Tied output embedding, as GPT-2's LM head.
        return torch.matmul(self.ln_f(x), self.wte.weight.t())


def randomize_batch_norms(model):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.1, 0.1)


def export(model, args, path, input_names, output_names, opset):
    model.eval()
    dynamic = {name: {0: "batch"} for name in input_names + output_names}
    torch.onnx.export(model, args, str(path), input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, opset_version=opset,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def export_resnet(name, path):
    import torchvision

    model = getattr(torchvision.models, name)(weights=None)
    randomize_batch_norms(model)
    export(model, (torch.randn(2, 3, 224, 224),), path, ["image"], ["logits"], 15)


def export_bert(path, seq, hidden, heads, ffn, layers, vocab):
    model = Bert(vocab, seq, hidden, heads, ffn, layers)
    ids = torch.randint(0, vocab, (2, seq))
    mask = torch.ones(2, seq, dtype=torch.long)
    export(model, (ids, mask), path, ["ids", "mask"], ["hidden", "pooled"], 17)


def export_gpt2(path, vocab=256, seq=32, max_seq=64, hidden=128, heads=4, layers=2):
    model = Gpt(vocab=vocab, max_seq=max_seq, hidden=hidden, heads=heads, layers=layers)
    export(model, (torch.randint(0, vocab, (2, seq)),), path, ["ids"], ["logits"], 14)


EXPORTERS = {
    "resnet18": lambda path: export_resnet("resnet18", path),
    "resnet50": lambda path: export_resnet("resnet50", path),
    "bert": lambda path: export_bert(path, seq=32, hidden=128, heads=4, ffn=512, layers=2, vocab=512),
    "bert_base": lambda path: export_bert(path, seq=128, hidden=768, heads=12, ffn=3072, layers=12,
                                          vocab=30522),
    "gpt2": export_gpt2,
    # GPT-2 small (124M parameters) at its full context: the training throughput comparison.
    "gpt2_small": lambda path: export_gpt2(path, vocab=50257, seq=1024, max_seq=1024, hidden=768, heads=12,
                                           layers=12),
}


def main(out_dir, names):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in names or EXPORTERS:
        torch.manual_seed(0)
        EXPORTERS[name](out / f"{name}.onnx")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
