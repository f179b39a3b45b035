"""Shared helpers of the golden-file generators (run with Debian's /usr/bin/python3).

Golden files are safetensors: every case's tensors are stored as "<case>.<name>", and the case's
attributes as JSON text in the metadata under "<case>". The writer follows the safetensors format
(u64 little-endian header length, JSON header padded with spaces to a multiple of 8, then the
tensors' bytes); Debian has no safetensors package.
"""
import json
import os
import struct

import numpy as np
import torch

DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.bool: "BOOL",
    torch.uint8: "U8",
}

HERE = os.path.dirname(os.path.abspath(__file__))


def save(relative_path, tensors, metadata=None):
    """Writes {name: torch.Tensor} and {key: str} to tests/golden/<relative_path> atomically."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path = os.path.join(HERE, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)
    print(f"wrote {relative_path}: {len(tensors)} tensors, {offset} bytes")


def seeded(seed, *shape, dtype=torch.float64, low=-1.0, high=1.0):
    """Reproducible inputs independent of torch's global RNG state."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype)


class Cases:
    """Collects cases: add(name, attrs, **tensors) then write(path)."""

    def __init__(self):
        self.tensors = {}
        self.meta = {}

    def add(self, case, attrs, **tensors):
        self.meta[case] = json.dumps(attrs, sort_keys=True)
        for k, v in tensors.items():
            self.tensors[f"{case}.{k}"] = v

    def write(self, relative_path):
        save(relative_path, self.tensors, self.meta)
