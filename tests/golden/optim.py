"""Golden trajectories of torch.optim (PyTorch 1.13) for the optimiser tests.

Loss: sum(sin(p) * c + d * p**2) over two parameters of different shapes; 20 steps. Stored per
case: the parameters after every step, "<case>.w.<step>" and "<case>.b.<step>".
Run: /usr/bin/python3 tests/golden/optim.py
"""
import math

import torch

from golden_common import Cases, seeded

STEPS = 20


def loss_fn(params, consts):
    total = 0
    for p, (c, d) in zip(params, consts):
        total = total + (torch.sin(p) * c + d * p * p).sum()
    return total


def run(cases, name, dtype, make_opt, attrs, clip=None, schedule=None):
    w = seeded(1, 3, 4, dtype=dtype).requires_grad_(True)
    b = seeded(2, 5, dtype=dtype).requires_grad_(True)
    consts = [(seeded(3, 3, 4, dtype=dtype), seeded(4, 3, 4, dtype=dtype, low=0.1, high=0.5)),
              (seeded(5, 5, dtype=dtype), seeded(6, 5, dtype=dtype, low=0.1, high=0.5))]
    opt = make_opt([w, b])
    sched = None
    if schedule is not None:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    tensors = {"w0": w.detach().clone(), "b0": b.detach().clone(),
               "c_w": consts[0][0], "d_w": consts[0][1], "c_b": consts[1][0], "d_b": consts[1][1]}
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_fn([w, b], consts)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([w, b], clip)
        opt.step()
        if sched is not None:
            sched.step()
        tensors[f"w.{step}"] = w.detach().clone()
        tensors[f"b.{step}"] = b.detach().clone()
    cases.add(name, attrs, **tensors)


def cosine(warmup, total):
    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    return f


def main():
    cases = Cases()
    for dtype, tag in ((torch.float64, "f64"), (torch.float32, "f32")):
        run(cases, f"sgd_plain_{tag}", dtype, lambda p: torch.optim.SGD(p, lr=0.1), {"opt": "sgd", "lr": 0.1})
        run(cases, f"sgd_momentum_{tag}", dtype,
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
            {"opt": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01})
        run(cases, f"sgd_nesterov_{tag}", dtype,
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, maximize=False),
            {"opt": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": True})
        run(cases, f"adam_{tag}", dtype, lambda p: torch.optim.Adam(p, lr=0.01),
            {"opt": "adam", "lr": 0.01})
        run(cases, f"adam_l2_amsgrad_{tag}", dtype,
            lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True),
            {"opt": "adam", "lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True})
        run(cases, f"adamw_{tag}", dtype, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05),
            {"opt": "adamw", "lr": 0.01, "weight_decay": 0.05})
        run(cases, f"adamw_clip_cosine_{tag}", dtype, lambda p: torch.optim.AdamW(p, lr=0.05),
            {"opt": "adamw", "lr": 0.05, "weight_decay": 0.01, "clip": 0.5, "warmup": 5, "total": 20},
            clip=0.5, schedule=cosine(5, 20))
    cases.write("optim/trajectories.safetensors")


if __name__ == "__main__":
    main()
