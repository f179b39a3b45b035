"""Golden cases of the losses against PyTorch 1.13 (torch.nn.functional), the soft Dice loss
(formula in nn/functional/dice_loss.hpp) and the official focal frequency loss.

Run with Debian's python: /usr/bin/python3 tests/golden/nn_loss.py -> tests/golden/nn/loss.safetensors

Cases "<op><k>_<dtype>": input, target, output, grad_output, grad_input and grad_target where the
target is differentiable (float targets); class-index targets are int64. Optional tensors: weight,
pos_weight. Attributes are JSON metadata under the case name: "op", "rank", "reduction"
("none" for the unreduced form) and the loss's options.
"""
import torch
import torch.nn.functional as F

from golden_common import Cases, seeded

cases = Cases()
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def int_target(seed, shape, classes, ignore=None, ignore_every=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, classes, shape, generator=g, dtype=torch.int64)
    if ignore is not None:
        flat = t.view(-1)
        flat[::ignore_every] = ignore
    return t


def add(name, attrs, fn, x, target, target_grad, **extra):
    """fn(x, target) -> loss; stores gradients of x (and target when it is a float Variable)."""
    x = x.detach().clone().requires_grad_(True)
    if target_grad:
        target = target.detach().clone().requires_grad_(True)
    y = fn(x, target)
    gy = seeded(999, *(y.shape if y.dim() else (1,)), dtype=y.dtype, low=0.5, high=1.5).reshape(y.shape)
    inputs = [x, target] if target_grad else [x]
    grads = torch.autograd.grad(y, inputs, gy)
    tensors = dict(input=x, target=target, output=y, grad_output=gy, grad_input=grads[0], **extra)
    if target_grad:
        tensors["grad_target"] = grads[1]
    attrs = dict(attrs)
    attrs["rank"] = x.dim()
    cases.add(name, attrs, **tensors)


def dice(x, g, smooth, activation, reduction):
    p = {"none": lambda v: v, "sigmoid": torch.sigmoid, "softmax": lambda v: torch.softmax(v, 1)}[activation](x)
    dims = tuple(range(2, x.dim()))
    inter = (p * g).sum(dims)
    loss = 1 - (2 * inter + smooth) / (p.sum(dims) + g.sum(dims) + smooth)
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def focal_frequency(pred, target, alpha=1.0, patch_factor=1, ave_spectrum=False, log_matrix=False,
                    batch_matrix=False, loss_weight=1.0):
    """FocalFrequencyLoss.forward of github.com/EndlessSora/focal-frequency-loss (matrix=None)."""
    def tensor2freq(x):
        _, _, h, w = x.shape
        ph, pw = h // patch_factor, w // patch_factor
        patches = [x[:, :, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw]
                   for i in range(patch_factor) for j in range(patch_factor)]
        freq = torch.fft.fft2(torch.stack(patches, 1), norm="ortho")
        return torch.stack([freq.real, freq.imag], -1)

    recon_freq, real_freq = tensor2freq(pred), tensor2freq(target)
    if ave_spectrum:
        recon_freq = torch.mean(recon_freq, 0, keepdim=True)
        real_freq = torch.mean(real_freq, 0, keepdim=True)
    matrix_tmp = (recon_freq - real_freq) ** 2
    matrix_tmp = torch.sqrt(matrix_tmp[..., 0] + matrix_tmp[..., 1]) ** alpha
    if log_matrix:
        matrix_tmp = torch.log(matrix_tmp + 1.0)
    if batch_matrix:
        matrix_tmp = matrix_tmp / matrix_tmp.max()
    else:
        matrix_tmp = matrix_tmp / matrix_tmp.max(-1).values.max(-1).values[:, :, :, None, None]
    matrix_tmp[torch.isnan(matrix_tmp)] = 0.0
    matrix_tmp = torch.clamp(matrix_tmp, min=0.0, max=1.0)
    weight_matrix = matrix_tmp.clone().detach()
    tmp = (recon_freq - real_freq) ** 2
    freq_distance = tmp[..., 0] + tmp[..., 1]
    return torch.mean(weight_matrix * freq_distance) * loss_weight


