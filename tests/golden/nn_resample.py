"""Golden cases of pooling, interpolate, pad and fft2/ifft2 (torch 1.13, Debian's /usr/bin/python3).

Writes tests/golden/nn/resample.safetensors. Every case stores input, output, grad_output and
grad_input; its attributes (op, dtype and torch's keyword arguments) are JSON in the metadata.
Each case is generated in float32 (suffix _f32) and float64 (suffix _f64) from the same values.
"""
import golden_common as gc
import torch
import torch.nn.functional as F

cases = gc.Cases()
DTYPES = [("f32", torch.float32), ("f64", torch.float64)]
seed = [100]


def next_seed():
    seed[0] += 1
    return seed[0]


def add(name, op, attrs, shape, fn, quantize=None):
    """fn(x) -> output; the same values in both dtypes."""
    base = gc.seeded(next_seed(), *shape)
    if quantize:
        base = torch.round(base * quantize) / quantize  # ties for max_pool
    g_seed = next_seed()
    for suffix, dtype in DTYPES:
        x = base.to(dtype).clone().requires_grad_(True)
        y = fn(x)
        gy = gc.seeded(g_seed, *y.shape, dtype=dtype)
        y.backward(gy)
        meta = dict(attrs, op=op, dtype="float32" if dtype == torch.float32 else "float64", rank=len(shape))
        cases.add(f"{name}_{suffix}", meta, input=x.detach(), output=y.detach(), grad_output=gy, grad_input=x.grad)


# ---- avg_pool ------------------------------------------------------------------------------------
def avg(n, name, shape, **kw):
    fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
    attrs = dict(kw)
    attrs.setdefault("stride", [0] * n)
    attrs.setdefault("padding", [0] * n)
    attrs.setdefault("ceil_mode", False)
    attrs.setdefault("count_include_pad", True)
    attrs.setdefault("divisor_override", None)
    args = dict(kw)
    if "stride" in args and args["stride"] == [0] * n:
        del args["stride"]
    if n == 1:
        args.pop("divisor_override", None)
    add(name, f"avg_pool{n}d", attrs, shape, lambda x: fn(x, **args))


avg(1, "avg1_ceil_nopad", [2, 3, 9], kernel_size=[3], stride=[2], padding=[1], ceil_mode=True, count_include_pad=False)
avg(1, "avg1_default_stride", [2, 2, 10], kernel_size=[3])
avg(2, "avg2_ceil_pad", [1, 2, 7, 6], kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True)
avg(2, "avg2_ceil_nopad", [1, 2, 7, 6], kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True,
    count_include_pad=False)
avg(2, "avg2_rect", [1, 3, 6, 7], kernel_size=[2, 3], stride=[1, 2], padding=[1, 0])
avg(2, "avg2_divisor", [1, 2, 5, 5], kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], divisor_override=5)
avg(2, "avg2_unbatched", [3, 7, 7], kernel_size=[3, 3], stride=[3, 3], ceil_mode=True)
avg(3, "avg3_ceil_nopad", [1, 1, 5, 6, 5], kernel_size=[2, 3, 2], stride=[2, 2, 1], padding=[1, 1, 0],
    ceil_mode=True, count_include_pad=False)
avg(3, "avg3_default", [2, 1, 4, 4, 6], kernel_size=[2, 2, 3])


# ---- max_pool ------------------------------------------------------------------------------------
def maxp(n, name, shape, quantize=None, **kw):
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
    attrs = dict(kw)
    attrs.setdefault("stride", [0] * n)
    attrs.setdefault("padding", [0] * n)
    attrs.setdefault("dilation", [1] * n)
    attrs.setdefault("ceil_mode", False)
    args = dict(kw)
    if "stride" in args and args["stride"] == [0] * n:
        del args["stride"]
    add(name, f"max_pool{n}d", attrs, shape, lambda x: fn(x, **args), quantize=quantize)


maxp(1, "max1_dil_ceil", [2, 2, 11], kernel_size=[3], stride=[2], padding=[1], dilation=[2], ceil_mode=True)
maxp(2, "max2_ceil_pad", [1, 2, 7, 8], kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True)
maxp(2, "max2_dil", [1, 2, 8, 7], kernel_size=[2, 3], stride=[1, 2], padding=[1, 1], dilation=[2, 1])
maxp(2, "max2_ties", [1, 2, 6, 6], quantize=2, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1])
maxp(2, "max2_unbatched", [2, 5, 6], kernel_size=[2, 2])
maxp(3, "max3_ceil_pad", [1, 1, 5, 5, 6], kernel_size=[3, 3, 3], stride=[2, 2, 2], padding=[1, 1, 1], ceil_mode=True)


# ---- adaptive_avg_pool ---------------------------------------------------------------------------
def adaptive(n, name, shape, output_size):
    fn = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[n]
    add(name, f"adaptive_avg_pool{n}d", {"output_size": output_size}, shape, lambda x: fn(x, output_size))


adaptive(1, "adaptive1", [2, 3, 10], [4])
adaptive(2, "adaptive2", [1, 2, 7, 9], [3, 4])
adaptive(2, "adaptive2_up", [1, 2, 3, 3], [5, 4])
adaptive(3, "adaptive3", [1, 1, 5, 7, 6], [2, 3, 4])


