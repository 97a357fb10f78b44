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
  oft_peft.safetensors         PEFT OFT (oft_block_size = 4, r = 0) on two modules of one model, keys as in the
                               PeftModel's state dict with adapter "default":
                               base_model.model.layers.0.q_proj.base_layer.weight [8,12], ...q_proj.oft_R.default.weight [3,6],
                               base_model.model.layers.0.v_proj.base_layer.weight [12,12], ...v_proj.oft_R.default.weight [3,6]
  oft_peft_adapter.safetensors the same adapter as save_pretrained writes adapter_model.safetensors: no base weights, no
                               adapter name (base_model.model.layers.0.q_proj.oft_R.weight, ...v_proj.oft_R.weight)
  boft_peft.safetensors        PEFT BOFT (boft_block_size = 2, boft_n_butterfly_factor = 3, with the fbd CUDA extension,
                               without which PEFT drops to 1 factor) on q_proj (16 -> 12, with a base bias) and v_proj
                               (16 -> 16): ...M.base_layer.weight, ...q_proj.base_layer.bias, ...M.boft_R.default [3,8,2,2],
                               ...M.boft_s.default [out,1]
  boft_peft_io.safetensors     x [2,16]; M.y = BOFT Linear.forward: x_rotated = x @ (M_2 M_1 M_0), M_i = P_i BD_i P_i^T,
                               result = (base_layer(x_rotated) - bias) * boft_s + bias (src/peft/tuners/boft/layer.py
                               at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40)
  loha_peft.safetensors        PEFT LoHa (r = 3, alpha = 6: scaling 2) on q_proj (12 -> 8) and v_proj (12 -> 12):
                               ...M.base_layer.weight, ...M.hada_w1_a.default [out,3], hada_w1_b [3,12], hada_w2_a, hada_w2_b
  loha_peft_io.safetensors     x [2,12]; M.y = base_layer(x) + x @ ((w1a @ w1b) * (w2a @ w2b) * scale)^T (LoHa
                               Linear.forward with make_weight; src/peft/tuners/loha/layer.py at 5d602fd)
  dora_peft.safetensors        PEFT LoRA with use_dora=True (r = 3, lora_alpha = 6: scaling 2) on q_proj (12 -> 8, with a base
                               bias) and v_proj (12 -> 12): ...M.base_layer.weight, ...q_proj.base_layer.bias,
                               ...M.lora_A.default.weight, ...M.lora_B.default.weight, ...M.lora_magnitude_vector.default.weight
  dora_peft_adapter.safetensors the DoRA adapter as save_pretrained writes it: no base, no adapter name, and the magnitude
                               under ...M.lora_magnitude_vector (PEFT drops its ".weight"; lora/model.py _get_adapter_state_dict)
  dora_peft_io.safetensors     x [2,12]; M.y = base_result + DoraLinearLayer.forward: (m / ||W + s B A||_row - 1) * (base_result
                               - bias) + m / ||W + s B A||_row * lora_B(lora_A(x)) * s (src/peft/tuners/lora/dora.py at 5d602fd)
  oft_peft_io.safetensors      x [2,12]; per module M and mode (neumann5: PEFT's default use_cayley_neumann=True,
                               num_cayley_neumann_terms=5; exact: use_cayley_neumann=False):
                               M.y.<mode> = base_layer(einsum("...rk,rkc->...rc", x, R)) and M.merged.<mode> = (B W0^T)^T,
                               B = block_diag(R_1 ... R_r), as OFTRotationModule.forward / Linear.merge compute them
                               (huggingface/peft src/peft/tuners/oft/layer.py at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40)

