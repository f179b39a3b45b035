"""Golden cases of the normalisations (include/cinediff/nn/functional/norm.hpp) against PyTorch 1.13.

Run with Debian's python: /usr/bin/python3 tests/golden/nn_norm.py -> tests/golden/nn/norm.safetensors

Every case "<op><k>_<dtype>" stores input, the parameters that exist (weight, bias,
running_mean/running_var before and *_out after), output, grad_output and the gradient of every
differentiable input (grad_input, grad_weight, grad_bias; for adain grad_style or
grad_style_mean/grad_style_std). Attributes are JSON metadata under the case name, with "op" and
"rank" (of input) for the C++ dispatcher.
"""
import torch
import torch.nn.functional as F

from golden_common import Cases, seeded

cases = Cases()
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def leaf(seed, shape, dtype, low=-1.0, high=1.0):
    return seeded(seed, *shape, dtype=dtype, low=low, high=high).requires_grad_(True)


def finish(name, attrs, out, inputs, extra):
    """Backward with a random grad_output; stores inputs, output, grads."""
    gy = seeded(999, *out.shape, dtype=out.dtype)
    diff = [(k, v) for k, v in inputs.items() if v is not None and v.requires_grad]
    grads = torch.autograd.grad(out, [v for _, v in diff], gy)
    tensors = {k: v for k, v in inputs.items() if v is not None}
    tensors.update(extra)
    tensors["output"] = out
    tensors["grad_output"] = gy
    for (k, _), g in zip(diff, grads):
        tensors["grad_" + k] = g
    attrs = dict(attrs)
    attrs["rank"] = inputs["input"].dim() if "input" in inputs else inputs["content"].dim()
    cases.add(name, attrs, **tensors)


