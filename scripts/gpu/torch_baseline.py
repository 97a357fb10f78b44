#!/usr/bin/env python3
"""PyTorch baseline for the GPU benchmarks (docs/gpu-benchmarks.md), timed on the same GPU in the same session as
bench/StructMat.GpuRunner.

Implementations, all float32 with TF32 off (matmul and cuDNN):
  torch-linear       dense:   y = F.linear(x, W), W [n, n]
  torch-bmm-monarch  monarch: the two-bmm Monarch product of HazyResearch/fly (blockdiag_butterfly_multiply, as in
                     MonarchLinear with nblocks = 64): x viewed as [k, batch, p] blocks, bmm with blkdiag1, the Monarch
                     permutation as a reshape/transpose, bmm with blkdiag2, the output permutation; a custom
                     autograd.Function whose backward is three bmm plus the weight gradients (fly's scheme, own code)
  torch-lowrank      lowrank: y = F.linear(F.linear(x, lora_A), lora_B), lora_A [64, n], lora_B [n, 64]

Passes: "forward" (under torch.no_grad) and "forward-backward" (forward, then torch.autograd.grad for dx and every
weight gradient, so no gradient accumulation kernel is timed). Each case: warm-up calls, then timed calls with CUDA
events around each (host perf_counter on the CPU); the median is reported. Useful GFLOP/s counts the same
multiply-adds per row as the StructMat layers' FlopsPerRow: n^2 (dense), 2 n (n / 64) (monarch), 2 n 64 (lowrank);
x2 FLOP per multiply-add, x3 for forward-backward.

  python3 scripts/gpu/torch_baseline.py --self-test            # Monarch vs a float64 dense reference, then exit
  python3 scripts/gpu/torch_baseline.py --out gpu-results/torch-baseline.json
  python3 scripts/gpu/torch_baseline.py --cpu --tiny --out /tmp/t.json   # logic check on the CPU (needs torch)

Only the standard library is needed to import this module (its pure parts are tested by test_torch_baseline.py
without torch); torch is imported when a run starts.
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

SCHEMA = "structmat-torch-baseline/1"
MONARCH_BLOCKS = 64
LOWRANK_RANK = 64
FORWARD = "forward"
FORWARD_BACKWARD = "forward-backward"
PASSES = (FORWARD, FORWARD_BACKWARD)
# implementation -> the StructMat structure it is compared with
IMPLEMENTATIONS = {
    "torch-linear": "dense",
    "torch-bmm-monarch": "monarch",
    "torch-lowrank": "lowrank",
}
LABELS = {
    "torch-linear": "F.linear(x, W)",
    "torch-bmm-monarch": "fly blockdiag_butterfly_multiply pattern (2 x torch.bmm), nblocks = 64",
    "torch-lowrank": "F.linear(F.linear(x, A), B), rank 64",
}


# ---------------------------------------------------------------------------------------------------------------------
# Pure parts (no torch): shapes, costs, permutations, statistics, arguments, records.

def monarch_shapes(n, blocks=MONARCH_BLOCKS):
    """blkdiag1 (k, q, p) and blkdiag2 (l, s, r) of fly's MonarchLinear for a square n -> n layer with `blocks` blocks."""
    if n <= 0 or blocks <= 0 or n % blocks:
        raise ValueError(f"monarch: {blocks} blocks do not divide n = {n}")
    size = n // blocks
    return (blocks, size, size), (blocks, size, size)


def macs_per_row(impl, n):
    """Forward multiply-adds per input row, the StructMat cost model's convention (FlopsPerRow)."""
    if impl == "torch-linear":
        return n * n
    if impl == "torch-bmm-monarch":
        (k, q, p), (l, s, r) = monarch_shapes(n)
        return k * q * p + l * s * r
    if impl == "torch-lowrank":
        return 2 * n * LOWRANK_RANK
    raise ValueError(f"unknown implementation {impl!r}")


def useful_gflops(macs, batch, pass_, median_ms):
    """2 FLOP per multiply-add, x3 for forward-backward, over the median: FLOP per ms * 1e-6 = GFLOP/s."""
    factor = 1 if pass_ == FORWARD else 3
    return 2.0 * macs * batch * factor / (median_ms * 1e6)