The writer below follows the reference (huggingface/safetensors tensor.rs): 8-byte little-endian header length,
compact JSON with "__metadata__" first (keys sorted here), tensors sorted by name (all F32), data_offsets
contiguous from 0, the header padded with spaces to a multiple of 8 bytes, little-endian float32 data.
"""

import json
import math
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
    """tensors: name -> (shape, flat row-major list of floats), written as F32, or (shape, list of ints, "U8" / "I8")."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda s: s.encode("utf-8"))}
    names = sorted(tensors, key=lambda s: s.encode("utf-8"))
    offset = 0
    for name in names:
        shape, data = tensors[name][:2]
        dtype = tensors[name][2] if len(tensors[name]) > 2 else "F32"
        size = 4 if dtype == "F32" else 1
        count = 1
        for d in shape:
            count *= d
        assert count == len(data), (name, shape, len(data))
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size * count]}
        offset += size * count
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in names:
            dtype = tensors[name][2] if len(tensors[name]) > 2 else "F32"
            code = {"F32": "f", "U8": "B", "I8": "b"}[dtype]
            f.write(struct.pack("<%d%s" % (len(tensors[name][1]), code), *tensors[name][1]))


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


def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def solve_right(a, b):
    """X with X a = b (torch.linalg.solve(a, b, left=False)): solve a^T X^T = b^T by Gauss-Jordan elimination."""
    n = len(a)
    m = [[a[j][i] for j in range(n)] + [b[r][i] for r in range(n)] for i in range(n)]  # [a^T | b^T]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        d = m[col][col]
        m[col] = [v / d for v in m[col]]
        for r in range(n):
            if r != col and m[r][col] != 0.0:
                f = m[r][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col])]
    xt = [row[n:] for row in m]
    return [[xt[j][i] for j in range(n)] for i in range(n)]


def oft_rotations(vec, blocks, b, neumann, terms=5):
    """OFTRotationModule._cayley_batch: _pytorch_skew_symmetric, then the Neumann loop or linalg.solve."""
    rows_cols = [(r, c) for r in range(b) for c in range(r + 1, b)]  # torch.triu_indices(b, b, 1)
    m = len(rows_cols)
    result = []
    for i in range(blocks):
        s = [[0.0] * b for _ in range(b)]
        for e, (r, c) in enumerate(rows_cols):
            s[r][c] = vec[i * m + e]
        q = [[s[r][c] - s[c][r] for c in range(b)] for r in range(b)]  # matrix - matrix.transpose(-2, -1)
        eye = [[1.0 if r == c else 0.0 for c in range(b)] for r in range(b)]
        if neumann:
            rot = [row[:] for row in eye]
            add = lambda x, y, alpha=1.0: [[x[r][c] + alpha * y[r][c] for c in range(b)] for r in range(b)]
            if terms > 1:
                rot = add(rot, q, 2.0)
                if terms > 2:
                    q_squared = matmul(q, q)
                    rot = add(rot, q_squared, 2.0)
                    q_power = q_squared
                    for _ in range(3, terms - 1):
                        q_power = matmul(q_power, q)
                        rot = add(rot, q_power, 2.0)
                    q_power = matmul(q_power, q)
                    rot = add(rot, q_power)
        else:
            rot = solve_right([[eye[r][c] + q[r][c] for c in range(b)] for r in range(b)],
                              [[eye[r][c] - q[r][c] for c in range(b)] for r in range(b)])
        result.append(rot)
    return result


