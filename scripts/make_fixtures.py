#!/usr/bin/env python3
"""Writes the .safetensors interoperability fixtures in tests/fixtures/.

Regenerate with:  python3 scripts/make_fixtures.py   (from the repository root; Python 3 standard library only)

The files reproduce the tensor names and layouts of the PyTorch modules named below, but this script was NOT run
with PyTorch (there is no torch or numpy where it was written): the tensors are pseudo-random (random.Random with
fixed seeds, rounded to float32) and the expected outputs are computed here in float64 by plain loops that
transcribe the modules' forward passes.

  monarch_fly.safetensors      HazyResearch/fly MonarchLinear(in_features=12, out_features=20, nblocks=4) state dict:
                               blkdiag1 [4,3,3], blkdiag2 [4,5,3], bias [20]
  monarch_fly_io.safetensors   x [2,12], y [2,20] = blockdiag_butterfly_multiply_reference(x, blkdiag1, blkdiag2,
                               version=2) + bias
  lora_peft.safetensors        PEFT LoRA on a 10 -> 8 nn.Linear, r = 3, lora_alpha = 6 (scale = alpha / r = 2):
                               base_layer.weight [8,10], lora_A.weight [3,10], lora_B.weight [8,3]
  lora_peft_io.safetensors     x [2,10], y [2,8] = x W0^T + scale * x A^T B^T   (metadata: r, lora_alpha, scale)
  hra_peft.safetensors         PEFT HRA on a 6 -> 6 nn.Linear, r = 4: base_layer.weight [6,6], hra_u [6,4]
  hra_peft_io.safetensors      x [2,6], y [2,6] = x (W0 H)^T, H = H_1 ... H_r, H_i = I - 2 u_i u_i^T / |u_i|^2

The writer below follows the reference (huggingface/safetensors tensor.rs): 8-byte little-endian header length,
compact JSON with "__metadata__" first (keys sorted here), tensors sorted by name (all F32), data_offsets
contiguous from 0, the header padded with spaces to a multiple of 8 bytes, little-endian float32 data.
"""

import json
import os
import random
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures")


