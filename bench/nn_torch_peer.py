#!/usr/bin/python3
"""PyTorch peer of bench/nn_bench.cpp: matmul, conv2d, conv3d forward and forward+backward with the
same shapes and FLOP counts, timed by process CPU time (time.process_time) like the C++ side.

    /usr/bin/python3 bench/nn_torch_peer.py [--threads 1] [--min-seconds 0.5]

Needs Debian's python3-torch with libopenblas0-pthread installed (scripts/install-deps --golden):
with the reference BLAS, torch's matmul is ~80x slower.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def measure(fn, min_seconds):
    fn()  # warm-up
    n, start = 0, time.process_time()
    while True:
        fn()
        n += 1
        elapsed = time.process_time() - start
        if elapsed >= min_seconds and n >= 3:
            return elapsed / n


def workloads():
    g = torch.Generator().manual_seed(0)

    def rand(*shape, grad):
        return (torch.rand(*shape, generator=g) * 2 - 1).requires_grad_(grad)

    for n in (256, 1024):
        for bwd in (False, True):
            a, b = rand(n, n, grad=bwd), rand(n, n, grad=bwd)
            flops = (3 if bwd else 1) * 2.0 * n ** 3
            yield f"matmul/{'forward_backward' if bwd else 'forward'}/{n}", flops, (
                lambda a=a, b=b, bwd=bwd: (a @ b).backward(torch.ones(n, n)) if bwd else a @ b)
    for c in (16, 64):
        for bwd in (False, True):
            x, w = rand(8, c, 32, 32, grad=bwd), rand(c, c, 3, 3, grad=bwd)
            flops = (3 if bwd else 1) * 2.0 * 8 * c * 32 * 32 * c * 9
            gy = torch.ones(8, c, 32, 32)
            yield f"conv2d/{'forward_backward' if bwd else 'forward'}/{c}", flops, (
                lambda x=x, w=w, gy=gy, bwd=bwd: F.conv2d(x, w, padding=1).backward(gy) if bwd else F.conv2d(
                    x, w, padding=1))
    for c in (16, 32):
        for bwd in (False, True):
            x, w = rand(2, c, 8, 32, 32, grad=bwd), rand(c, c, 3, 3, 3, grad=bwd)
            flops = (3 if bwd else 1) * 2.0 * 2 * c * 8 * 32 * 32 * c * 27
            gy = torch.ones(2, c, 8, 32, 32)
            yield f"conv3d/{'forward_backward' if bwd else 'forward'}/{c}", flops, (
                lambda x=x, w=w, gy=gy, bwd=bwd: F.conv3d(x, w, padding=1).backward(gy) if bwd else F.conv3d(
                    x, w, padding=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=0.5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = []
    for name, flops, fn in workloads():
        seconds = measure(fn, args.min_seconds)
        out.append({"name": name, "cpu_ms": seconds * 1e3, "gflops": flops / seconds * 1e-9})
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": out}, indent=1))


if __name__ == "__main__":
    main()
