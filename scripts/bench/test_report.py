#!/usr/bin/env python3
"""Tests of report.py on synthetic BenchmarkDotNet exports (made-up times, never results):
python3 scripts/bench/test_report.py"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep scripts/bench free of __pycache__
import report  # noqa: E402

MACS = {"openblas-sgemm": lambda n: n * n, "dense": lambda n: n * n, "monarch": lambda n: 2 * n * 64,
        "lowrank": lambda n: 128 * n}


def run_info(baseline="openblas-sgemm", openblas="libopenblas.so.0: OpenBLAS test"):
    return {
        "cpu": "Test CPU", "logicalCores": 2, "os": "TestOS", "runtime": ".NET test",
        "baseline": baseline,
        "baselineLabel": "dense sgemm (OpenBLAS)" if openblas else "dense (StructMat kernel, OpenBLAS not found)",
        "openblas": openblas,
        "openblasEnvironment": {"OPENBLAS_CORETYPE": "Haswell"} if openblas else {},
        "runs": [{"command": "dotnet run -c Release --project bench/StructMat.Bench -- --filter '*'",
                  "utc": "2000-01-01T00:00:00Z", "gitCommit": "abc1234", "reports": []}],
        "structures": [{"name": s, "n": n, "label": f"{s} decl", "macsPerRow": f(n), "parameters": f(n),
                        "trainableParameters": f(n)} for s, f in MACS.items() for n in (1024, 4096)],
    }


def bench(type_, method, structure, n, batch, median):
    # Made-up: the baseline's mean equals its median, the structures' means are 1.25 x their medians (so the
    # speedups on means are 1.25 x smaller, and a test can tell which statistic a figure came from).
    mean = None if median is None else median * (1.0 if structure == "openblas-sgemm" else 1.25)
    return {"Type": type_, "Method": method, "FullName": f"StructMat.Bench.{type_}.{method}({structure},{n},{batch})",
            "Parameters": f"N={n}&Batch={batch}&Structure={structure}",
            "Statistics": None if median is None else {"Mean": mean, "Median": median, "StandardDeviation": mean / 10, "N": 6}}


def fake_time(structure, n, batch, method):
    # made-up: sgemm at 100 GFLOP/s, the rest at 20 GFLOP/s
    rate = 100.0 if structure == "openblas-sgemm" else 20.0
    return 2.0 * MACS[structure](n) * batch * (3 if method == "ForwardBackward" else 1) / rate


class ReportTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.md = os.path.join(self.dir, "benchmarks.md")
        self.svg = os.path.join(self.dir, "speedup.svg")
        with open(self.md, "w", encoding="utf-8") as f:
            f.write(f"# Title\n\nprose before\n\n{report.BEGIN}\nold\n{report.END}\n\nprose after\n")
        self.readme = os.path.join(self.dir, "README.md")
        with open(self.readme, "w", encoding="utf-8") as f:
            f.write(f"# Readme\n\n{report.SUMMARY_BEGIN}\nold\n{report.SUMMARY_END}\n\nmore\n")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, obj):
        with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f)

    def write_results(self, info=None, extra=(), structures=("openblas-sgemm", "dense", "monarch", "lowrank")):
        self.write(report.RUN_INFO, info or run_info())
        grid = [bench("LayerBenchmarks", m, s, n, b, fake_time(s, n, b, m))
                for s in structures for n in (1024, 4096) for b in (16, 1024) for m in ("Forward", "ForwardBackward")]
        sweep = [bench("BatchSweepBenchmarks", m, s, n, b, fake_time(s, n, b, m))
                 for s in structures for n in (1024,) for b in (1, 4, 64, 256) for m in ("Forward", "ForwardBackward")]
        self.write("StructMat.Bench.LayerBenchmarks-report-brief.json",
                   {"HostEnvironmentInfo": {"BenchmarkDotNetVersion": "0.15.8"}, "Benchmarks": grid + list(extra)})
        self.write("StructMat.Bench.BatchSweepBenchmarks-report-brief.json", {"Benchmarks": sweep})

    def run_report(self):
        self.messages = io.StringIO()
        with contextlib.redirect_stdout(self.messages), contextlib.redirect_stderr(self.messages):
            return report.main(["--results", self.dir, "--markdown", self.md, "--svg", self.svg, "--readme", self.readme])

    def read_md(self):
        with open(self.md, encoding="utf-8") as f:
            return f.read()

    def test_figures(self):
        self.write_results()
        inputs = report.load(self.dir)
        rows = {(w.result.structure, w.result.n, w.result.batch, w.result.method): w for w in report.derive(inputs)}
        m = rows[("monarch", 1024, 16, "Forward")]
        self.assertAlmostEqual(m.gflops, 20.0)  # from the median by default
        self.assertAlmostEqual(m.flop_ratio, 1024 * 1024 / (2 * 1024 * 64))
        self.assertAlmostEqual(m.speedup, 0.2 * m.flop_ratio)  # 20 vs 100 GFLOP/s
        self.assertAlmostEqual(m.fraction, 0.2)
        fb = rows[("monarch", 4096, 1024, "ForwardBackward")]
        self.assertAlmostEqual(fb.gflops, 20.0)  # ×3 convention on both sides
        self.assertAlmostEqual(rows[("openblas-sgemm", 1024, 1, "Forward")].speedup, 1.0)
        on_means = {(w.result.structure, w.result.n, w.result.batch, w.result.method): w for w in report.derive(inputs, "mean")}
        self.assertAlmostEqual(on_means[("monarch", 1024, 16, "Forward")].gflops, 16.0)
        self.assertAlmostEqual(on_means[("monarch", 1024, 16, "Forward")].speedup, m.speedup / 1.25)

    def test_markdown_and_svg(self):
        self.write_results()
        self.assertEqual(self.run_report(), 0)
        md = self.read_md()
        self.assertTrue(md.startswith("# Title\n\nprose before\n\n" + report.BEGIN))
        self.assertTrue(md.endswith(report.END + "\n\nprose after\n"))
        self.assertNotIn("\nold\n", md)
        self.assertIn("| monarch | 1024 | 16 | forward |", md)
        self.assertIn("| structure | n | batch | pass | median | mean | ± |", md)
        self.assertIn("Test CPU, 2 logical cores", md)
        self.assertIn("environment: `OPENBLAS_CORETYPE=Haswell`.", md)
        self.assertIn("--filter '*'", md)
        self.assertIn("![Speedup over dense sgemm (OpenBLAS) against batch size](speedup.svg)", md)
        root = ET.parse(self.svg).getroot()
        self.assertIn("; median times", "".join(root.itertext()))
        self.assertTrue(root.tag.endswith("svg"))
        self.assertEqual(len([e for e in root.iter() if e.tag.endswith("polyline")]), 3 * 2 + 3 * 2)  # 3 lines × 2 passes × n=1024 (6 batches) and n=4096 (2)
        # Running again replaces the section instead of appending a second one.
        self.assertEqual(self.run_report(), 0)
        self.assertEqual(self.read_md().count(report.BEGIN), 1)

    def test_readme_summary_checks_the_targets(self):
        self.write_results()
        self.assertEqual(self.run_report(), 0)
        with open(self.readme, encoding="utf-8") as f:
            readme = f.read()
        self.assertTrue(readme.startswith("# Readme\n\n" + report.SUMMARY_BEGIN))
        self.assertTrue(readme.endswith(report.SUMMARY_END + "\n\nmore\n"))
        self.assertNotIn("\nold\n", readme)
        # Made-up rates: 20 against 100 GFLOP/s, so monarch (FLOP ratio 32) is 6.4x faster.
        self.assertIn("| monarch | ", readme)
        self.assertIn("- monarch forward speedup (≥ 16×): medians 6.40× — missed (at 40 % of the goal); "
                      "means 5.12× — missed (at 32 % of the goal)", readme)
        self.assertIn("- lowrank forward speedup (≥ 16×): medians 6.40× — missed (at 40 % of the goal); ", readme)
        self.assertIn("- every structure's forward at ≥ 50 % of dense sgemm (OpenBLAS)'s GFLOP/s: medians 100 (so ≥ 50) — "
                      "missed by dense 20, monarch 20, lowrank 20 GFLOP/s; means 100 (so ≥ 50) — missed by dense 16, "
                      "monarch 16, lowrank 16 GFLOP/s", readme)
        self.assertIn("](speedup.svg)", readme)

    def test_statistic_mean_and_a_missing_median(self):
        no_median = bench("LayerBenchmarks", "Forward", "lowrank", 1024, 2048, 1000.0)
        del no_median["Statistics"]["Median"]
        self.write_results(extra=[no_median])
        # On medians (the default) the case has no figure: it is reported as failed.
        self.assertEqual(self.run_report(), 0)
        self.assertIn("failed benchmark: StructMat.Bench.LayerBenchmarks.Forward(lowrank,1024,2048) "
                      "(StructMat.Bench.LayerBenchmarks-report-brief.json): no valid median", self.messages.getvalue())
        # On means it has one, and its missing median shows as a dash.
        self.messages = io.StringIO()
        with contextlib.redirect_stdout(self.messages), contextlib.redirect_stderr(self.messages):
            rc = report.main(["--results", self.dir, "--markdown", self.md, "--svg", self.svg, "--readme", self.readme,
                              "--statistic", "mean"])
        self.assertEqual(rc, 0)
        self.assertNotIn("failed benchmark", self.messages.getvalue())
        md = self.read_md()
        self.assertIn("| structure | n | batch | pass | mean | median | ± |", md)
        self.assertIn("| lowrank | 1024 | 2048 | forward | 1.25 µs | — | 10 % |", md)
        with open(self.readme, encoding="utf-8") as f:
            self.assertIn("- monarch forward speedup (≥ 16×): means 5.12× — missed (at 32 % of the goal); medians 6.40×", f.read())
        with open(self.svg, encoding="utf-8") as f:
            self.assertIn("; mean times", f.read())

    def test_failed_and_missing_baseline(self):
        self.write_results(extra=[bench("LayerBenchmarks", "Forward", "monarch", 1024, 2048, None),
                                  bench("LayerBenchmarks", "Forward", "lowrank", 1024, 8, 1000.0)])
        self.assertEqual(self.run_report(), 0)
        md = self.read_md()
        self.assertIn("### Failed", md)
        self.assertIn("failed benchmark: StructMat.Bench.LayerBenchmarks.Forward(monarch,1024,2048)", self.messages.getvalue())
        self.assertIn("no openblas-sgemm baseline for n=1024 batch=8 forward", self.messages.getvalue())
        self.assertIn("| lowrank | 1024 | 8 | forward | 1 µs | 1.25 µs | 10 % | 2097 | — | 8.00 | — |", md)

    def test_fallback_baseline_is_labelled(self):
        info = run_info(baseline="dense-kernel-fallback", openblas=None)
        info["structures"] += [{"name": "dense-kernel-fallback", "n": n, "label": "dense (StructMat kernel, OpenBLAS not found)",
                                "macsPerRow": n * n, "parameters": n * n, "trainableParameters": n * n} for n in (1024, 4096)]
        MACS["dense-kernel-fallback"] = lambda n: n * n
        try:
            self.write_results(info=info, structures=("dense-kernel-fallback", "dense", "monarch"))
            self.assertEqual(self.run_report(), 0)
        finally:
            del MACS["dense-kernel-fallback"]
        md = self.read_md()
        self.assertIn("**dense (StructMat kernel, OpenBLAS not found)**", md)
        self.assertIn("speedup over dense (StructMat kernel, OpenBLAS not found)", md)

    def test_missing_inputs_are_reported(self):
        self.assertEqual(self.run_report(), 2)  # no run info
        self.write(report.RUN_INFO, run_info())
        self.assertEqual(self.run_report(), 2)  # no JSON export
        with open(self.md, "w", encoding="utf-8") as f:
            f.write("no markers\n")
        self.write_results()
        self.assertEqual(self.run_report(), 2)  # no markers: the file is left alone
        with open(self.md, encoding="utf-8") as f:
            self.assertEqual(f.read(), "no markers\n")


if __name__ == "__main__":
    unittest.main()
