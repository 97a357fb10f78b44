#!/usr/bin/env python3
"""Tests of torch_baseline.py's pure parts (standard library only; torch is not needed and not imported).

  python3 scripts/gpu/test_torch_baseline.py
"""

import json
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_baseline as tb  # noqa: E402


class PureParts(unittest.TestCase):
    def test_importing_the_module_does_not_import_torch(self):
        self.assertNotIn("torch", sys.modules)

    def test_monarch_shapes_are_fly_monarch_linear_with_64_blocks(self):
        self.assertEqual(tb.monarch_shapes(4096), ((64, 64, 64), (64, 64, 64)))
        self.assertEqual(tb.monarch_shapes(8192), ((64, 128, 128), (64, 128, 128)))
        with self.assertRaises(ValueError):
            tb.monarch_shapes(100)

    def test_macs_per_row_match_the_structmat_cost_model(self):
        # docs/benchmarks.md: dense n^2, monarch(blocks: 64) 524,288 at n = 4096, lowrank(rank: 64) 2 n 64.
        self.assertEqual(tb.macs_per_row("torch-linear", 4096), 16_777_216)
        self.assertEqual(tb.macs_per_row("torch-bmm-monarch", 4096), 524_288)
        self.assertEqual(tb.macs_per_row("torch-bmm-monarch", 8192), 2 * 8192 * 128)
        self.assertEqual(tb.macs_per_row("torch-lowrank", 4096), 524_288)

    def test_useful_gflops_counts_two_flop_per_mac_and_three_passes_for_backward(self):
        self.assertAlmostEqual(tb.useful_gflops(1_000_000, 1000, tb.FORWARD, 1.0), 2000.0)
        self.assertAlmostEqual(tb.useful_gflops(1_000_000, 1000, tb.FORWARD_BACKWARD, 1.0), 6000.0)

    def test_monarch_permutations_are_permutations(self):
        for k, q, l, s, r in ((4, 4, 4, 4, 4), (64, 128, 64, 128, 128), (2, 3, 3, 5, 2)):
            mid, out = tb.monarch_permutations(k, q, l, s, r)
            self.assertEqual(sorted(mid), list(range(k * q)))
            self.assertEqual(sorted(out), list(range(l * s)))
        with self.assertRaises(ValueError):
            tb.monarch_permutations(2, 3, 2, 2, 2)

    def test_monarch_reference_matches_fly_version_1_formula(self):
        # fly's square reference: einsum('bkp,kqp,qlk->blq') reshaped to (batch, n), with k = q = p = l = s = r = m:
        # y[b, ll*m + qq] = sum_kk sum_pp x[b, kk*m + pp] * w1[kk, qq, pp] * w2[qq, ll, kk].
        rng = random.Random(3)
        for m in (2, 3):
            n = m * m
            x = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(2)]
            w1 = [[[rng.uniform(-1, 1) for _ in range(m)] for _ in range(m)] for _ in range(m)]
            w2 = [[[rng.uniform(-1, 1) for _ in range(m)] for _ in range(m)] for _ in range(m)]
            got = tb.monarch_reference_lists(x, w1, w2)
            for b in range(2):
                for ll in range(m):
                    for qq in range(m):
                        want = sum(x[b][kk * m + pp] * w1[kk][qq][pp] * w2[qq][ll][kk] for kk in range(m) for pp in range(m))
                        self.assertAlmostEqual(got[b][ll * m + qq], want, places=12)

    def test_median(self):
        self.assertEqual(tb.median([3.0, 1.0, 2.0]), 2.0)
        self.assertEqual(tb.median([4.0, 1.0, 2.0, 3.0]), 2.5)
        with self.assertRaises(ValueError):
            tb.median([])

    def test_cases_cover_every_combination_dense_last(self):
        got = tb.cases(["torch-linear", "torch-bmm-monarch"], [64, 256], [8])
        self.assertEqual(len(set(got)), 2 * 2 * 1 * 2)
        self.assertEqual(got[0], ("torch-bmm-monarch", 64, 8, tb.FORWARD))
        self.assertEqual(got[3], ("torch-bmm-monarch", 256, 8, tb.FORWARD_BACKWARD))
        self.assertEqual(got[-1], ("torch-linear", 256, 8, tb.FORWARD_BACKWARD))

    def test_arguments_defaults_and_tiny(self):
        full = tb.parse_args([])
        self.assertEqual((full.sizes, full.batches, full.warmup, full.cpu), ([4096, 8192], [8192, 32768], 5, False))
        tiny = tb.parse_args(["--cpu", "--tiny"])
        self.assertEqual((tiny.sizes, tiny.batches, tiny.iterations, tiny.cpu), ([64, 256], [8], 2, True))
        self.assertEqual(tb.parse_args(["--impls", "torch-linear"]).impls, ["torch-linear"])

    def test_arguments_rejected(self):
        for argv in (["--sizes", "100"], ["--impls", "cublas"], ["--batches", "0"], ["--min-iterations", "9", "--iterations", "3"]):
            with self.subTest(argv=argv), open(os.devnull, "w") as devnull:
                stderr, sys.stderr = sys.stderr, devnull
                try:
                    with self.assertRaises(SystemExit):
                        tb.parse_args(argv)
                finally:
                    sys.stderr = stderr

    def test_result_record_and_json_round_trip(self):
        record = tb.result_record("torch-bmm-monarch", 4096, 8192, tb.FORWARD, [2.0, 1.0, 3.0])
        self.assertEqual(record["structure"], "monarch")
        self.assertEqual(record["median_ms"], 2.0)
        self.assertAlmostEqual(record["gflops"], 2.0 * 524_288 * 8192 / 2e6)
        skipped = tb.result_record("torch-linear", 4096, 8192, tb.FORWARD, status="skipped", error="deadline reached")
        self.assertNotIn("median_ms", skipped)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "sub", "t.json")
            tb.write_json(path, {"results": [record, skipped]})
            with open(path, encoding="utf-8") as f:
                self.assertEqual(json.load(f)["results"][0]["median_ms"], 2.0)


if __name__ == "__main__":
    unittest.main(verbosity=1)