for tag, dt in DTYPES.items():
    # group_norm: (shape, num_groups, affine, eps)
    for k, (shape, groups, affine, eps) in enumerate([
        ((2, 6, 4, 3), 3, True, 1e-5),
        ((3, 4, 5), 2, False, 1e-5),
        ((2, 8, 2, 3, 2), 4, True, 1e-3),
        ((2, 4, 3, 3), 4, True, 1e-5),
        ((2, 4, 3, 3), 1, True, 1e-5),
    ]):
        x = leaf(10 + k, shape, dt, -2, 3)
        c = shape[1]
        w = leaf(20 + k, (c,), dt, 0.5, 1.5) if affine else None
        b = leaf(30 + k, (c,), dt) if affine else None
        out = F.group_norm(x, groups, w, b, eps)
        finish(f"group{k}_{tag}", {"op": "group_norm", "num_groups": groups, "eps": eps, "affine": affine},
               out, {"input": x, "weight": w, "bias": b}, {})

    # layer_norm: (shape, K, affine, eps)
    for k, (shape, nk, affine, eps) in enumerate([
        ((4, 7), 1, True, 1e-5),
        ((2, 3, 4, 5), 2, True, 1e-5),
        ((3, 5, 6), 1, False, 1e-6),
    ]):
        x = leaf(40 + k, shape, dt, -2, 3)
        ns = shape[-nk:]
        w = leaf(50 + k, ns, dt, 0.5, 1.5) if affine else None
        b = leaf(60 + k, ns, dt) if affine else None
        out = F.layer_norm(x, ns, w, b, eps)
        finish(f"layer{k}_{tag}", {"op": "layer_norm", "normalized_shape": list(ns), "eps": eps,
                                   "affine": affine}, out, {"input": x, "weight": w, "bias": b}, {})

    # rms_norm (torch 1.13 has none): x * rsqrt(mean(x^2, last K dims) + eps) * weight
    for k, (shape, nk, affine, eps) in enumerate([
        ((4, 8), 1, True, 1e-5),
        ((2, 3, 6), 1, True, 1e-6),
        ((2, 3, 6), 1, False, 1e-5),
        ((2, 3, 2, 4), 2, True, 1e-5),
    ]):
        x = leaf(70 + k, shape, dt, -2, 3)
        ns = shape[-nk:]
        w = leaf(80 + k, ns, dt, 0.5, 1.5) if affine else None
        dims = tuple(range(-nk, 0))
        out = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
        if w is not None:
            out = out * w
        finish(f"rms{k}_{tag}", {"op": "rms_norm", "normalized_shape": list(ns), "eps": eps, "affine": affine},
               out, {"input": x, "weight": w}, {})

    # batch_norm: (shape, training, running, affine, momentum, eps)
    for k, (shape, training, running, affine, momentum, eps) in enumerate([
        ((2, 3, 4, 4), True, True, True, 0.1, 1e-5),
        ((5, 4), True, False, False, 0.1, 1e-5),
        ((2, 3, 5), False, True, True, 0.1, 1e-5),
        ((2, 2, 3, 2, 2), True, True, True, 0.3, 1e-3),
        ((4, 3, 2), False, True, False, 0.1, 1e-5),
    ]):
        x = leaf(90 + k, shape, dt, -2, 3)
        c = shape[1]
        w = leaf(100 + k, (c,), dt, 0.5, 1.5) if affine else None
        b = leaf(110 + k, (c,), dt) if affine else None
        extra = {}
        rm = rv = None
        if running:
            rm = seeded(120 + k, c, dtype=dt)
            rv = seeded(130 + k, c, dtype=dt, low=0.5, high=2.0)
            extra = {"running_mean": rm.clone(), "running_var": rv.clone()}
        out = F.batch_norm(x, rm, rv, w, b, training, momentum, eps)
        if running:
            extra.update({"running_mean_out": rm, "running_var_out": rv})
        finish(f"batch{k}_{tag}", {"op": "batch_norm", "training": training, "momentum": momentum, "eps": eps,
                                   "affine": affine, "running": running},
               out, {"input": x, "weight": w, "bias": b}, extra)

    # instance_norm: (shape, use_input_stats, running, affine, momentum, eps)
    for k, (shape, use_input_stats, running, affine, momentum, eps) in enumerate([
        ((2, 3, 5, 4), True, False, True, 0.1, 1e-5),
        ((2, 4, 6), True, True, False, 0.2, 1e-5),
        ((2, 3, 2, 3, 2), True, True, True, 0.1, 1e-3),
        ((2, 3, 4), False, True, True, 0.1, 1e-5),
    ]):
        x = leaf(140 + k, shape, dt, -2, 3)
        c = shape[1]
        w = leaf(150 + k, (c,), dt, 0.5, 1.5) if affine else None
        b = leaf(160 + k, (c,), dt) if affine else None
        extra = {}
        rm = rv = None
        if running:
            rm = seeded(170 + k, c, dtype=dt)
            rv = seeded(180 + k, c, dtype=dt, low=0.5, high=2.0)
            extra = {"running_mean": rm.clone(), "running_var": rv.clone()}
        out = F.instance_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
        if running:
            extra.update({"running_mean_out": rm, "running_var_out": rv})
        finish(f"instance{k}_{tag}", {"op": "instance_norm", "use_input_stats": use_input_stats,
                                      "momentum": momentum, "eps": eps, "affine": affine, "running": running},
               out, {"input": x, "weight": w, "bias": b}, extra)

    # adain(content, style_mean, style_std) = instance_norm(content, eps) * style_std[..., None] + style_mean
    # adain(content, style): style_mean, style_std = mean, sqrt(biased var + eps) over style's spatial dims
    for k, (cshape, sshape, eps) in enumerate([
        ((2, 3, 4, 4), (2, 3, 5, 3), 1e-5),
        ((1, 4, 6), (1, 4, 7), 1e-5),
        ((2, 2, 2, 3, 2), (2, 2, 3, 2, 2), 1e-3),
    ]):
        x = leaf(190 + k, cshape, dt, -2, 3)
        s = leaf(200 + k, sshape, dt, -1, 2)
        expand = (...,) + (None,) * (len(cshape) - 2)
        dims = tuple(range(2, len(sshape)))
        s_mean = s.mean(dims)
        s_std = torch.sqrt(s.var(dims, unbiased=False) + eps)
        out = F.instance_norm(x, eps=eps) * s_std[expand] + s_mean[expand]
        finish(f"adainstyle{k}_{tag}", {"op": "adain_style", "eps": eps, "style_rank": len(sshape)},
               out, {"content": x, "style": s}, {})
        # with explicit statistics
        sm = leaf(210 + k, cshape[:2], dt)
        ss = leaf(220 + k, cshape[:2], dt, 0.5, 2.0)
        x2 = leaf(230 + k, cshape, dt, -2, 3)
        out = F.instance_norm(x2, eps=eps) * ss[expand] + sm[expand]
        finish(f"adainstats{k}_{tag}", {"op": "adain_stats", "eps": eps},
               out, {"content": x2, "style_mean": sm, "style_std": ss}, {})

cases.write("nn/norm.safetensors")
