"""Sums the JUnit XML files of every suite into one `N passed, N failed` line.

Usage: summarize_results.py RESULTS_DIR [RESULTS_DIR ...] (one per build:
scripts/test.sh's release and sanitizer runs). A suite whose XML is missing
counts as one failure, so a runner that crashed before writing results cannot
pass silently. Exits non-zero on any failure.
"""
import pathlib
import sys
import xml.etree.ElementTree as ET

EXPECTED = ("lit.xml", "gtest.xml", "pytest.xml")


def count(path: pathlib.Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main() -> int:
    passed = failed = skipped = 0
    for results in map(pathlib.Path, sys.argv[1:]):
        for name in EXPECTED:
            path = results / name
            if not path.exists():
                print(f"{results}/{name}: missing (suite did not run)")
                failed += 1
                continue
            p, f, s = count(path)
            print(f"{results}/{name}: {p} passed, {f} failed, {s} skipped")
            passed, failed, skipped = passed + p, failed + f, skipped + s
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
