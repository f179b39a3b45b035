"""Golden cases of the activations, embedding and timestep embedding against PyTorch 1.13.

Run with Debian's python: /usr/bin/python3 tests/golden/nn_activation.py
-> tests/golden/nn/activation.safetensors

Cases "<op><k>_<dtype>": input, output, grad_output, grad_input (activations); indices, weight,
output, grad_output, grad_weight (embedding); timesteps, output (timestep embedding, forward
only). Attributes are JSON metadata under the case name, with "op" and "rank".
"""
import math

import torch
import torch.nn.functional as F

from golden_common import Cases, seeded

cases = Cases()
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def activation_input(seed, shape, dtype, scale):
    """Random values in [-scale, scale] with a few exact zeros and extreme values mixed in."""
    x = seeded(seed, *shape, dtype=torch.float64, low=-scale, high=scale)
    flat = x.view(-1)
    flat[0] = 0.0
    flat[3 % flat.numel()] = 0.0
    if flat.numel() > 8:
        flat[5] = -100.0
        flat[7] = 40.0
    return x.to(dtype).requires_grad_(True)


def add_activation(name, attrs, x, fn):
    y = fn(x)
    gy = seeded(999, *y.shape, dtype=y.dtype)
    (gx,) = torch.autograd.grad(y, [x], gy)
    attrs = dict(attrs)
    attrs["rank"] = x.dim()
    cases.add(name, attrs, input=x, output=y, grad_output=gy, grad_input=gx)


for tag, dt in DTYPES.items():
    elementwise = [
        ({"op": "relu"}, lambda x: F.relu(x)),
        ({"op": "leaky_relu", "negative_slope": 0.01}, lambda x: F.leaky_relu(x)),
        ({"op": "leaky_relu", "negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
        ({"op": "silu"}, lambda x: F.silu(x)),
        ({"op": "gelu", "approximate": "none"}, lambda x: F.gelu(x)),
        ({"op": "gelu", "approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
        ({"op": "sigmoid"}, lambda x: torch.sigmoid(x)),
        ({"op": "tanh"}, lambda x: torch.tanh(x)),
        ({"op": "softplus", "beta": 1.0, "threshold": 20.0}, lambda x: F.softplus(x)),
        ({"op": "softplus", "beta": 2.0, "threshold": 5.0}, lambda x: F.softplus(x, 2.0, 5.0)),
        ({"op": "softplus", "beta": 0.5, "threshold": 1.0}, lambda x: F.softplus(x, 0.5, 1.0)),
    ]
    for k, (attrs, fn) in enumerate(elementwise):
        shape = (3, 4, 5) if k % 2 == 0 else (6, 7)
        x = activation_input(10 + k, shape, dt, 6.0)
        add_activation(f"act{k}_{tag}", attrs, x, fn)

    for k, (shape, dim, log) in enumerate([
        ((3, 4, 5), -1, False),
        ((3, 4, 5), 0, False),
        ((2, 3, 4, 2), 2, False),
        ((3, 4, 5), 1, True),
        ((7, 6), -1, True),
        ((2, 3, 4, 2), 0, True),
    ]):
        x = seeded(40 + k, *shape, dtype=dt, low=-4, high=4).requires_grad_(True)
        fn = (lambda t, d=dim: F.log_softmax(t, d)) if log else (lambda t, d=dim: F.softmax(t, d))
        add_activation(f"softmax{k}_{tag}", {"op": "log_softmax" if log else "softmax", "dim": dim}, x, fn)

    # F.embedding(input, weight, padding_idx, scale_grad_by_freq): indices of rank 0 to 3
    for k, (ishape, num, dim, padding_idx, freq) in enumerate([
        ((), 5, 4, None, False),
        ((7,), 6, 3, None, False),
        ((3, 4), 5, 6, 0, False),
        ((2, 3, 4), 4, 5, -1, True),
        ((4, 5), 7, 2, 2, True),
    ]):
        g = torch.Generator().manual_seed(60 + k)
        idx = torch.randint(0, num, ishape, generator=g, dtype=torch.int64)
        w = seeded(70 + k, num, dim, dtype=dt).requires_grad_(True)
        y = F.embedding(idx, w, padding_idx=padding_idx, scale_grad_by_freq=freq)
        gy = seeded(999, *y.shape, dtype=dt)
        (gw,) = torch.autograd.grad(y, [w], gy)
        cases.add(f"embedding{k}_{tag}",
                  {"op": "embedding", "rank": len(ishape), "padding_idx": padding_idx, "scale_grad_by_freq": freq},
                  indices=idx, weight=w, output=y, grad_output=gy, grad_weight=gw)


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1, scale=1,
                           max_period=10000, dtype=torch.float32):
    """diffusers.models.embeddings.get_timestep_embedding (diffusers 0.2x), with the dtype that
    diffusers fixes to float32 made a parameter so that a float64 reference exists too."""
    assert len(timesteps.shape) == 1, "Timesteps should be a 1d-array"
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=dtype)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].to(dtype) * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = torch.nn.functional.pad(emb, (0, 1, 0, 0))
    return emb


for tag, dt in DTYPES.items():
    for k, (ts, dim, flip, shift, scale, max_period) in enumerate([
        ([0.0, 1.0, 10.0, 999.0, 500.5, 250.0], 32, False, 1, 1, 10000),
        ([3.0, 17.0, 980.0], 7, False, 1, 1, 10000),
        ([0.0, 42.0, 999.0], 16, True, 0, 1, 10000),
        ([5.0, 0.25, 77.0, 640.0], 9, True, 1, 2.5, 1000),
        ([1.0, 999.0], 64, True, 0, 1, 10000),
    ]):
        t = torch.tensor(ts, dtype=dt)
        y = get_timestep_embedding(t, dim, flip, shift, scale, max_period, dtype=dt)
        cases.add(f"timestep{k}_{tag}", {"op": "timestep", "rank": 1, "embedding_dim": dim, "flip_sin_to_cos": flip,
                                         "downscale_freq_shift": shift, "scale": scale, "max_period": max_period},
                  timesteps=t, output=y)

cases.write("nn/activation.safetensors")
