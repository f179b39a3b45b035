"""PyTorch state_dicts of a small composite of torch.nn modules, for tests/unit/nn/module_state_dict_test.cpp.

The composite (no Sequential, named children as cinediff's test composite names them):
    image (N, 3, H, W) -> conv Conv2d(3, 8, 3, padding=1) -> norm GroupNorm(4, 8) -> bn BatchNorm2d(8)
    (eval mode, running statistics from three training batches) -> silu -> mean over H, W -> fc Linear(8, 16)
    tokens (N, L) int64 -> embed Embedding(10, 16); seq = ln LayerNorm(16)(embed(tokens) + fc(...)[:, None])
    video (N, 2, T, H, W) -> video Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1)
Outputs: seq (N, L, 16) and vid (N, 4, T, H/2, W/2).

Writes
    nn/modules_state_f32.safetensors, nn/modules_state_f64.safetensors: exactly model.state_dict()
        (torch's keys, num_batches_tracked int64 of shape ()), as a PyTorch user would save them;
    nn/modules.safetensors: per dtype case "f32" / "f64" the inputs and torch's outputs.
Run: /usr/bin/python3 tests/golden/nn_modules.py
"""
import torch
import torch.nn.functional as F

from golden_common import Cases, save, seeded


class Composite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm = torch.nn.GroupNorm(4, 8)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 16)
        self.embed = torch.nn.Embedding(10, 16)
        self.ln = torch.nn.LayerNorm(16)
        self.video = torch.nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1)

    def forward(self, image, tokens, video):
        h = F.silu(self.bn(self.norm(self.conv(image))))
        h = self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))
        seq = self.ln(self.embed(tokens) + h[:, None, :])
        return seq, self.video(video)


def main():
    torch.manual_seed(0)
    model = Composite()
    with torch.no_grad():
        # Non-trivial affine parameters of the norms (their defaults are 1 and 0).
        for m in (model.norm, model.bn, model.ln):
            m.weight.copy_(seeded(1, *m.weight.shape, dtype=torch.float32, low=0.5, high=1.5))
            m.bias.copy_(seeded(2, *m.bias.shape, dtype=torch.float32, low=-0.5, high=0.5))
        # Running statistics from three training-mode batches.
        model.train()
        for i in range(3):
            model(seeded(10 + i, 4, 3, 6, 6, dtype=torch.float32, low=-1, high=2),
                  torch.zeros(4, 1, dtype=torch.int64), seeded(20, 4, 2, 3, 4, 4, dtype=torch.float32))
    model.eval()
    assert int(model.bn.num_batches_tracked) == 3

    image = seeded(30, 2, 3, 6, 6)
    tokens = torch.tensor([[1, 4, 9, 0, 4], [7, 2, 2, 5, 3]], dtype=torch.int64)
    video = seeded(31, 2, 2, 4, 6, 6)
    cases = Cases()
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        m = Composite()
        m.load_state_dict(model.state_dict())
        m = m.to(dtype).eval()
        save(f"nn/modules_state_{tag}.safetensors", m.state_dict())
        with torch.no_grad():
            seq, vid = m(image.to(dtype), tokens, video.to(dtype))
        cases.add(tag, {}, image=image.to(dtype), tokens=tokens, video=video.to(dtype), seq=seq, vid=vid)
    cases.write("nn/modules.safetensors")


if __name__ == "__main__":
    main()
