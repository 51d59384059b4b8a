"""Minimal safetensors writer/reader (no dependency on the safetensors package).

Format: u64 LE header length N, UTF-8 JSON header padded with spaces so N % 8 == 0, then the data
buffer; data_offsets are relative to the buffer start; tensors tile the buffer contiguously.
"""
import json
import struct

import numpy as np

_NP = {"BF16": np.uint16, "F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64,
       "U8": np.uint8, "F16": np.float16}


def f32_to_bf16_bits(x):
    """float32 -> bf16 bit pattern (uint16), round to nearest even on the top 16 bits."""
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    b = a.view(np.uint32).astype(np.uint64)
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        r[nan] = 0x7FC0
    return r


def bf16_bits_to_f32(u):
    u = np.ascontiguousarray(np.asarray(u, dtype=np.uint16))
    return (u.astype(np.uint32) << 16).view(np.float32)


def save(path, tensors):
    """tensors: dict name -> (dtype_str, numpy array). BF16 arrays are uint16 bit patterns."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        dt, arr = tensors[name]
        arr = np.ascontiguousarray(np.asarray(arr, dtype=_NP[dt]))
        data = arr.tobytes(order="C")
        header[name] = {"dtype": dt, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns dict name -> (dtype_str, numpy array) (BF16 as uint16 bit patterns)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    buf = raw[8 + n:]
    out = {}
    end_max = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        end_max = max(end_max, e)
        dt = info["dtype"]
        arr = np.frombuffer(buf[b:e], dtype=_NP[dt]).reshape(info["shape"])
        out[name] = (dt, arr)
    assert end_max == len(buf), "buffer size mismatch"
    return out


def as_f64(dt, arr):
    if dt == "BF16":
        return bf16_bits_to_f32(arr).astype(np.float64)
    return np.asarray(arr).astype(np.float64)