# ---- interpolate ---------------------------------------------------------------------------------
def interp(name, shape, **kw):
    attrs = {"size": kw.get("size"), "scale_factor": kw.get("scale_factor"), "mode": kw.get("mode", "nearest"),
             "align_corners": kw.get("align_corners"), "recompute_scale_factor": kw.get("recompute_scale_factor")}
    add(name, "interpolate", attrs, shape, lambda x: F.interpolate(x, **kw))


interp("nearest1_size", [2, 2, 5], size=[8])
interp("nearest2_x2", [1, 1, 4, 5], scale_factor=[2.0, 2.0])
interp("nearest2_frac", [1, 2, 5, 6], scale_factor=[1.7, 1.3])
interp("nearest2_down", [2, 1, 7, 6], size=[5, 3])
interp("nearest3_scale", [1, 1, 3, 4, 6], scale_factor=[1.5, 2.0, 0.5])
interp("nearest_exact2", [1, 2, 5, 6], size=[7, 4], mode="nearest-exact")
interp("linear1_ac", [2, 2, 5], scale_factor=[2.5], mode="linear", align_corners=True)
interp("linear1_noac", [2, 2, 5], scale_factor=[2.5], mode="linear", align_corners=False)
interp("bilinear_up_ac", [1, 2, 4, 5], size=[7, 9], mode="bilinear", align_corners=True)
interp("bilinear_up_noac", [1, 2, 4, 5], size=[7, 9], mode="bilinear", align_corners=False)
interp("bilinear_down_noac", [2, 1, 9, 8], size=[4, 5], mode="bilinear", align_corners=False)
interp("bilinear_scale", [1, 2, 5, 6], scale_factor=[1.3, 1.7], mode="bilinear", align_corners=False)
interp("bilinear_recompute", [1, 2, 5, 6], scale_factor=[1.3, 1.7], mode="bilinear", align_corners=False,
       recompute_scale_factor=True)
interp("bilinear_same", [1, 1, 5, 6], size=[5, 9], mode="bilinear", align_corners=True)
interp("trilinear_ac", [1, 1, 3, 4, 3], size=[5, 6, 4], mode="trilinear", align_corners=True)
interp("trilinear_noac", [1, 1, 3, 4, 3], scale_factor=[2.0, 1.5, 1.0], mode="trilinear", align_corners=False)
interp("area2", [1, 2, 7, 9], size=[3, 4], mode="area")


# ---- pad -----------------------------------------------------------------------------------------
def padc(name, shape, pad, mode="constant", value=0.0):
    kw = {"mode": mode}
    if mode == "constant":
        kw["value"] = value
    add(name, "pad", {"pad": pad, "mode": mode, "value": value}, shape, lambda x: F.pad(x, pad, **kw))


padc("const2", [1, 2, 4, 5], [1, 2, 0, 1], value=0.5)
padc("const_crop", [1, 2, 5, 6], [-1, 2, 1, -2])
padc("const_all_dims", [2, 3, 4], [1, 1, 0, 2, 1, 0])
padc("reflect1", [2, 3, 6], [2, 3], "reflect")
padc("reflect2", [1, 2, 4, 5], [1, 2, 3, 1], "reflect")
padc("reflect3", [1, 1, 3, 3, 4], [1, 1, 2, 0, 1, 2], "reflect")
padc("reflect2_unbatched", [2, 4, 5], [2, 2, 1, 1], "reflect")
padc("replicate1", [2, 2, 4], [3, 5], "replicate")
padc("replicate2", [1, 2, 3, 4], [2, 3, 4, 1], "replicate")
padc("replicate3", [1, 1, 2, 3, 3], [1, 2, 3, 0, 2, 1], "replicate")
padc("circular2", [1, 2, 4, 5], [2, 1, 1, 3], "circular")


# ---- fft2 / ifft2 --------------------------------------------------------------------------------
def fft_real(name, shape, norm):
    add(name, "fft2", {"norm": norm}, shape, lambda x: torch.view_as_real(torch.fft.fft2(x, norm=norm)))


def fft_complex(name, op, shape, norm):
    fn = torch.fft.fft2 if op == "fft2_complex" else torch.fft.ifft2
    add(name, op, {"norm": norm}, shape + [2], lambda x: torch.view_as_real(fn(torch.view_as_complex(x), norm=norm)))


fft_real("fft2_backward", [1, 2, 4, 6], "backward")
fft_real("fft2_ortho", [2, 5, 7], "ortho")
fft_real("fft2_forward", [1, 8, 8], "forward")
fft_real("fft2_prime", [1, 7, 11], "backward")
fft_complex("ifft2_backward", "ifft2", [1, 5, 6], "backward")
fft_complex("ifft2_ortho", "ifft2", [1, 1, 8, 4], "ortho")
fft_complex("ifft2_forward", "ifft2", [3, 7], "forward")
fft_complex("fft2c_backward", "fft2_complex", [2, 4, 5], "backward")

cases.write("nn/resample.safetensors")
