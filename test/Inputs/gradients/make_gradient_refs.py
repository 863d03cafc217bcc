"""PyTorch's gradients of every row of test/e2e/gradient_cases.py.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 make_gradient_refs.py`.
Writes refs.npz next to this file (committed; the suite needs no PyTorch):
per row and parameter, PyTorch's f64 gradient (stored as f32, enough for the
1e-5 comparison the test makes) under `ROW/PARAM`, and the distance of its
f32 gradient from it, max |g32 - g64| / max |g64|, under `ROW/PARAM/f32_error`;
the f64 loss under `ROW/loss` and a batch norm's running statistics after the
step under `ROW/BUFFER`.
"""
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "e2e"))
from gradient_cases import CASES, values  # noqa: E402


def run(case, dtype, params, labels, w):
    tensors = {n: torch.tensor(v, dtype=dtype, requires_grad=True) for n, v in params.items()}
    scope = {"torch": torch, "F": F, **tensors, **{n: torch.from_numpy(v) for n, v in labels.items()}}
    if case.buffers:
        c = params["x"].shape[1]
        scope["running_mean"] = torch.full((c,), 0.1, dtype=dtype)
        scope["running_var"] = torch.full((c,), 0.9, dtype=dtype)
    y = eval(case.torch, scope)  # noqa: S307 - the expressions are the table's own
    loss = (y * torch.tensor(w, dtype=dtype)).sum()
    loss.backward()
    out = {n: t.grad.numpy().astype(np.float64) for n, t in tensors.items()}
    out["loss"] = float(loss)
    if case.buffers:
        out[case.buffers[0]] = scope["running_mean"].numpy().astype(np.float64)
        out[case.buffers[1]] = scope["running_var"].numpy().astype(np.float64)
    return out


def main():
    refs = {}
    for case in CASES:
        params, labels, w = values(case)
        exact = run(case, torch.float64, params, labels, w)
        single = run(case, torch.float32, params, labels, w)
        refs[f"{case.name}/loss"] = np.array(exact["loss"])
        for name in list(params) + list(case.buffers):
            g64, g32 = exact[name], single[name]
            refs[f"{case.name}/{name}"] = g64.astype(np.float32)
            refs[f"{case.name}/{name}/f32_error"] = np.array(
                np.max(np.abs(g32 - g64)) / max(np.max(np.abs(g64)), 1e-300))
        print(case.name, " ".join(f"{n}:{float(refs[f'{case.name}/{n}/f32_error']):.1e}"
                                  for n in list(params) + list(case.buffers)))
    np.savez_compressed(HERE / "refs.npz", **refs)


if __name__ == "__main__":
    main()
