"""Builds the training test models, their data and PyTorch reference runs.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 make_training_refs.py`.
Everything it writes is committed (a few hundred KB), so the test suite needs
no PyTorch: the models (exported by torch.onnx.export with their initial
weights), the data (.npy, generated here from a fixed seed) and, per model,
the per-step losses PyTorch gets when it trains that model on the batches in
file order (refs.json). Rerun it to regenerate them all.
"""
import json
import pathlib

import numpy as np
import torch
import torch.nn as nn

HERE = pathlib.Path(__file__).parent
BATCH = 32
STEPS = 50


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(nn.Module):
    """Conv + batch norm (train mode: batch statistics) + pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 12, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(12)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class Encoder(nn.Module):
    """Token + position embeddings, one post-norm attention block, mean pool."""

    def __init__(self, vocab=16, seq=8, hidden=32, heads=2, classes=2):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Parameter(torch.randn(seq, hidden) * 0.1)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, 2 * hidden)
        self.ff2 = nn.Linear(2 * hidden, hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        b, t, h = x.shape
        q, k, v = self.qkv(x).split(h, dim=-1)
        d = h // self.heads
        q = q.reshape(b, t, self.heads, d).transpose(1, 2)
        k = k.reshape(b, t, self.heads, d).transpose(1, 2)
        v = v.reshape(b, t, self.heads, d).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, h)
        x = self.ln1(x + self.proj(y))
        x = self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))
        return self.head(x.mean(dim=1))


CENTERS = np.random.default_rng(1).normal(0, 1.0, (4, 16))


def blobs(rng, n):
    """4 Gaussian clusters in 16-d, overlapping a little."""
    centers = CENTERS
    y = rng.integers(0, 4, n)
    x = centers[y] + rng.normal(0, 0.9, (n, 16))
    return x.astype(np.float32), y.astype(np.int64)


def patterns(rng, n):
    """8x8 images of 4 noisy stripe patterns: rows, columns, diagonals, checks."""
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    base = np.stack([(i % 2), (j % 2), ((i + j) % 3 == 0), ((i // 2 + j // 2) % 2)]).astype(np.float32)
    y = rng.integers(0, 4, n)
    x = base[y] * rng.uniform(0.5, 1.5, (n, 1, 1)) + rng.normal(0, 0.5, (n, 8, 8))
    return x[:, None].astype(np.float32), y.astype(np.int64)


def tokens(rng, n, vocab=16, seq=8):
    """Label 1 when token 1 occurs more often than token 2."""
    ids = rng.integers(0, vocab, (n, seq))
    ids[rng.random((n, seq)) < 0.25] = 1
    ids[rng.random((n, seq)) < 0.25] = 2
    y = ((ids == 1).sum(1) > (ids == 2).sum(1)).astype(np.int64)
    return ids.astype(np.int64), y


def torch_losses(model, x, y, make_optimizer, steps=STEPS):
    """Per-step loss of each batch (in file order) before its update."""
    model.train()
    opt = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    rows = x.shape[0]
    for step in range(steps):
        start = (step * BATCH) % (rows - rows % BATCH)
        xb = torch.from_numpy(x[start:start + BATCH])
        yb = torch.from_numpy(y[start:start + BATCH])
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(-1).numpy() == y).mean())


def export(model, example, name, input_name):
    model.eval()
    torch.onnx.export(model, example, str(HERE / f"{name}.onnx"), opset_version=17,
                      input_names=[input_name], output_names=["logits"],
                      dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    refs = {}
    specs = [
        ("mlp", MLP, blobs, "x", {
            "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.01)}, 2048),
        ("cnn", CNN, patterns, "x", {
            "sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4)}, 1024),
        ("encoder", Encoder, tokens, "ids", {
            "adamw": lambda p: torch.optim.AdamW(p, lr=0.003, weight_decay=0.01)}, 1024),
    ]
    for name, cls, data, input_name, optimizers, rows in specs:
        x, y = data(rng, rows)
        xe, ye = data(rng, 256)
        np.save(HERE / f"{name}_{input_name}.npy", x)
        np.save(HERE / f"{name}_label.npy", y)
        np.save(HERE / f"{name}_eval_{input_name}.npy", xe)
        np.save(HERE / f"{name}_eval_label.npy", ye)
        model = cls()
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                # Fresh statistics (zeros, ones) equal the fresh affine
                # parameters, and the exporter would merge equal initializers.
                with torch.no_grad():
                    module.running_mean.uniform_(-0.1, 0.1)
                    module.running_var.uniform_(0.8, 1.2)
            if isinstance(module, nn.LayerNorm):
                # Likewise two fresh layer norms' (ones, zeros).
                with torch.no_grad():
                    module.weight.uniform_(0.9, 1.1)
                    module.bias.uniform_(-0.1, 0.1)
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        export(model, torch.from_numpy(x[:2]), name, input_name)
        refs[name] = {}
        for opt_name, make in optimizers.items():
            model.load_state_dict(initial)
            losses = torch_losses(model, x, y, make)
            refs[name][opt_name] = {"losses": losses, "eval_accuracy": accuracy(model, xe, ye)}
            stats = {k: v.tolist() for k, v in model.state_dict().items() if "running_" in k}
            if stats:
                refs[name][opt_name]["running_stats"] = stats
            print(name, opt_name, f"loss {losses[0]:.4f} -> {losses[-1]:.4f}",
                  f"eval acc {refs[name][opt_name]['eval_accuracy']:.3f}")
    refs["batch"] = BATCH
    refs["steps"] = STEPS
    (HERE / "refs.json").write_text(json.dumps(refs, indent=1) + "\n")


if __name__ == "__main__":
    main()