def f32(v):
    """Round a Python float to the nearest float32 (the value the file stores)."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def uniform(n, seed, scale=1.0):
    rng = random.Random(seed)
    return [f32(scale * (2.0 * rng.random() - 1.0)) for _ in range(n)]


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (shape, flat row-major list of floats). Written as F32."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda s: s.encode("utf-8"))}
    names = sorted(tensors, key=lambda s: s.encode("utf-8"))
    offset = 0
    for name in names:
        shape, data = tensors[name]
        count = 1
        for d in shape:
            count *= d
        assert count == len(data), (name, shape, len(data))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in names:
            f.write(struct.pack("<%df" % len(tensors[name][1]), *tensors[name][1]))


def monarch_fly():
    # MonarchLinear(12, 20, nblocks=4): in_blksz = ceil(12/4) = 3, out_blksz = ceil(20/4) = 5; 12 < 20, so
    # blkdiag1 = [nblocks, in_blksz, in_blksz] and blkdiag2 = [nblocks, out_blksz, in_blksz].
    batch, n_in, n_out = 2, 12, 20
    k, q, p = 4, 3, 3
    l, s, r = 4, 5, 3
    w1 = uniform(k * q * p, 101)
    w2 = uniform(l * s * r, 102)
    bias = uniform(n_out, 103, 0.5)
    x = uniform(batch * n_in, 104)

    # blockdiag_butterfly_multiply_reference, version 2, transcribed:
    #   x_reshaped = rearrange(x, 'b (k p) -> b k p', k=k)
    #   out1 = einsum('kqp,bkp->bkq', w1_bfly, x_reshaped)
    #   out1 = rearrange(rearrange(out1, 'b k q -> b (k q)'), 'b (r l) -> b l r', l=l)
    #   return rearrange(einsum('lsr,blr->bsl', w2_bfly, out1), 'b s l -> b (s l)')
    assert k * p == n_in and l * r == k * q and s * l == n_out
    y = []
    for b in range(batch):
        xr = [[x[b * n_in + kk * p + pp] for pp in range(p)] for kk in range(k)]
        out1 = [[sum(w1[(kk * q + qq) * p + pp] * xr[kk][pp] for pp in range(p)) for qq in range(q)] for kk in range(k)]
        flat = [out1[kk][qq] for kk in range(k) for qq in range(q)]
        mid = [[flat[rr * l + ll] for rr in range(r)] for ll in range(l)]
        out2 = [[sum(w2[(ll * s + ss) * r + rr] * mid[ll][rr] for rr in range(r)) for ll in range(l)] for ss in range(s)]
        row = [out2[ss][ll] for ss in range(s) for ll in range(l)]
        y.extend(row[j] + bias[j] for j in range(n_out))  # StructuredLinear.forward: forward_matmul(x) + bias

    write_safetensors(os.path.join(OUT, "monarch_fly.safetensors"),
                      {"blkdiag1": ([k, q, p], w1), "blkdiag2": ([l, s, r], w2), "bias": ([n_out], bias)})
    write_safetensors(os.path.join(OUT, "monarch_fly_io.safetensors"),
                      {"x": ([batch, n_in], x), "y": ([batch, n_out], y)},
                      {"source": "HazyResearch/fly blockdiag_butterfly_multiply_reference version 2 + bias",
                       "module": "MonarchLinear(in_features=12, out_features=20, nblocks=4)"})


def linear(x, w, batch, n_in, n_out):
    """x [batch, n_in] times w [n_out, n_in] transposed, as nn.Linear without bias."""
    return [sum(x[b * n_in + i] * w[o * n_in + i] for i in range(n_in)) for b in range(batch) for o in range(n_out)]


def lora_peft():
    batch, n_in, n_out, rank, alpha = 2, 10, 8, 3, 6
    scale = alpha / rank
    w0 = uniform(n_out * n_in, 201)
    a = uniform(rank * n_in, 202)
    b_ = uniform(n_out * rank, 203)  # PEFT initialises B to zero; non-zero here so that the check can fail
    x = uniform(batch * n_in, 204)
    base = linear(x, w0, batch, n_in, n_out)
    xa = linear(x, a, batch, n_in, rank)  # lora_A(x)
    xab = linear(xa, b_, batch, rank, n_out)  # lora_B(lora_A(x))
    y = [base[j] + scale * xab[j] for j in range(batch * n_out)]
    write_safetensors(os.path.join(OUT, "lora_peft.safetensors"),
                      {"base_layer.weight": ([n_out, n_in], w0), "lora_A.weight": ([rank, n_in], a),
                       "lora_B.weight": ([n_out, rank], b_)},
                      {"r": str(rank), "lora_alpha": str(alpha), "scale": repr(scale)})
    write_safetensors(os.path.join(OUT, "lora_peft_io.safetensors"),
                      {"x": ([batch, n_in], x), "y": ([batch, n_out], y)},
                      {"r": str(rank), "lora_alpha": str(alpha), "scale": repr(scale)})


def hra_peft():
    batch, n, rank = 2, 6, 4
    w0 = uniform(n * n, 301)
    u = uniform(n * rank, 302)  # hra_u [n, r]: column i is u_i
    x = uniform(batch * n, 303)
    h = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    for i in range(rank):
        col = [u[a * rank + i] for a in range(n)]
        norm2 = sum(c * c for c in col)
        refl = [[(1.0 if a == c else 0.0) - 2.0 * col[a] * col[c] / norm2 for c in range(n)] for a in range(n)]
        h = [[sum(h[a][m] * refl[m][c] for m in range(n)) for c in range(n)] for a in range(n)]  # H <- H H_i
    w = [sum(w0[o * n + m] * h[m][i] for m in range(n)) for o in range(n) for i in range(n)]  # W0 H
    y = linear(x, w, batch, n, n)
    write_safetensors(os.path.join(OUT, "hra_peft.safetensors"),
                      {"base_layer.weight": ([n, n], w0), "hra_u": ([n, rank], u)},
                      {"r": str(rank), "apply_GS": "False"})
    write_safetensors(os.path.join(OUT, "hra_peft_io.safetensors"),
                      {"x": ([batch, n], x), "y": ([batch, n], y)},
                      {"r": str(rank), "apply_GS": "False"})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    monarch_fly()
    lora_peft()
    hra_peft()
    print("wrote fixtures to", OUT)
