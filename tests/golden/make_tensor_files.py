#!/usr/bin/python3
"""Writes the tensor-file fixtures in tensor_files/ (run once; the output is committed).

Run with Debian's interpreter, which has python3-numpy and python3-torch:
    /usr/bin/python3 tests/golden/make_tensor_files.py

.npy/.npz come from NumPy itself (np.save, np.savez, np.savez_compressed). Debian 12 packages no
`safetensors` module, so the .safetensors files are written by `save_safetensors` below, a
transcription of the reference Rust writer (huggingface/safetensors, safetensors/src/tensor.rs:
`prepare` and `Metadata::serialize`) that safetensors.torch.save_file and diffusers call: tensors
sorted by dtype (descending in the reference's Dtype enum order) then name, `__metadata__` first,
compact JSON, spaces up to a multiple of 8 bytes. Its tensors come from PyTorch (including bfloat16,
which NumPy lacks). The script checks its own output against the reference's published test
vectors before writing anything.

expected.json records, for every array, the dtype, shape and the C-order little-endian bytes (hex),
which is what cinediff's readers must produce whatever order and byte order the file used.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensor_files")

# Reference Dtype enum order (safetensors/src/tensor.rs); the writer sorts by it, descending.
ST_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
            "I32", "U32", "F32", "F64", "I64", "U64"]
ST_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
           "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
NP_TO_ST = {"f2": "F16", "f4": "F32", "f8": "F64", "i1": "I8", "i2": "I16", "i4": "I32", "i8": "I64",
            "u1": "U8", "u2": "U16", "u4": "U32", "u8": "U64", "b1": "BOOL"}


def save_safetensors(path, tensors, metadata=None):
    """tensors: name -> (ST dtype, shape list, little-endian C-order bytes)."""
    data = serialize_safetensors(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)


def serialize_safetensors(tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-ST_ORDER.index(kv[1][0]), kv[0].encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape, raw) in items:
        assert len(raw) == int(np.prod(shape, dtype=np.int64)) * ST_SIZE[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(raw for _, (_, _, raw) in items)


def check_writer_against_reference_vectors():
    # test_serialization / test_empty in safetensors/src/tensor.rs.
    data = struct.pack("<6f", 0, 1, 2, 3, 4, 5)
    got = serialize_safetensors({"attn.0": ("F32", [1, 2, 3], data)})
    want = (bytes([64, 0, 0, 0, 0, 0, 0, 0]) +
            b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}' + data)
    assert got == want, got
    assert serialize_safetensors({}) == bytes([8, 0, 0, 0, 0, 0, 0, 0]) + b"{}      "
    assert serialize_safetensors({}, {"framework": "pt"}) == (
        bytes([40, 0, 0, 0, 0, 0, 0, 0]) + b'{"__metadata__":{"framework":"pt"}}     ')


def from_torch(t):
    """(ST dtype, shape, bytes) of a torch tensor, as safetensors.torch does (C order, little-endian)."""
    names = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
             torch.int8: "I8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
             torch.uint8: "U8", torch.bool: "BOOL"}
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
    else:
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
    return names[t.dtype], list(t.shape), raw


expected = {}


def expect(key, st_dtype, shape, raw):
    expected[key] = {"dtype": st_dtype, "shape": list(shape), "hex": raw.hex()}


def expect_np(key, a):
    a = np.asarray(a)
    expect(key, NP_TO_ST[a.dtype.str[1:]], a.shape, np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())


def sample(code, shape):
    n = int(np.prod(shape))
    if code == "b1":
        return (np.arange(n) % 3 == 0).reshape(shape)
    if code[0] == "f":
        return np.linspace(-2.5, 3.25, n).astype(code).reshape(shape)
    # Integers spread over the whole range, both extremes included (exact Python arithmetic).
    info = np.iinfo(code)
    lo, hi = int(info.min), int(info.max)
    values = [lo + (hi - lo) * i // max(n - 1, 1) for i in range(n)]
    return np.array(values, dtype=code).reshape(shape)


def main():
    check_writer_against_reference_vectors()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    codes = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
    for code in codes:
        a = sample(code, (2, 3, 4))
        np.save(os.path.join(OUT, f"{code}_c.npy"), a)
        expect_np(f"{code}_c.npy", a)
        # Fortran order: the bytes on disk are column-major; readers must return C order.
        np.save(os.path.join(OUT, f"{code}_fortran.npy"), np.asfortranarray(a))
        expect_np(f"{code}_fortran.npy", a)
        if code not in ("i1", "u1", "b1"):
            b = a.astype(a.dtype.newbyteorder(">"))
            assert b.dtype.str[0] == ">"
            np.save(os.path.join(OUT, f"{code}_big.npy"), b)
            expect_np(f"{code}_big.npy", a)
    big_fortran = np.asfortranarray(sample("i4", (3, 5)).astype(">i4"))
    np.save(os.path.join(OUT, "i4_big_fortran.npy"), big_fortran)
    expect_np("i4_big_fortran.npy", sample("i4", (3, 5)))

    special = {
        "scalar_f8.npy": np.array(3.5, dtype="f8"),
        "empty_f4.npy": np.zeros((0, 3), dtype="f4"),
        "empty_1d_i8.npy": np.zeros((0,), dtype="i8"),
        "vector_u2.npy": np.arange(7, dtype="u2"),
        "f4_specials.npy": np.array([np.inf, -np.inf, np.nan, -0.0, 1e-45, 3.4028235e38], dtype="f4"),
        "f2_specials.npy": np.array([np.inf, -np.inf, np.nan, -0.0, 6e-8, 65504, 0.1], dtype="f2"),
    }
    for name, a in special.items():
        np.save(os.path.join(OUT, name), a)
        expect_np(name, a)

    arrays = {"frames": sample("f4", (2, 3)), "labels": sample("i8", (4,)), "mask": sample("b1", (2, 2)),
              "half": sample("f2", (3,)), "scalar": np.array(7, dtype="u1"), "empty": np.zeros((0, 2), "f8"),
              "fortran": np.asfortranarray(sample("u4", (2, 3))), "big": sample("i2", (5,)).astype(">i2")}
    np.savez(os.path.join(OUT, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), **arrays)
    for name, a in arrays.items():
        expect_np(f"stored.npz/{name}", a)
        expect_np(f"compressed.npz/{name}", a)
    np.savez(os.path.join(OUT, "empty.npz"))

    torch.manual_seed(0)
    tensors = {
        "conv.weight": torch.randn(4, 3, 3, 3),
        "conv.bias": torch.randn(4),
        "norm.weight": torch.randn(8, dtype=torch.float64),
        "emb.bf16": torch.randn(2, 5).to(torch.bfloat16),
        "emb.f16": torch.randn(3, 2).to(torch.float16),
        "step": torch.tensor(1234567890123, dtype=torch.int64),
        "ids.i32": torch.tensor([-7, 0, 2147483647], dtype=torch.int32),
        "ids.i16": torch.tensor([[-32768, 1], [2, 32767]], dtype=torch.int16),
        "ids.i8": torch.tensor([-128, 127], dtype=torch.int8),
        "pixels": torch.tensor([0, 17, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 4),
        "up.blocks.0.\u00e9": torch.ones(2),  # non-ASCII names are UTF-8 in the header
    }
    st = {name: from_torch(t) for name, t in tensors.items()}
    # U16/U32/U64 exist in safetensors but not in torch 1.13: from NumPy.
    for name, a in {"u16": np.array([0, 65535], "u2"), "u32": np.array([1, 4294967295], "u4"),
                    "u64": np.array([2, 18446744073709551615], "u8")}.items():
        st[name] = (NP_TO_ST[a.dtype.str[1:]], list(a.shape), a.tobytes())
    metadata = {"format": "pt", "note": "cinediff fixture"}
    save_safetensors(os.path.join(OUT, "model.safetensors"), st, metadata)
    save_safetensors(os.path.join(OUT, "no_metadata.safetensors"), {"x": st["conv.bias"]})
    save_safetensors(os.path.join(OUT, "empty.safetensors"), {})
    for name, (dtype, shape, raw) in st.items():
        expect(f"model.safetensors/{name}", dtype, shape, raw)
    expected["model.safetensors/__metadata__"] = metadata

    # Written by older writers in name order rather than dtype order: readers must sort by offset.
    parts = [("b", from_torch(torch.arange(3, dtype=torch.int64))), ("a", from_torch(torch.ones(2, dtype=torch.float16)))]
    header = {}
    offset = 0
    for name, (dtype, shape, raw) in sorted(parts):
        header[name] = {"data_offsets": [offset, offset + len(raw)], "shape": shape, "dtype": dtype}
        offset += len(raw)
    text = json.dumps(header).encode()
    with open(os.path.join(OUT, "name_ordered.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(p[1][2] for p in sorted(parts)))
    for name, (dtype, shape, raw) in parts:
        expect(f"name_ordered.safetensors/{name}", dtype, shape, raw)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, numpy {np.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())
