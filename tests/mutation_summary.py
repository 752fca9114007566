"""Summary of the last `make mutation` run (mutmut's per-file results in mutants/**/*.py.meta).

Prints per module: mutants generated, checked, killed, survived, timed out, without tests, and the
surviving share of the checked ones, then the surviving mutants by name (``mutmut show NAME`` prints
the diff). Not a test module (pytest collects test_*.py only).
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# mutmut's exit-code meaning (mutmut/stats.py); anything else is "suspicious"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check",
          -11: "segfault", -9: "segfault", 2: "interrupted", None: "not checked"}


def main(root: Path = Path("mutants")) -> int:
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("no mutmut results under mutants/: run `make mutation` first")
        return 1
    rows, survivors, total = [], [], Counter()
    for meta in metas:
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.get("exit_code_by_key", {})
        if not codes:
            continue
        c = Counter(STATUS.get(code, "suspicious") for code in codes.values())
        module = meta.relative_to(root).as_posix().removesuffix(".meta")
        rows.append((module, len(codes), c))
        total.update(c)
        total["generated"] += len(codes)
        survivors += sorted(k for k, code in codes.items() if STATUS.get(code) == "survived")

    def line(name: str, n: int, c: Counter) -> str:
        checked = c["killed"] + c["survived"] + c["timeout"] + c["suspicious"]
        share = f"{100 * c['survived'] / checked:.1f}%" if checked else "-"
        return (f"| {name} | {n} | {checked} | {c['killed']} | {c['survived']} | {c['timeout']} | {c['no tests']} "
                f"| {c['not checked']} | {share} |")

    print("| module | mutants | checked | killed | survived | timeout | no tests | not checked | surviving |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for module, n, c in rows:
        print(line(module, n, c))
    print(line("**all**", total["generated"], total))
    print()
    print(f"surviving mutants ({len(survivors)}):")
    for name in survivors:
        print(f"- `{name}`")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("mutants")))
