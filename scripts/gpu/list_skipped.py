#!/usr/bin/env python3
"""Prints every skipped test and its reason from TRX files, so that a skip (the CUDA tests where there is no GPU)
is visible in the CI log and not only counted. Standard library only.

  python3 scripts/gpu/list_skipped.py TestResults/ci/*.trx
"""

import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"


def skipped(path):
    root = ET.parse(path).getroot()
    for result in root.iter(NS + "UnitTestResult"):
        if result.get("outcome") == "NotExecuted":
            message = result.find(f"{NS}Output/{NS}ErrorInfo/{NS}Message")
            yield result.get("testName"), (message.text or "").strip() if message is not None else "(no reason given)"


def main(paths):
    count = 0
    for path in paths:
        for name, reason in skipped(path):
            print(f"skipped: {name}: {reason}")
            count += 1
    if count == 0:
        print("skipped: none")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