def monarch_permutations(k, q, l, s, r):
    """Index maps of fly's Monarch product, as lists.

    mid[j]  (j over the second factor's input, ordered (l, r)) = h[src] with h ordered (k, q): the (k q) vector is read
            as (r, l) and transposed, so position ll * r + rr takes h[rr * l + ll].
    y[i]    (i over the output, ordered (s, l)) = out[src] with out ordered (l, s): position ss * l + ll takes
            out[ll * s + ss].
    """
    if k * q != l * r:
        raise ValueError(f"monarch: k*q = {k * q} differs from l*r = {l * r}")
    mid = [rr * l + ll for ll in range(l) for rr in range(r)]
    out = [ll * s + ss for ss in range(s) for ll in range(l)]
    return mid, out


def monarch_reference_lists(x, w1, w2):
    """fly's Monarch product in plain Python on nested lists: x [batch][n], w1 [k][q][p], w2 [l][s][r]."""
    k, q, p = len(w1), len(w1[0]), len(w1[0][0])
    l, s, r = len(w2), len(w2[0]), len(w2[0][0])
    mid_map, out_map = monarch_permutations(k, q, l, s, r)
    result = []
    for row in x:
        h = [sum(w1[kk][qq][pp] * row[kk * p + pp] for pp in range(p)) for kk in range(k) for qq in range(q)]
        mid = [h[j] for j in mid_map]
        out = [sum(w2[ll][ss][rr] * mid[ll * r + rr] for rr in range(r)) for ll in range(l) for ss in range(s)]
        result.append([out[j] for j in out_map])
    return result


def median(values):
    if not values:
        raise ValueError("no values")
    return statistics.median(values)


def cases(implementations, sizes, batches, passes=PASSES):
    """Every combination, F.linear last: a run stopped by --deadline-s loses the slowest cases, not the Monarch ones."""
    combos = [(impl, n, batch, pass_) for n in sizes for impl in implementations for batch in batches for pass_ in passes]
    return sorted(combos, key=lambda c: c[0] == "torch-linear")  # stable: otherwise in size order


def parse_args(argv):
    parser = argparse.ArgumentParser(description="PyTorch fp32 baseline (dense, fly's bmm Monarch, low rank) for docs/gpu-benchmarks.md.")
    parser.add_argument("--out", default="gpu-results/torch-baseline.json", help="JSON output (default %(default)s)")
    parser.add_argument("--cpu", action="store_true", help="run on the CPU (a logic check; the times mean nothing)")
    parser.add_argument("--tiny", action="store_true", help="n = 64, 256 and batch 8, few calls (with --cpu: seconds)")
    parser.add_argument("--sizes", default=None, help="comma-separated n (default 4096,8192; --tiny 64,256)")
    parser.add_argument("--batches", default=None, help="comma-separated batch sizes (default 8192,32768; --tiny 8)")
    parser.add_argument("--impls", default=",".join(IMPLEMENTATIONS), help="subset of %(default)s")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls per case (default 5; --tiny 1)")
    parser.add_argument("--iterations", type=int, default=None, help="at most this many timed calls (default 30; --tiny 2)")
    parser.add_argument("--min-iterations", type=int, default=None, help="at least this many timed calls (default 5; --tiny 1)")
    parser.add_argument("--budget-s", type=float, default=2.0, help="stop timing a case after this many seconds once --min-iterations ran")
    parser.add_argument("--deadline-s", type=float, default=None, help="skip the remaining cases after this many seconds in all")
    parser.add_argument("--self-test", action="store_true", help="check the bmm Monarch (forward and gradients) against a float64 dense reference, then exit")
    args = parser.parse_args(argv)

    def ints(text, name):
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            parser.error(f"{name}: {text!r} is not a list of integers")
        if not values or any(v <= 0 for v in values):
            parser.error(f"{name}: {text!r} needs positive integers")
        return values

    args.sizes = ints(args.sizes or ("64,256" if args.tiny else "4096,8192"), "--sizes")
    args.batches = ints(args.batches or ("8" if args.tiny else "8192,32768"), "--batches")
    args.impls = [v.strip() for v in args.impls.split(",") if v.strip()]
    unknown = [v for v in args.impls if v not in IMPLEMENTATIONS]
    if unknown:
        parser.error(f"--impls: unknown {', '.join(unknown)} (known: {', '.join(IMPLEMENTATIONS)})")
    for n in args.sizes:
        if n % MONARCH_BLOCKS:
            parser.error(f"--sizes: n = {n} is not a multiple of {MONARCH_BLOCKS} (Monarch blocks)")
    args.warmup = args.warmup if args.warmup is not None else (1 if args.tiny else 5)
    args.iterations = args.iterations if args.iterations is not None else (2 if args.tiny else 30)
    args.min_iterations = args.min_iterations if args.min_iterations is not None else (1 if args.tiny else 5)
    if args.warmup < 0 or args.iterations <= 0 or args.min_iterations <= 0 or args.min_iterations > args.iterations:
        parser.error("need --warmup >= 0 and 0 < --min-iterations <= --iterations")
    return args


