#!/usr/bin/env python3
"""Prints the ONNX Runtime peer table of docs/benchmarks.md from a BenchmarkDotNet brief JSON export.

Usage: python3 scripts/bench/onnx_runtime_table.py [BenchmarkDotNet.Artifacts/results/StructMat.Bench.OnnxRuntimeBenchmarks-report-brief.json]

Each row: the medians of StructMat's Forward and of ONNX Runtime running the exported layer, structured and merged,
and ORT's time over StructMat's (above 1: StructMat is faster), with "met" where StructMat is at least as fast as
ORT structured (issue 16, goal 6).
"""
import json
import re
import sys

ORDER = ["dense", "lowrank", "blockdiag", "monarch", "btt", "kron", "hra", "pixelfly", "butterfly"]


def main(path: str) -> None:
    with open(path, encoding="utf-8-sig") as f:
        doc = json.load(f)
    rows: dict = {}
    for bench in doc["Benchmarks"]:
        params = dict(part.split("=", 1) for part in bench["Parameters"].split("&"))
        key = (params["Structure"].strip('"'), int(params["N"]), int(params["Batch"]))
        rows.setdefault(key, {})[bench["Method"]] = bench["Statistics"]["Median"]

    def time(ns: float) -> str:
        return f"{ns / 1e3:.1f} µs" if ns < 1e6 else f"{ns / 1e6:.2f} ms"

    print("| structure | n | batch | StructMat | ORT structured | ORT merged | ORT structured / StructMat | ORT merged / StructMat | goal 6 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    names = ORDER + sorted({k[0] for k in rows} - set(ORDER))
    for key in sorted(rows, key=lambda k: (names.index(k[0]), k[1], k[2])):
        r = rows[key]
        if not {"StructMat", "OrtStructured", "OrtMerged"} <= r.keys():
            continue
        structured, merged = r["OrtStructured"] / r["StructMat"], r["OrtMerged"] / r["StructMat"]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {time(r['StructMat'])} | {time(r['OrtStructured'])} | {time(r['OrtMerged'])} "
              f"| {structured:.2f} | {merged:.2f} | {'met' if structured >= 1 else 'missed'} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "BenchmarkDotNet.Artifacts/results/StructMat.Bench.OnnxRuntimeBenchmarks-report-brief.json")
