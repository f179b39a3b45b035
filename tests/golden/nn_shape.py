"""Golden cases of cat, stack, split, chunk, index_select, gather, cumsum and logsumexp
(torch 1.13, Debian's /usr/bin/python3).

Writes tests/golden/nn/shape.safetensors. Inputs are input0, input1, ... (index for the indexing
ops), outputs output0, output1, ... with grad_output0, ...; gradients grad_input0, ...
Each case exists in float32 (_f32) and float64 (_f64).
"""
import golden_common as gc
import torch

cases = gc.Cases()
seed = [500]


def next_seed():
    seed[0] += 1
    return seed[0]


def add(name, op, attrs, shapes, fn, index=None):
    bases = [gc.seeded(next_seed(), *s) for s in shapes]
    g_seed = next_seed()
    for suffix, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        xs = [b.to(dtype).clone().requires_grad_(True) for b in bases]
        ys = fn(*xs)
        if isinstance(ys, torch.Tensor):
            ys = [ys]
        tensors = {}
        total = 0
        for k, y in enumerate(ys):
            gy = gc.seeded(g_seed + 1000 * k, *y.shape, dtype=dtype)
            tensors[f"output{k}"] = y.detach()
            tensors[f"grad_output{k}"] = gy
            total = total + (y * gy).sum()
        total.backward()
        for k, x in enumerate(xs):
            tensors[f"input{k}"] = x.detach()
            tensors[f"grad_input{k}"] = x.grad
        if index is not None:
            tensors["index"] = index
        meta = dict(attrs, op=op, dtype="float32" if dtype == torch.float32 else "float64",
                    inputs=len(xs), outputs=len(ys), rank=len(shapes[0]))
        cases.add(f"{name}_{suffix}", meta, **tensors)


add("cat_dim1", "cat", {"dim": 1}, [[2, 3, 4], [2, 1, 4], [2, 2, 4]], lambda *xs: torch.cat(xs, 1))
add("cat_last", "cat", {"dim": -1}, [[3, 2], [3, 4]], lambda *xs: torch.cat(xs, -1))
add("stack_dim0", "stack", {"dim": 0}, [[2, 3], [2, 3], [2, 3]], lambda *xs: torch.stack(xs, 0))
add("stack_dim2", "stack", {"dim": 2}, [[2, 3, 4], [2, 3, 4]], lambda *xs: torch.stack(xs, 2))
add("split_size", "split", {"split_size": 2, "dim": 1}, [[3, 5, 2]], lambda x: torch.split(x, 2, 1))
add("split_sections", "split", {"sections": [1, 3, 2], "dim": -1}, [[2, 6]], lambda x: torch.split(x, [1, 3, 2], -1))
add("chunk3", "chunk", {"chunks": 3, "dim": 0}, [[7, 2]], lambda x: torch.chunk(x, 3, 0))
add("chunk4_of6", "chunk", {"chunks": 4, "dim": 1}, [[2, 6]], lambda x: torch.chunk(x, 4, 1))

idx = torch.tensor([2, 0, 2, 3, 1], dtype=torch.int64)
add("index_select0", "index_select", {"dim": 0}, [[4, 3]], lambda x: torch.index_select(x, 0, idx), index=idx)
idx2 = torch.tensor([1, 1, 0], dtype=torch.int64)
add("index_select2", "index_select", {"dim": 2}, [[2, 3, 2]], lambda x: torch.index_select(x, 2, idx2), index=idx2)

g1 = torch.tensor([[[0, 2], [3, 3], [1, 0]], [[2, 2], [0, 1], [3, 0]]], dtype=torch.int64)  # (2, 3, 2)
add("gather1", "gather", {"dim": 1}, [[2, 4, 3]], lambda x: torch.gather(x, 1, g1), index=g1)
g0 = torch.tensor([[1, 0, 2], [1, 1, 0]], dtype=torch.int64)  # (2, 3)
add("gather0", "gather", {"dim": 0}, [[3, 4]], lambda x: torch.gather(x, 0, g0), index=g0)

add("cumsum0", "cumsum", {"dim": 0}, [[5, 3]], lambda x: torch.cumsum(x, 0))
add("cumsum_last", "cumsum", {"dim": -1}, [[2, 3, 6]], lambda x: torch.cumsum(x, -1))
add("logsumexp1", "logsumexp", {"dim": 1, "keepdim": False}, [[3, 5, 2]], lambda x: torch.logsumexp(x, 1))
add("logsumexp_keep", "logsumexp", {"dim": -1, "keepdim": True}, [[4, 6]], lambda x: torch.logsumexp(x, -1, True))

cases.write("nn/shape.safetensors")
