#!/usr/bin/env python3
"""Tests of scripts/gpu/report.py on synthetic runner and PyTorch JSON files (standard library only).

  python3 scripts/gpu/test_report.py
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

PEAK = 66_908.16  # 132 SMs x 128 lanes x 2 x 1.98 GHz
DEVICE = {
    "accelerator": "Cuda", "name": "NVIDIA H100 80GB HBM3", "multiprocessors": 132, "warp_size": 32,
    "memory_bytes": 85_000_000_000, "clock_khz": 1_980_000, "clock_source": "CUDA device attribute CLOCK_RATE",
    "compute_capability": "9.0", "cuda_driver_version": "13.0", "ptx_isa": "8.8",
    "fp32_lanes_per_multiprocessor": 128, "fp32_fma_peak_gflops": PEAK,
}


def bench_record(structure, n, batch, pass_, ms, macs, status="ok"):
    record = {"structure": structure, "label": structure, "n": n, "batch": batch, "pass": pass_, "status": status, "error": None}
    if status == "ok":
        gflops = 2.0 * macs * batch * (1 if pass_ == "forward" else 3) / (ms * 1e6)
        record.update({"median_ms": ms, "gflops": gflops, "peak_fraction": gflops / PEAK, "macs_per_row": macs})
    else:
        record["error"] = "deadline reached"
    return record


def torch_record(impl, structure, n, batch, pass_, ms):
    return {"impl": impl, "structure": structure, "n": n, "batch": batch, "pass": pass_, "status": "ok", "error": None,
            "median_ms": ms, "gflops": 1000.0}


def write(folder, name, doc):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        json.dump(doc, f)


class Fixture:
    """A results folder: monarch 4 ms / 10 ms (fwd / fwd+bwd) against torch 10 ms / 12 ms at n = 4096, batch 8192."""

    def __init__(self, folder, monarch_forward_ms=4.0):
        self.folder = folder
        m = 2 * 4096 * 64
        write(folder, "structmat-gpu-bench.json", {
            "schema": "structmat-gpu-bench/1", "dry_run": False, "utc": "2026-12-01T10:00:00Z", "device": DEVICE,
            "results": [
                bench_record("monarch", 4096, 8192, "forward", monarch_forward_ms, m),
                bench_record("monarch", 4096, 8192, "forward-backward", 10.0, m),
                bench_record("dense", 4096, 8192, "forward", 10.0, 4096 * 4096),
                bench_record("dense", 4096, 8192, "forward-backward", 30.0, 4096 * 4096),
                bench_record("dense", 8192, 32768, "forward", 0, 0, status="skipped"),
            ]})
        write(folder, "torch-baseline.json", {
            "schema": "structmat-torch-baseline/1", "dry_run": False, "utc": "2026-12-01T10:05:00Z",
            "device": {"name": "NVIDIA H100 80GB HBM3", "torch": "2.11.0", "torch_cuda": "13.0", "driver_version": "580.159.04",
                       "tf32_matmul": False, "tf32_cudnn": False, "float32_matmul_precision": "highest"},
            "self_test": {"passed": True, "failures": []},
            "results": [
                torch_record("torch-bmm-monarch", "monarch", 4096, 8192, "forward", 10.0),
                torch_record("torch-bmm-monarch", "monarch", 4096, 8192, "forward-backward", 12.0),
                torch_record("torch-linear", "dense", 4096, 8192, "forward", 5.0),
            ]})
        write(folder, "structmat-gpu-check.json", {
            "schema": "structmat-gpu-check/1", "dry_run": False, "utc": "2026-12-01T09:55:00Z", "device": DEVICE,
            "batch": 64, "tolerance": 1e-4, "passed": False,
            "results": [
                {"structure": "monarch", "n": 4096, "batch": 64, "tensor": "y", "error": 1e-7, "ok": True},
                {"structure": "monarch", "n": 4096, "batch": 64, "tensor": "dx", "error": 2e-7, "ok": True},
                {"structure": "monarch", "n": 4096, "batch": 64, "tensor": "grad blkdiag1", "error": 3e-7, "ok": True},
                {"structure": "monarch", "n": 4096, "batch": 64, "tensor": "grad blkdiag2", "error": None, "ok": False},
                {"structure": "btt", "n": 4096, "batch": 64, "tensor": None, "error": None, "ok": False, "exception": "CudaException: boom"},
            ]})

    def render(self):
        return report.render(report.load(self.folder))


class ReportTests(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.folder = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def test_no_files_says_there_are_no_gpu_figures(self):
        self.assertEqual(report.render(report.load(self.folder)), report.NO_FIGURES)

    def test_device_driver_and_peak_formula_are_shown(self):
        text = Fixture(self.folder).render()
        self.assertIn("**NVIDIA H100 80GB HBM3**", text)
        self.assertIn("CUDA driver API 13.0", text)
        self.assertIn("NVIDIA driver 580.159.04", text)
        self.assertIn("66,908 GFLOP/s = 132 SMs × 128 FP32 lanes × 2 × 1.980 GHz", text)
        self.assertIn("TF32 off", text)
        self.assertNotIn("DRY RUN", text)

    def test_speedup_is_torch_time_over_structmat_time(self):
        text = Fixture(self.folder).render()
        self.assertIn("| monarch | torch-bmm-monarch | 4096 | 8,192 | forward | 4.00 ms | 10.0 ms | 1,000 | 1.5 % | 2.50× |", text)
        self.assertIn("| monarch | torch-bmm-monarch | 4096 | 8,192 | fwd+bwd | 10.0 ms | 12.0 ms | 1,000 | 1.5 % | 1.20× |", text)
        self.assertIn("| dense | torch-linear | 4096 | 8,192 | forward | 10.0 ms | 5.00 ms | 1,000 | 1.5 % | 0.50× |", text)

    def test_monarch_targets_met_and_missed(self):
        text = Fixture(self.folder).render()
        self.assertIn("forward ≥ 2×: **met**, 1 of 1 cases at or above", text)
        self.assertIn("fwd+bwd ≥ 1.5×: **missed**, 0 of 1 cases at or above", text)
        text = Fixture(self.folder, monarch_forward_ms=6.0).render()  # 10 / 6 = 1.67x < 2x
        self.assertIn("forward ≥ 2×: **missed**, 0 of 1 cases at or above (n=4096 batch 8,192: 1.67×)", text)

    def test_share_of_peak_per_layer(self):
        text = Fixture(self.folder).render()
        # dense forward: 2 * 4096^2 * 8192 / 10 ms = 27,488 GFLOP/s = 41.1 % of the peak; fwd+bwd the same.
        self.assertIn("| dense | 4096 | 8,192 | 10.0 ms | 27,488 | 41.1 % | 30.0 ms | 27,488 | 41.1 % |", text)
        self.assertIn("  - dense: 41.1 % to 41.1 %, ≥ 40 % in 2 of 2 cases", text)
        self.assertIn("**missed** by monarch", text)

    def test_skipped_and_failed_cases_are_listed(self):
        text = Fixture(self.folder).render()
        self.assertIn("- dense n=8192 batch 32768 forward: skipped: deadline reached", text)

    def test_check_table_shows_errors_failures_and_exceptions(self):
        text = Fixture(self.folder).render()
        self.assertIn("tolerance 1e-04. Result: **FAILED**.", text)
        self.assertIn("| monarch | 4096 | 1.0e-07 | 2.0e-07 | non-finite (blkdiag2) | FAIL |", text)
        self.assertIn("| btt | 4096 | — | — | — | ERROR: CudaException: boom |", text)

    def test_newer_file_wins_and_a_measurement_beats_a_skip(self):
        Fixture(self.folder)
        write(self.folder, "structmat-gpu-bench-second.json", {
            "schema": "structmat-gpu-bench/1", "dry_run": False, "utc": "2026-12-01T11:00:00Z", "device": DEVICE,
            "results": [
                bench_record("monarch", 4096, 8192, "forward", 2.0, 2 * 4096 * 64),
                bench_record("dense", 4096, 8192, "forward", 0, 0, status="skipped"),
                bench_record("dense", 8192, 32768, "forward", 400.0, 8192 * 8192),
            ]})
        merged = report.merge_results(report.load(self.folder)["bench"], ("structure", "n", "batch", "pass"))
        self.assertEqual(merged[("monarch", 4096, 8192, "forward")]["median_ms"], 2.0)  # newer
        self.assertEqual(merged[("dense", 4096, 8192, "forward")]["median_ms"], 10.0)  # measured beats skipped
        self.assertEqual(merged[("dense", 8192, 32768, "forward")]["median_ms"], 400.0)  # skip replaced

    def test_failed_monarch_self_test_is_reported(self):
        Fixture(self.folder)
        path = os.path.join(self.folder, "torch-baseline.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        doc["self_test"] = {"passed": False, "failures": ["n=16 blocks=4: y error 1.0e+00"]}
        write(self.folder, "torch-baseline.json", doc)
        self.assertIn("failed its self-test", report.render(report.load(self.folder)))

    def test_dry_run_is_flagged(self):
        write(self.folder, "structmat-gpu-bench.json", {
            "dry_run": True, "utc": "x", "device": {"accelerator": "CPU", "name": "CPUAccelerator", "multiprocessors": 1,
                                                     "memory_bytes": 2 ** 63 - 1},
            "results": [bench_record("dense", 64, 8, "forward", 2.0, 4096)]})
        text = report.render(report.load(self.folder))
        self.assertIn("**DRY RUN**", text)
        self.assertIn("no peak known for this accelerator", text)
        self.assertIn("No PyTorch results.", text)

    def test_replace_section_keeps_the_text_outside_the_markers(self):
        text = f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n"
        new = report.replace_section(text, "new figures")
        self.assertEqual(new, f"intro\n{report.BEGIN}\n\nnew figures\n\n{report.END}\noutro\n")
        with self.assertRaises(ValueError):
            report.replace_section("no markers", "x")

    def test_main_writes_the_markdown_file(self):
        Fixture(self.folder)
        markdown = os.path.join(self.folder, "gpu.md")
        with open(markdown, "w", encoding="utf-8") as f:
            f.write(f"# GPU\n{report.BEGIN}\n{report.NO_FIGURES}\n{report.END}\n")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(report.main(["--results", self.folder, "--markdown", markdown]), 0)
        with open(markdown, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("# GPU\n"))
        self.assertIn("### Against PyTorch", text)
        self.assertNotIn(report.NO_FIGURES, text)

    def test_committed_page_has_the_markers(self):
        page = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "gpu-benchmarks.md")
        with open(page, encoding="utf-8") as f:
            report.replace_section(f.read(), "x")  # raises without the markers


if __name__ == "__main__":
    unittest.main(verbosity=1)