def result_record(impl, n, batch, pass_, times_ms=None, status="ok", error=None):
    record = {
        "impl": impl, "structure": IMPLEMENTATIONS[impl], "label": LABELS[impl], "n": n, "batch": batch, "pass": pass_,
        "status": status, "error": error, "macs_per_row": macs_per_row(impl, n),
    }
    if times_ms:
        mid = median(times_ms)
        record.update({
            "median_ms": mid, "min_ms": min(times_ms), "mean_ms": sum(times_ms) / len(times_ms),
            "iterations": len(times_ms), "times_ms": times_ms,
            "gflops": useful_gflops(record["macs_per_row"], batch, pass_, mid),
        })
    return record


def write_json(path, document):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------------------------------
# Torch parts.

def load_torch(cpu):
    try:
        import torch  # noqa: PLC0415 (imported here so that the pure parts need no torch)
    except ImportError as e:
        print(f"PyTorch is not installed here ({e}); the GPU machines have it. Exit code 3.", file=sys.stderr)
        raise SystemExit(3) from e

    # fp32 everywhere: no TF32 in matmul or cuDNN, "highest" float32 matmul precision.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    if cpu:
        return torch, torch.device("cpu")
    if not torch.cuda.is_available():
        print("no CUDA device visible to PyTorch (use --cpu for the logic check). Exit code 3.", file=sys.stderr)
        raise SystemExit(3)
    return torch, torch.device("cuda")


def monarch_function(torch):
    """fly's two-bmm Monarch product as an autograd.Function (forward saves the permuted middle activation)."""

    class MonarchBmm(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w1, w2):
            batch, n = x.shape
            k, q, p = w1.shape
            l, s, r = w2.shape
            # First factor: block kk maps x[:, kk*p:(kk+1)*p]; the result is stored (batch, k, q) for the reshape below.
            first = x.new_empty(batch, k, q).transpose(0, 1)
            torch.bmm(x.reshape(batch, k, p).transpose(0, 1), w1.transpose(1, 2), out=first)
            # Monarch permutation: the (k q) vector read as (r, l) and transposed; stored (batch, l, r).
            middle = first.transpose(0, 1).reshape(batch, r, l).transpose(1, 2).contiguous()
            # Second factor on (l, batch, r) blocks; stored (batch, l, s).
            second = x.new_empty(batch, l, s).transpose(0, 1)
            torch.bmm(middle.transpose(0, 1), w2.transpose(1, 2), out=second)
            ctx.save_for_backward(x, w1, w2, middle)
            # Output permutation: (l, s) -> (s, l).
            return second.transpose(0, 1).transpose(1, 2).reshape(batch, s * l)

        @staticmethod
        def backward(ctx, dy):
            x, w1, w2, middle = ctx.saved_tensors
            batch, n = x.shape
            k, q, p = w1.shape
            l, s, r = w2.shape
            dx = dw1 = dw2 = None
            # dy back to the second factor's (l, batch, s) blocks.
            dsecond = dy.reshape(batch, s, l).transpose(1, 2).contiguous().transpose(0, 1)
            if ctx.needs_input_grad[2]:
                dw2 = torch.bmm(dsecond.transpose(1, 2), middle.transpose(0, 1))
            if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
                dmiddle = x.new_empty(batch, l, r).transpose(0, 1)
                torch.bmm(dsecond, w2, out=dmiddle)
                # Inverse Monarch permutation: (batch, l, r) -> (batch, r, l) = (batch, k, q), as (k, batch, q) blocks.
                dfirst = dmiddle.transpose(0, 1).transpose(1, 2).reshape(batch, k, q).transpose(0, 1)
                if ctx.needs_input_grad[0]:
                    dx_blocks = x.new_empty(batch, k, p).transpose(0, 1)
                    torch.bmm(dfirst, w1, out=dx_blocks)
                    dx = dx_blocks.transpose(0, 1).reshape(batch, n)
                if ctx.needs_input_grad[1]:
                    dw1 = torch.bmm(dfirst.transpose(1, 2), x.reshape(batch, k, p).transpose(0, 1))
            return dx, dw1, dw2

    return MonarchBmm