for tag, dt in DTYPES.items():
    s = 0 if tag == "f32" else 500

    def rnd(*shape, low=-1.0, high=1.0):
        global s
        s += 1
        return seeded(s, *shape, dtype=dt, low=low, high=high)

    # mse / l1 / smooth_l1: some exact ties (input == target) for the l1 subgradient.
    for k, (shape, red) in enumerate([((3, 4), "mean"), ((2, 3, 4), "sum"), ((2, 3, 4), "none")]):
        for op in ("mse_loss", "l1_loss"):
            x, t = rnd(*shape, low=-2, high=2), rnd(*shape, low=-2, high=2)
            t.view(-1)[::5] = x.view(-1)[::5]
            add(f"{op}{k}_{tag}", {"op": op, "reduction": red},
                lambda a, b, op=op, red=red: getattr(F, op)(a, b, reduction=red), x, t, True)
    for k, (shape, red, beta) in enumerate([((3, 4), "mean", 1.0), ((2, 3, 4), "none", 0.5), ((2, 3, 4), "sum", 0.0),
                                            ((4, 5), "mean", 2.0)]):
        x, t = rnd(*shape, low=-2, high=2), rnd(*shape, low=-2, high=2)
        add(f"smooth_l1_loss{k}_{tag}", {"op": "smooth_l1_loss", "reduction": red, "beta": beta},
            lambda a, b, red=red, beta=beta: F.smooth_l1_loss(a, b, reduction=red, beta=beta), x, t, True)

    # kl_div: log-probability inputs; probability targets (all > 0) or log-probability targets.
    for k, (shape, red, log_target) in enumerate([((3, 5), "mean", False), ((3, 5), "batchmean", False),
                                                  ((2, 4, 3), "sum", False), ((2, 4, 3), "none", False),
                                                  ((3, 5), "batchmean", True), ((2, 4, 3), "none", True)]):
        x = torch.log_softmax(rnd(*shape, low=-3, high=3), 1)
        t = torch.softmax(rnd(*shape, low=-3, high=3), 1)
        if log_target:
            t = torch.log(t)
        add(f"kl_div{k}_{tag}", {"op": "kl_div", "reduction": red, "log_target": log_target},
            lambda a, b, red=red, lt=log_target: F.kl_div(a, b, reduction=red, log_target=lt), x, t, True)

    # cross_entropy with class indices.
    ce_index = [((4, 5), "mean", False, None, 0.0), ((2, 5, 3), "none", True, None, 0.0),
                ((3, 4, 2, 2), "sum", False, 1, 0.0), ((2, 5, 3), "mean", True, 2, 0.2),
                ((6, 3), "none", False, 0, 0.1), ((3, 4, 2, 2), "mean", True, None, 0.0)]
    for k, (shape, red, weighted, ignore, ls) in enumerate(ce_index):
        x = rnd(*shape, low=-4, high=4)
        tshape = (shape[0],) + shape[2:]
        t = int_target(100 + k, tshape, shape[1])
        if ignore is not None:
            t.view(-1)[::3] = ignore
        w = rnd(shape[1], low=0.2, high=2.0) if weighted else None
        ignore_index = ignore if ignore is not None else -100
        attrs = {"op": "cross_entropy", "reduction": red, "ignore_index": ignore_index, "label_smoothing": ls}
        extra = {"weight": w} if weighted else {}
        add(f"cross_entropy{k}_{tag}", attrs,
            lambda a, b, w=w, red=red, ii=ignore_index, ls=ls: F.cross_entropy(a, b, weight=w, reduction=red,
                                                                                ignore_index=ii, label_smoothing=ls),
            x, t, False, **extra)
    # cross_entropy with class probabilities.
    for k, (shape, red, weighted, ls) in enumerate([((4, 5), "mean", False, 0.0), ((2, 5, 3), "sum", True, 0.3),
                                                    ((2, 5, 3), "none", False, 0.1), ((3, 4, 2, 2), "mean", True, 0.0)]):
        x = rnd(*shape, low=-4, high=4)
        t = torch.softmax(rnd(*shape, low=-3, high=3), 1)
        w = rnd(shape[1], low=0.2, high=2.0) if weighted else None
        attrs = {"op": "cross_entropy_probs", "reduction": red, "label_smoothing": ls}
        extra = {"weight": w} if weighted else {}
        add(f"cross_entropy_probs{k}_{tag}", attrs,
            lambda a, b, w=w, red=red, ls=ls: F.cross_entropy(a, b, weight=w, reduction=red, label_smoothing=ls),
            x, t, True, **extra)

    # nll_loss on log-probabilities.
    for k, (shape, red, weighted, ignore) in enumerate([((4, 5), "mean", True, 3), ((2, 3, 4), "none", False, None),
                                                        ((2, 3, 2, 2), "sum", True, None), ((5, 4), "mean", False, 1)]):
        x = torch.log_softmax(rnd(*shape, low=-3, high=3), 1)
        tshape = (shape[0],) + shape[2:]
        t = int_target(200 + k, tshape, shape[1])
        if ignore is not None:
            t.view(-1)[::2] = ignore
        w = rnd(shape[1], low=0.2, high=2.0) if weighted else None
        ignore_index = ignore if ignore is not None else -100
        extra = {"weight": w} if weighted else {}
        add(f"nll_loss{k}_{tag}", {"op": "nll_loss", "reduction": red, "ignore_index": ignore_index},
            lambda a, b, w=w, red=red, ii=ignore_index: F.nll_loss(a, b, weight=w, reduction=red, ignore_index=ii),
            x, t, False, **extra)

    # binary_cross_entropy_with_logits; weight broadcasts (same rank), pos_weight per class (dim 1).
    bce = [((4, 3), "mean", None, False), ((4, 3), "sum", (1, 3), True), ((2, 3, 2, 2), "none", (2, 3, 2, 2), True),
           ((2, 3, 2, 2), "mean", (1, 3, 1, 1), True), ((5, 2), "none", None, False)]
    for k, (shape, red, wshape, pos) in enumerate(bce):
        x = rnd(*shape, low=-6, high=6)
        x.view(-1)[0] = 40.0  # large logits must stay finite
        x.view(-1)[1] = -40.0
        t = rnd(*shape, low=0, high=1)
        w = rnd(*wshape, low=0.2, high=2.0) if wshape else None
        pw = rnd(shape[1], low=0.5, high=3.0) if pos else None
        torch_pw = pw.view(shape[1], *([1] * (len(shape) - 2))) if pos else None
        extra = {}
        if w is not None:
            extra["weight"] = w
        if pw is not None:
            extra["pos_weight"] = pw
        add(f"bce_with_logits{k}_{tag}", {"op": "binary_cross_entropy_with_logits", "reduction": red},
            lambda a, b, w=w, red=red, pw=torch_pw: F.binary_cross_entropy_with_logits(a, b, weight=w, reduction=red,
                                                                                      pos_weight=pw),
            x, t, True, **extra)

    # soft Dice.
    for k, (shape, red, act, smooth) in enumerate([((2, 3, 4, 4), "mean", "softmax", 1.0),
                                                   ((2, 2, 5), "sum", "sigmoid", 0.5),
                                                   ((2, 3, 3, 3), "none", "none", 1e-5)]):
        x = rnd(*shape, low=-3, high=3) if act != "none" else rnd(*shape, low=0, high=1)
        t = (rnd(*shape, low=0, high=1) > 0.5).to(dt)
        add(f"dice_loss{k}_{tag}", {"op": "dice_loss", "reduction": red, "activation": act, "smooth": smooth},
            lambda a, b, red=red, act=act, sm=smooth: dice(a, b, sm, act, red), x, t, True)

    # focal frequency loss.
    ffl = [((2, 2, 8, 8), {}), ((2, 1, 8, 6), {"patch_factor": 2, "log_matrix": True}),
           ((3, 2, 4, 4), {"ave_spectrum": True, "batch_matrix": True}),
           ((1, 2, 6, 6), {"alpha": 2.0, "loss_weight": 0.5, "patch_factor": 3, "batch_matrix": True})]
    for k, (shape, opts) in enumerate(ffl):
        x, t = rnd(*shape), rnd(*shape)
        attrs = {"op": "focal_frequency_loss", "reduction": "mean", **opts}
        add(f"focal_frequency_loss{k}_{tag}", attrs, lambda a, b, o=opts: focal_frequency(a, b, **o), x, t, True)

cases.write("nn/loss.safetensors")
