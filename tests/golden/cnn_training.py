"""Golden loss curves of a small 2D CNN trained with PyTorch 1.13 (for tests/unit/nn/cnn_training_test.cpp).

Model (state_dict keys as cinediff's tiny_cnn): conv1 Conv2d(1,4,3,p=1) -> ReLU -> MaxPool2d(2)
-> conv2 Conv2d(4,8,3,p=1) -> ReLU -> AdaptiveAvgPool2d(1) -> flatten -> fc Linear(8,2);
cross-entropy loss; SGD(lr=0.05, momentum=0.9); 50 steps of batch 16 in a fixed order.

Two tasks:
- "generated": 48 images 28x28 made here (class 1 has a bright blob), stored in the file.
- "breastmnist": the real BreastMNIST training images from $CINEDIFF_DATA (../shared/data);
  only the batch indices, initial weights and the loss curve are stored (the data's licence
  forbids copying it into the repository). Images are scaled to [0, 1], labels as in the file.
Both in float64 and float32. Run: /usr/bin/python3 tests/golden/cnn_training.py
"""
import os

import numpy as np
import torch

from golden_common import Cases

STEPS = 50
BATCH = 16


class TinyCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 2)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv2(x)), 1)
        return self.fc(x.flatten(1))


def generated_task():
    g = torch.Generator().manual_seed(11)
    n = 48
    labels = torch.arange(n) % 2
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    images = torch.rand(n, 1, 28, 28, generator=g, dtype=torch.float64) * 0.5
    for i in range(n):
        if labels[i] == 1:
            cy, cx = 8 + (i * 7) % 12, 8 + (i * 5) % 12
            images[i, 0] += 0.6 * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0)
    # Stored once in float32; the float64 run uses the same values (the cast is exact).
    return images.float().double(), labels


def breastmnist_task():
    root = os.environ.get("CINEDIFF_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    d = np.load(os.path.join(root, "breastmnist", "breastmnist.npz"))
    images = torch.from_numpy(d["train_images"].astype(np.float64) / 255.0).unsqueeze(1)
    labels = torch.from_numpy(d["train_labels"].reshape(-1).astype(np.int64))
    return images, labels


def train(cases, name, images, labels, dtype):
    torch.manual_seed(5)
    model = TinyCNN().to(dtype)
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(3))
    batches = torch.stack([order[(s * BATCH + torch.arange(BATCH)) % images.shape[0]] for s in range(STEPS)])
    losses = []
    for s in range(STEPS):
        idx = batches[s]
        x = images[idx].to(dtype)
        loss = torch.nn.functional.cross_entropy(model(x), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    tensors = {f"init.{k}": v for k, v in init.items()}
    tensors["batches"] = batches
    tensors["losses"] = torch.tensor(losses, dtype=torch.float64)
    cases.add(name, {"steps": STEPS, "batch": BATCH, "lr": 0.05, "momentum": 0.9}, **tensors)


def main():
    cases = Cases()
    gi, gl = generated_task()
    bi, bl = breastmnist_task()
    for dtype, tag in ((torch.float64, "f64"), (torch.float32, "f32")):
        train(cases, f"generated_{tag}", gi, gl, dtype)
        train(cases, f"breastmnist_{tag}", bi, bl, dtype)
    cases.add("generated", {}, images=gi.float(), labels=gl)
    cases.write("nn/cnn_training.safetensors")


if __name__ == "__main__":
    main()