def monarch_reference(torch, x, w1, w2):
    """The same product from block-diagonal dense matrices and index permutations (float64 self-test)."""
    k, q, p = w1.shape
    l, s, r = w2.shape
    mid_map, out_map = monarch_permutations(k, q, l, s, r)
    first = x @ torch.block_diag(*w1.unbind(0)).T
    middle = first[:, torch.tensor(mid_map, device=x.device)]
    second = middle @ torch.block_diag(*w2.unbind(0)).T
    return second[:, torch.tensor(out_map, device=x.device)]


def self_test(torch, device):
    """Forward and every gradient of MonarchBmm against the dense reference, float64; returns failures as strings."""
    monarch = monarch_function(torch).apply
    failures = []
    generator = torch.Generator(device="cpu").manual_seed(0)
    for n, blocks, batch in ((16, 4, 3), (64, 8, 5), (256, 64, 2)):
        (k, q, p), (l, s, r) = monarch_shapes(n, blocks)
        tensors = [torch.randn(*shape, generator=generator, dtype=torch.float64).to(device).requires_grad_()
                   for shape in ((batch, n), (k, q, p), (l, s, r))]
        dy = torch.randn(batch, n, generator=generator, dtype=torch.float64).to(device)
        y = monarch(*tensors)
        grads = torch.autograd.grad(y, tensors, dy)
        y_ref = monarch_reference(torch, *tensors)
        grads_ref = torch.autograd.grad(y_ref, tensors, dy)
        for name, got, want in zip(("y", "dx", "dw1", "dw2"), (y,) + tuple(grads), (y_ref,) + tuple(grads_ref)):
            error = ((got - want).abs().max() / want.abs().max()).item()
            if not error < 1e-12:
                failures.append(f"n={n} blocks={blocks}: {name} error {error:.2e}")
    # float32 forward against float64 (the precision the benchmark runs in)
    x = torch.randn(4, 4096, generator=generator).to(device)
    w1 = torch.randn(64, 64, 64, generator=generator).to(device) / 8
    w2 = torch.randn(64, 64, 64, generator=generator).to(device) / 8
    with torch.no_grad():
        got = monarch(x, w1, w2).double()
        want = monarch_reference(torch, x.double(), w1.double(), w2.double())
    error = ((got - want).abs().max() / want.abs().max()).item()
    if not error < 1e-5:
        failures.append(f"float32 n=4096: y error {error:.2e} against float64 (TF32 on?)")
    return failures


def make_case(torch, device, impl, n, batch, pass_):
    """Returns a zero-argument callable that runs one forward or forward-backward of the case."""
    F = torch.nn.functional
    gen = torch.Generator(device=device).manual_seed(n + batch)

    def rand(*shape, scale=1.0):  # drawn on the device: a 1 GiB activation drawn on the host would take seconds
        return torch.rand(*shape, generator=gen, device=device).mul_(2).sub_(1).mul_(scale)

    x = rand(batch, n)
    if impl == "torch-linear":
        weights = [rand(n, n, scale=1 / math.sqrt(n))]

        def forward(x, w):
            return F.linear(x, w)
    elif impl == "torch-bmm-monarch":
        (k, q, p), (l, s, r) = monarch_shapes(n)
        weights = [rand(k, q, p, scale=1 / math.sqrt(p)), rand(l, s, r, scale=1 / math.sqrt(r))]
        forward = monarch_function(torch).apply
    elif impl == "torch-lowrank":
        weights = [rand(LOWRANK_RANK, n, scale=1 / math.sqrt(n)), rand(n, LOWRANK_RANK, scale=1 / math.sqrt(LOWRANK_RANK))]

        def forward(x, a, b):
            return F.linear(F.linear(x, a), b)
    else:
        raise ValueError(impl)

    if pass_ == FORWARD:
        def run():
            with torch.no_grad():
                return forward(x, *weights)
        return run

    x.requires_grad_()
    for w in weights:
        w.requires_grad_()
    dy = rand(batch, n)
    inputs = [x] + weights

    def run_backward():
        y = forward(*inputs)
        return torch.autograd.grad(y, inputs, dy)
    return run_backward