def oft_peft():
    batch, n_in, b = 2, 12, 4
    blocks, m = n_in // b, b * (b - 1) // 2
    prefix = "base_model.model.layers.0."
    x = uniform(batch * n_in, 401)
    tensors, adapter, io = {}, {}, {"x": ([batch, n_in], x)}
    for module, n_out, seed in (("q_proj", 8, 410), ("v_proj", 12, 420)):
        w0 = uniform(n_out * n_in, seed)
        vec = uniform(blocks * m, seed + 1, 0.3)  # PEFT initialises oft_R to zero; non-zero so that the check can fail
        tensors[prefix + module + ".base_layer.weight"] = ([n_out, n_in], w0)
        tensors[prefix + module + ".oft_R.default.weight"] = ([blocks, m], vec)
        adapter[prefix + module + ".oft_R.weight"] = ([blocks, m], vec)
        for mode, neumann in (("neumann5", True), ("exact", False)):
            rot = oft_rotations(vec, blocks, b, neumann)
            y = []
            for bb in range(batch):
                # x_reshaped [rank, block]; einsum("...rk,rkc->...rc", x_reshaped, orth_rotate)
                xr = [x[bb * n_in + i * b + k] for i in range(blocks) for k in range(b)]
                rotated = [sum(xr[i * b + k] * rot[i][k][c] for k in range(b)) for i in range(blocks) for c in range(b)]
                y.extend(linear(rotated, w0, 1, n_in, n_out))
            io[module + ".y." + mode] = ([batch, n_out], y)
            # merge: orig = W0^T [n_in, n_out]; orig = mm(block_diag(R), orig); W = orig^T
            w0t = [[w0[o * n_in + i] for o in range(n_out)] for i in range(n_in)]
            bd = [[rot[i // b][i % b][j % b] if i // b == j // b else 0.0 for j in range(n_in)] for i in range(n_in)]
            merged_t = matmul(bd, w0t)
            io[module + ".merged." + mode] = ([n_out, n_in], [merged_t[i][o] for o in range(n_out) for i in range(n_in)])
    meta = {"oft_block_size": str(b), "num_cayley_neumann_terms": "5",
            "peft": "huggingface/peft 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 src/peft/tuners/oft/layer.py"}
    write_safetensors(os.path.join(OUT, "oft_peft.safetensors"), tensors, meta)
    write_safetensors(os.path.join(OUT, "oft_peft_adapter.safetensors"), adapter, meta)
    write_safetensors(os.path.join(OUT, "oft_peft_io.safetensors"), io, meta)


def block_butterfly_perm(n, b, r, n_butterfly_factor):
    """BOFTLayer.block_butterfly_perm, with its sort_block."""
    if n_butterfly_factor == 0:
        return list(range(n))
    block_size = n // b
    indices = list(range(n))
    step = block_size / r
    evens = list(range(0, int(step), 2))
    odds = list(range(1, int(step), 2))
    sorted_order = []
    for pos in evens + odds:
        sorted_order.extend(range(int(pos * r), int(pos * r + r)))
    for i in range(0, n, block_size):
        tmp = indices[i:i + block_size]
        indices[i:i + block_size] = [tmp[k] for k in sorted_order]
    return indices


def boft_peft():
    batch, n_in, b, factors = 2, 16, 2, 3  # boft_n_butterfly_factor = 3: PEFT's update_layer subtracts one
    blocks = n_in // b
    prefix = "base_model.model.layers.0."
    x = uniform(batch * n_in, 501)
    tensors, io = {}, {"x": ([batch, n_in], x)}
    for module, n_out, seed, has_bias in (("q_proj", 12, 510, True), ("v_proj", 16, 520, False)):
        w0 = uniform(n_out * n_in, seed)
        bias = uniform(n_out, seed + 1, 0.5) if has_bias else [0.0] * n_out
        r_raw = uniform(factors * blocks * b * b, seed + 2, 0.3)  # PEFT initialises boft_R to zero, boft_s to one
        s = [f32(1.0 + v) for v in uniform(n_out, seed + 3, 0.2)]
        tensors[prefix + module + ".base_layer.weight"] = ([n_out, n_in], w0)
        if has_bias:
            tensors[prefix + module + ".base_layer.bias"] = ([n_out], bias)
        tensors[prefix + module + ".boft_R.default"] = ([factors, blocks, b, b], r_raw)
        tensors[prefix + module + ".boft_s.default"] = ([n_out, 1], s)
        eye = lambda k: [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
        mats = []
        for i in range(factors):
            bd = [[0.0] * n_in for _ in range(n_in)]
            for d in range(blocks):
                at = (i * blocks + d) * b * b
                a = [[r_raw[at + r * b + c] for c in range(b)] for r in range(b)]
                skew = [[0.5 * (a[r][c] - a[c][r]) for c in range(b)] for r in range(b)]  # cayley_batch
                e = eye(b)
                q = solve_right([[e[r][c] + skew[r][c] for c in range(b)] for r in range(b)],
                                [[e[r][c] - skew[r][c] for c in range(b)] for r in range(b)])
                for r in range(b):
                    for c in range(b):
                        bd[d * b + r][d * b + c] = q[r][c]
            perm = block_butterfly_perm(n_in, blocks // (2 ** i), b // 2, factors - 1)
            pm = [[1.0 if perm[j] == k else 0.0 for k in range(n_in)] for j in range(n_in)]  # perm2mat
            pmt = [[pm[k][j] for k in range(n_in)] for j in range(n_in)]
            mats.append(matmul(pm, matmul(bd, pmt)))  # bmm(boft_P, bmm(block_diagonal_butterfly, boft_P^T))
        rot = mats[0]
        for i in range(1, factors):
            rot = matmul(mats[i], rot)  # butterfly_oft_mat = butterfly_oft_mat_batch[i] @ butterfly_oft_mat
        y = []
        for bb in range(batch):
            xr = [sum(x[bb * n_in + k] * rot[k][j] for k in range(n_in)) for j in range(n_in)]  # x @ boft_rotation
            base = [v + bias[o] for o, v in enumerate(linear(xr, w0, 1, n_in, n_out))]
            y.extend((base[o] - bias[o]) * s[o] + bias[o] for o in range(n_out))
        io[module + ".y"] = ([batch, n_out], y)
    meta = {"boft_block_size": str(b), "boft_n_butterfly_factor": str(factors),
            "peft": "huggingface/peft 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 src/peft/tuners/boft/layer.py"}
    write_safetensors(os.path.join(OUT, "boft_peft.safetensors"), tensors, meta)
    write_safetensors(os.path.join(OUT, "boft_peft_io.safetensors"), io, meta)


def loha_peft():
    batch, n_in, r, alpha = 2, 12, 3, 6
    scale = alpha / r
    prefix = "base_model.model.layers.0."
    x = uniform(batch * n_in, 601)
    tensors, io = {}, {"x": ([batch, n_in], x)}
    for module, n_out, seed in (("q_proj", 8, 610), ("v_proj", 12, 620)):
        w0 = uniform(n_out * n_in, seed)
        w1a = uniform(n_out * r, seed + 1)
        w1b = uniform(r * n_in, seed + 2)
        w2a = uniform(n_out * r, seed + 3)
        w2b = uniform(r * n_in, seed + 4)  # PEFT initialises hada_w2_b to zero; non-zero so that the check can fail
        for name, shape, data in (("base_layer.weight", [n_out, n_in], w0), ("hada_w1_a.default", [n_out, r], w1a),
                                  ("hada_w1_b.default", [r, n_in], w1b), ("hada_w2_a.default", [n_out, r], w2a),
                                  ("hada_w2_b.default", [r, n_in], w2b)):
            tensors[prefix + module + "." + name] = (shape, data)
        m1 = [[sum(w1a[o * r + k] * w1b[k * n_in + i] for k in range(r)) for i in range(n_in)] for o in range(n_out)]
        m2 = [[sum(w2a[o * r + k] * w2b[k * n_in + i] for k in range(r)) for i in range(n_in)] for o in range(n_out)]
        delta = [m1[o][i] * m2[o][i] * scale for o in range(n_out) for i in range(n_in)]  # make_weight: (w1a@w1b)*(w2a@w2b)*scale
        base = linear(x, w0, batch, n_in, n_out)
        lora = linear(x, delta, batch, n_in, n_out)
        io[module + ".y"] = ([batch, n_out], [base[j] + lora[j] for j in range(batch * n_out)])
    meta = {"r": str(r), "alpha": str(alpha),
            "peft": "huggingface/peft 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 src/peft/tuners/loha/layer.py"}
    write_safetensors(os.path.join(OUT, "loha_peft.safetensors"), tensors, meta)
    write_safetensors(os.path.join(OUT, "loha_peft_io.safetensors"), io, meta)


def dora_peft():
    batch, n_in, r, alpha = 2, 12, 3, 6
    scaling = alpha / r
    prefix = "base_model.model.layers.0."
    x = uniform(batch * n_in, 701)
    tensors, saved, io = {}, {}, {"x": ([batch, n_in], x)}
    for module, n_out, seed, has_bias in (("q_proj", 8, 710, True), ("v_proj", 12, 720, False)):
        w0 = uniform(n_out * n_in, seed)
        bias = uniform(n_out, seed + 1, 0.5) if has_bias else [0.0] * n_out
        a = uniform(r * n_in, seed + 2)
        b_ = uniform(n_out * r, seed + 3)  # PEFT initialises lora_B to zero; non-zero so that the check can fail
        m = [f32(1.0 + v) for v in uniform(n_out, seed + 4, 0.5)]  # trained magnitudes, away from the init norms
        tensors[prefix + module + ".base_layer.weight"] = ([n_out, n_in], w0)
        if has_bias:
            tensors[prefix + module + ".base_layer.bias"] = ([n_out], bias)
        tensors[prefix + module + ".lora_A.default.weight"] = ([r, n_in], a)
        tensors[prefix + module + ".lora_B.default.weight"] = ([n_out, r], b_)
        tensors[prefix + module + ".lora_magnitude_vector.default.weight"] = ([n_out], m)
        saved[prefix + module + ".lora_A.weight"] = ([r, n_in], a)
        saved[prefix + module + ".lora_B.weight"] = ([n_out, r], b_)
        saved[prefix + module + ".lora_magnitude_vector"] = ([n_out], m)
        # get_weight_norm: weight + scaling * lora_weight, torch.linalg.norm(dim=1)
        lora_weight = [sum(b_[o * r + k] * a[k * n_in + i] for k in range(r)) for o in range(n_out) for i in range(n_in)]
        v = [w0[e] + scaling * lora_weight[e] for e in range(n_out * n_in)]
        norm = [math.sqrt(sum(v[o * n_in + i] ** 2 for i in range(n_in))) for o in range(n_out)]
        base_result = [y + bias[j % n_out] for j, y in enumerate(linear(x, w0, batch, n_in, n_out))]  # the base layer, with its bias
        lora_result = linear(linear(x, a, batch, n_in, r), b_, batch, r, n_out)
        y = []
        for j in range(batch * n_out):
            o = j % n_out
            mag_norm_scale = m[o] / norm[o]
            base_no_bias = base_result[j] - bias[o]
            result_dora = (mag_norm_scale - 1) * base_no_bias + mag_norm_scale * lora_result[j] * scaling
            y.append(base_result[j] + result_dora)  # Linear.forward: result = base_layer(x) + dora output
        io[module + ".y"] = ([batch, n_out], y)
    meta = {"r": str(r), "lora_alpha": str(alpha), "use_dora": "True",
            "peft": "huggingface/peft 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 src/peft/tuners/lora/dora.py"}
    write_safetensors(os.path.join(OUT, "dora_peft.safetensors"), tensors, meta)
    write_safetensors(os.path.join(OUT, "dora_peft_adapter.safetensors"), saved, meta)
    write_safetensors(os.path.join(OUT, "dora_peft_io.safetensors"), io, meta)


# QLoRA's NormalFloat levels (bitsandbytes functional.py, get_4bit_type("nf4")).
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
       -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def bnb_quantize_nf4(w, n_out, n_in, blocksize):
    """bitsandbytes quantize_4bit(quant_type="nf4", blocksize) on a row-major [n_out, n_in] weight, as its CUDA kernel
    kQuantizeBlockwise does it in float32: per block of the flattened weight (a group of a row when n_in % blocksize == 0)
    absmax, the reciprocal 1/absmax, each value times it, then dQuantizeNF4's decision tree (thresholds at the midpoints
    of the levels, value > threshold goes up), two codes per byte with the first in the high nibble."""
    codes, absmax = [], []
    for start in range(0, n_out * n_in, blocksize):
        block = w[start:start + blocksize]
        m = f32(max(abs(v) for v in block))
        absmax.append(m)
        inverse = f32(1.0 / m) if m else float("nan")  # 1/0 is inf on the GPU, and 0 * inf NaN: code 0 below
        q = []
        for v in block:
            x = f32(v * inverse)
            code = 0
            for c in range(1, 16):
                if x > f32((NF4[c - 1] + NF4[c]) / 2):
                    code = c
            q.append(code)
        codes += [q[k] << 4 | q[k + 1] for k in range(0, len(q), 2)]
    return codes, absmax


def bnb_dequantize_nf4(codes, absmax, n_out, n_in, blocksize):
    out = []
    for e in range(n_out * n_in):
        code = codes[e // 2] >> 4 if e % 2 == 0 else codes[e // 2] & 15
        out.append(f32(NF4[code]) * absmax[e // blocksize])
    return out


def int8_quantize(w, n_out, n_in):
    """StructMat's int8 base: per row scale = absmax / 127 (float32), code = round(w / scale), half to even, in [-127, 127]."""
    codes, scales = [], []
    for o in range(n_out):
        row = w[o * n_in:(o + 1) * n_in]
        scale = f32(f32(max(abs(v) for v in row)) / 127.0)
        scales.append(scale)
        codes += [max(-127, min(127, round(f32(v / scale)))) for v in row]
    return codes, scales


def qlora():
    """QLoRA: PEFT LoRA (lora/layer.py Linear.forward: base_layer(x) + lora_B(lora_A(x)) * scaling) on a bitsandbytes
    Linear4bit base, which dequantises its NF4 weight and multiplies (bnb.matmul_4bit), for a 128 -> 24 and a 64 -> 64
    module; and the same LoRA on StructMat's int8 base."""
    batch, r, alpha, group = 2, 4, 8, 64
    scaling = alpha / r
    tensors, io = {}, {}
    for module, n_in, n_out, seed in (("q_proj", 128, 24, 810), ("v_proj", 64, 64, 820)):
        x = uniform(batch * n_in, seed)
        w = uniform(n_out * n_in, seed + 1, 0.2)
        a = uniform(r * n_in, seed + 2)
        b_ = uniform(n_out * r, seed + 3)
        codes, absmax = bnb_quantize_nf4(w, n_out, n_in, group)
        q8, s8 = int8_quantize(w, n_out, n_in)
        lora = linear(linear(x, a, batch, n_in, r), b_, batch, r, n_out)
        nf4_base = linear(x, bnb_dequantize_nf4(codes, absmax, n_out, n_in, group), batch, n_in, n_out)
        int8_base = linear(x, [q8[e] * s8[e // n_in] for e in range(n_out * n_in)], batch, n_in, n_out)
        tensors[module + ".w"] = ([n_out, n_in], w)
        tensors[module + ".nf4.weight"] = ([n_out, n_in // 2], codes, "U8")
        tensors[module + ".nf4.absmax"] = ([n_out, n_in // group], absmax)
        tensors[module + ".int8.weight"] = ([n_out, n_in], q8, "I8")
        tensors[module + ".int8.scale"] = ([n_out], s8)
        tensors[module + ".lora_A"] = ([r, n_in], a)
        tensors[module + ".lora_B"] = ([n_out, r], b_)
        io[module + ".x"] = ([batch, n_in], x)
        io[module + ".y.nf4"] = ([batch, n_out], [nf4_base[j] + scaling * lora[j] for j in range(batch * n_out)])
        io[module + ".y.int8"] = ([batch, n_out], [int8_base[j] + scaling * lora[j] for j in range(batch * n_out)])
    meta = {"r": str(r), "lora_alpha": str(alpha), "blocksize": str(group),
            "source": "bitsandbytes csrc/kernels.cu kQuantizeBlockwise + dQuantizeNF4 (NF4); huggingface/peft 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 src/peft/tuners/lora/bnb.py Linear4bit.forward"}
    write_safetensors(os.path.join(OUT, "qlora.safetensors"), tensors, meta)
    write_safetensors(os.path.join(OUT, "qlora_io.safetensors"), io, meta)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    monarch_fly()
    lora_peft()
    hra_peft()
    oft_peft()
    boft_peft()
    loha_peft()
    dora_peft()
    qlora()
    print("wrote fixtures to", OUT)
