"""Golden cases for nn/kernels/linear.hpp: linear, matmul (batch broadcasting) and bmm (PyTorch 1.13).

Run with Debian's /usr/bin/python3; writes tests/golden/nn/linear.safetensors. References are
computed in float64 from the stored inputs and rounded once to the case's dtype.
"""
import torch
import torch.nn.functional as F

from golden_common import Cases, seeded

DTYPES = {"f32": torch.float32, "f64": torch.float64}


def linear_case(cases, name, seed, dtype, x_shape, w_shape, bias=True):
    dt = DTYPES[dtype]
    x, w = seeded(seed, *x_shape, dtype=dt), seeded(seed + 1, *w_shape, dtype=dt)
    b = seeded(seed + 2, w_shape[0], dtype=dt) if bias else None
    xd, wd = x.double().requires_grad_(), w.double().requires_grad_()
    bd = b.double().requires_grad_() if bias else None
    y = F.linear(xd, wd, bd)
    gy = seeded(seed + 3, *y.shape, dtype=dt)
    y.backward(gy.double())
    t = dict(input=x, weight=w, output=y.detach().to(dt), grad_output=gy, grad_input=xd.grad.to(dt),
             grad_weight=wd.grad.to(dt))
    if bias:
        t.update(bias=b, grad_bias=bd.grad.to(dt))
    cases.add(name, dict(op="linear", dtype=dtype, bias=bias), **t)


def matmul_case(cases, name, seed, op, dtype, a_shape, b_shape):
    dt = DTYPES[dtype]
    a, b = seeded(seed, *a_shape, dtype=dt), seeded(seed + 1, *b_shape, dtype=dt)
    ad, bd = a.double().requires_grad_(), b.double().requires_grad_()
    y = torch.bmm(ad, bd) if op == "bmm" else torch.matmul(ad, bd)
    gy = seeded(seed + 3, *y.shape, dtype=dt)
    y.backward(gy.double())
    cases.add(name, dict(op=op, dtype=dtype), input=a, other=b, output=y.detach().to(dt), grad_output=gy,
              grad_input=ad.grad.to(dt), grad_other=bd.grad.to(dt))


def main():
    c = Cases()
    linear_case(c, "lin_3d_f32", 10, "f32", (2, 3, 5), (4, 5))
    linear_case(c, "lin_2d_nobias_f64", 20, "f64", (7, 6), (3, 6), bias=False)
    linear_case(c, "lin_1d_f32", 30, "f32", (5,), (2, 5))
    linear_case(c, "lin_4d_f64", 40, "f64", (2, 2, 3, 8), (5, 8))
    matmul_case(c, "mm_2x2_f32", 50, "matmul", "f32", (4, 6), (6, 3))
    matmul_case(c, "mm_3x2_f64", 60, "matmul", "f64", (2, 3, 4), (4, 5))
    matmul_case(c, "mm_4x3_f32", 70, "matmul", "f32", (3, 1, 2, 4), (2, 4, 3))
    matmul_case(c, "mm_2x4_f64", 80, "matmul", "f64", (3, 4), (2, 2, 4, 5))
    matmul_case(c, "bmm_f32", 90, "bmm", "f32", (3, 2, 5), (3, 5, 4))
    matmul_case(c, "bmm_f64", 100, "bmm", "f64", (2, 4, 3), (2, 3, 2))
    c.write("nn/linear.safetensors")


if __name__ == "__main__":
    main()