def time_case(torch, device, run, warmup, iterations, min_iterations, budget_s):
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    start = time.perf_counter()
    for i in range(max(1, warmup)):
        if i > 0 and time.perf_counter() - start > budget_s:
            break
        run()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < iterations and (len(times) < min_iterations or time.perf_counter() - start < budget_s):
        if cuda:
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            result = run()
            end.record()
            end.synchronize()
            times.append(begin.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            result = run()
            times.append((time.perf_counter() - t0) * 1e3)
    outputs = result if isinstance(result, tuple) else (result,)
    for t in outputs:
        if not torch.isfinite(t).all():
            raise RuntimeError("non-finite output")
    return times


def device_info(torch, device):
    info = {
        "python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(), "device": device.type,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update({
            "name": props.name, "multiprocessors": props.multi_processor_count, "memory_bytes": props.total_memory,
            "compute_capability": f"{props.major}.{props.minor}",
        })
        try:
            query = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm", "--format=csv,noheader,nounits"],
                                   capture_output=True, text=True, timeout=20, check=True).stdout.strip().splitlines()[0]
            driver, clock = [v.strip() for v in query.split(",")]
            info.update({"driver_version": driver, "max_sm_clock_mhz": float(clock)})
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            pass
    else:
        info["name"] = platform.processor() or platform.machine()
    return info


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch, device = load_torch(args.cpu)
    try:
        failures = self_test(torch, device)
    except Exception as e:  # noqa: BLE001 (a bug in the Monarch code must not stop the dense and low-rank timings)
        failures = [f"{type(e).__name__}: {e}"]
    if failures:
        print("self-test FAILED (torch-bmm-monarch is not timed):\n  " + "\n  ".join(failures), file=sys.stderr)
        if args.self_test:
            return 1
        args.impls = [impl for impl in args.impls if impl != "torch-bmm-monarch"]
    else:
        print(f"self-test passed: bmm Monarch forward and gradients match the float64 dense reference ({device.type})")
    if args.self_test:
        return 0

    document = {
        "schema": SCHEMA, "tool": "scripts/gpu/torch_baseline.py", "command_line": " ".join(sys.argv),
        "dry_run": args.cpu, "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": device_info(torch, device),
        "settings": {
            "warmup": args.warmup, "max_iterations": args.iterations, "min_iterations": args.min_iterations,
            "budget_s": args.budget_s, "deadline_s": args.deadline_s,
            "timing": "CUDA events around each call (host perf_counter on the CPU); median",
            "flops": "2 * macs_per_row * batch, x3 for forward-backward",
        },
        "self_test": {"passed": not failures, "failures": failures},
        "results": [],
    }
    print(f"{document['device'].get('name')} torch {torch.__version__}; TF32 off")
    started = time.perf_counter()
    failed = 0
    for impl, n, batch, pass_ in cases(args.impls, args.sizes, args.batches):
        if args.deadline_s is not None and time.perf_counter() - started > args.deadline_s:
            record = result_record(impl, n, batch, pass_, status="skipped", error="deadline reached")
        else:
            try:
                run = make_case(torch, device, impl, n, batch, pass_)
                times = time_case(torch, device, run, args.warmup, args.iterations, args.min_iterations, args.budget_s)
                record = result_record(impl, n, batch, pass_, times)
            except (RuntimeError, ValueError) as e:  # torch.cuda.OutOfMemoryError is a RuntimeError
                failed += 1
                record = result_record(impl, n, batch, pass_, status="error", error=f"{type(e).__name__}: {e}")
            finally:
                run = None
                if device.type == "cuda":
                    torch.cuda.empty_cache()
        document["results"].append(record)
        write_json(args.out, document)
        shown = f"{record['median_ms']:.3f} ms, {record['gflops']:.1f} GFLOP/s" if "median_ms" in record else record["status"] + (": " + record["error"] if record["error"] else "")
        print(f"  {impl:18} n={n:5} batch={batch:6} {pass_:16} {shown}", flush=True)
    print(f"wrote {args.out}: {len(document['results'])} cases, {failed} failed, {time.perf_counter() - started:.1f} s")
    return 1 if failed or failures else 0


if __name__ == "__main__":
    sys.exit(main())
