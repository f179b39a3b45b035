"""Golden cases for nn/kernels/conv.hpp: conv1d/2d/3d and conv_transpose1d/2d/3d (PyTorch 1.13).

Run with Debian's /usr/bin/python3; writes tests/golden/nn/conv.safetensors. Each case stores
input, weight, bias (when used), output, a random grad_output, and grad_input, grad_weight,
grad_bias. Float32 cases store float32 inputs; the references are computed in float64 from those
exact values and rounded once, so the comparison measures only the C++ side's rounding.
Asymmetric and causal padding have no torch.conv equivalent: the reference is F.pad then conv.
"""
import torch
import torch.nn.functional as F

from golden_common import Cases, seeded

DTYPES = {"f32": torch.float32, "f64": torch.float64}


def run_case(cases, name, seed, op, dtype, x_shape, w_shape, bias=True, **attrs):
    n = len(x_shape) - 2
    dt = DTYPES[dtype]
    x = seeded(seed, *x_shape, dtype=dt)
    w = seeded(seed + 1, *w_shape, dtype=dt, low=-0.5, high=0.5)
    transposed = op.startswith("conv_transpose")
    out_channels = w_shape[1] * attrs.get("groups", 1) if transposed else w_shape[0]
    b = seeded(seed + 2, out_channels, dtype=dt) if bias else None

    xd = x.double().requires_grad_()
    wd = w.double().requires_grad_()
    bd = b.double().requires_grad_() if bias else None
    stride = attrs.get("stride", [1] * n)
    dilation = attrs.get("dilation", [1] * n)
    groups = attrs.get("groups", 1)
    if transposed:
        fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
        y = fn(xd, wd, bd, stride=stride, padding=attrs.get("padding", [0] * n),
               output_padding=attrs.get("output_padding", [0] * n), groups=groups, dilation=dilation)
    else:
        fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
        pads = attrs.get("asymmetric_padding")
        padding = attrs.get("padding", [0] * n)
        if attrs.get("causal"):
            kt = w_shape[2]
            pads = [[(kt - 1) * dilation[0], 0]] + [[p, p] for p in padding[1:]]
        if pads is not None:
            flat = []
            for before, after in reversed(pads):  # F.pad lists the last axis first
                flat += [before, after]
            y = fn(F.pad(xd, flat), wd, bd, stride=stride, padding=0, dilation=dilation, groups=groups)
        else:
            y = fn(xd, wd, bd, stride=stride, padding=padding, dilation=dilation, groups=groups)
    gy = seeded(seed + 3, *y.shape, dtype=dt)
    y.backward(gy.double())
    tensors = dict(input=x, weight=w, output=y.detach().to(dt), grad_output=gy,
                   grad_input=xd.grad.to(dt), grad_weight=wd.grad.to(dt))
    if bias:
        tensors.update(bias=b, grad_bias=bd.grad.to(dt))
    meta = dict(op=op, dtype=dtype, bias=bias, **attrs)
    cases.add(name, meta, **tensors)


def main():
    c = Cases()
    # conv1d
    run_case(c, "c1d_basic_f32", 10, "conv1d", "f32", (2, 3, 10), (4, 3, 3), padding=[1])
    run_case(c, "c1d_groups_stride_dil_f64", 20, "conv1d", "f64", (2, 4, 11), (6, 2, 3), bias=False,
             stride=[2], padding=[2], dilation=[2], groups=2)
    run_case(c, "c1d_causal_f32", 30, "conv1d", "f32", (1, 2, 9), (3, 2, 3), dilation=[2], causal=True)
    # conv2d
    run_case(c, "c2d_basic_f32", 40, "conv2d", "f32", (2, 3, 7, 6), (5, 3, 3, 3), padding=[1, 1])
    run_case(c, "c2d_stride_dil_f64", 50, "conv2d", "f64", (1, 2, 9, 8), (4, 2, 3, 2), stride=[2, 2],
             padding=[1, 0], dilation=[1, 2])
    run_case(c, "c2d_depthwise_f32", 60, "conv2d", "f32", (2, 4, 6, 6), (4, 1, 3, 3), padding=[1, 1], groups=4)
    run_case(c, "c2d_depthwise_f64", 65, "conv2d", "f64", (1, 3, 5, 5), (6, 1, 3, 3), bias=False, stride=[2, 2],
             padding=[1, 1], groups=3)
    run_case(c, "c2d_groups_f64", 70, "conv2d", "f64", (1, 6, 5, 7), (4, 3, 2, 3), stride=[2, 1], groups=2)
    run_case(c, "c2d_pointwise_f32", 80, "conv2d", "f32", (2, 5, 4, 3), (3, 5, 1, 1))
    run_case(c, "c2d_asym_f64", 90, "conv2d", "f64", (2, 2, 5, 6), (3, 2, 3, 3), asymmetric_padding=[[1, 0], [2, 1]])
    run_case(c, "c2d_asym_stride_f32", 95, "conv2d", "f32", (1, 3, 7, 7), (2, 3, 3, 3), stride=[2, 3],
             asymmetric_padding=[[0, 2], [1, 0]])
    # conv3d
    run_case(c, "c3d_basic_f32", 100, "conv3d", "f32", (1, 3, 4, 5, 5), (4, 3, 3, 3, 3), padding=[1, 1, 1])
    run_case(c, "c3d_1x3x3_f64", 110, "conv3d", "f64", (2, 2, 3, 6, 5), (3, 2, 1, 3, 3), padding=[0, 1, 1])
    run_case(c, "c3d_causal_f32", 120, "conv3d", "f32", (1, 2, 5, 4, 4), (2, 2, 3, 3, 3), padding=[0, 1, 1],
             causal=True)
    run_case(c, "c3d_groups_stride_dil_f64", 130, "conv3d", "f64", (1, 4, 6, 5, 5), (4, 2, 2, 3, 3), bias=False,
             stride=[1, 2, 2], padding=[1, 1, 1], dilation=[2, 1, 1], groups=2)
    run_case(c, "c3d_causal_temporal_3x1x1_f64", 140, "conv3d", "f64", (2, 3, 6, 3, 4), (3, 3, 3, 1, 1),
             dilation=[2, 1, 1], causal=True)
    run_case(c, "c3d_depthwise_f32", 150, "conv3d", "f32", (1, 3, 4, 4, 4), (3, 1, 3, 3, 3), padding=[1, 1, 1],
             groups=3)
    # transposed
    run_case(c, "t1d_f64", 200, "conv_transpose1d", "f64", (2, 3, 5), (3, 2, 4), stride=[2], padding=[1])
    run_case(c, "t2d_basic_f32", 210, "conv_transpose2d", "f32", (2, 4, 3, 3), (4, 3, 3, 3), stride=[2, 2],
             padding=[1, 1], output_padding=[1, 1])
    run_case(c, "t2d_groups_dil_f64", 220, "conv_transpose2d", "f64", (1, 4, 4, 3), (4, 3, 3, 2), stride=[1, 2],
             padding=[1, 0], output_padding=[0, 1], groups=2, dilation=[2, 1])
    run_case(c, "t3d_f32", 230, "conv_transpose3d", "f32", (1, 2, 2, 3, 3), (2, 3, 3, 3, 3), stride=[2, 2, 2],
             padding=[1, 1, 1], output_padding=[1, 0, 1])
    run_case(c, "t3d_upsample_f64", 240, "conv_transpose3d", "f64", (1, 2, 2, 3, 2), (2, 2, 1, 4, 4), bias=False,
             stride=[1, 2, 2], padding=[0, 1, 1])
    c.write("nn/conv.safetensors")


if __name__ == "__main__":
    main()
