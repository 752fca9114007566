"""Summary of the last `make mutation` run (mutmut's per-file results in mutants/**/*.py.meta).

Prints per module: mutants generated, checked, killed, survived, timed out, without tests, and the
surviving share of the checked ones, then the surviving mutants by name (``mutmut show NAME`` prints
the diff). Not a test module (pytest collects test_*.py only).

Sampled strata (``tests/mutation_sample.json``): where a whole run is too long, a seeded uniform random
sample of a stratum of mutants is judged and the stratum's surviving share estimated with a 95%
Clopper-Pearson interval; the estimate for the whole target adds the strata (weighted by their mutant
counts) to the mutants judged outside them. A sampled mutant without tests counts as surviving (no test
kills it), a timeout as killed. ``--sample-names`` prints the sampled names, for
``make mutation MUTANTS="$(.venv/bin/python tests/mutation_summary.py --sample-names)"``; ``--extend K N``
adds the next N names of stratum K's permutation to the sample and prints them (to judge just those);
``--draw SEED N`` replaces the sample with a fresh one of N names over every mutant generated now.
"""
from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

# mutmut's exit-code meaning (mutmut/stats.py); anything else is "suspicious"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check",
          -11: "segfault", -9: "segfault", 2: "interrupted", None: "not checked"}
SAMPLE = Path(__file__).with_name("mutation_sample.json")


def load_codes(root: Path) -> dict[str, dict[str, int | None]]:
    """module path -> {mutant name: exit code or None}."""
    out = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        if codes:
            out[meta.relative_to(root).as_posix().removesuffix(".meta")] = codes
    return out


def module_of(mutant: str) -> str:
    """``ingestion.loader.x__log__mutmut_3`` / ``ingestion.x.xǁCǁm__mutmut_1`` -> ``ingestion.loader``."""
    parts = mutant.split(".")
    i = next(i for i, p in enumerate(parts) if p.startswith(("x_", "xǁ")))
    return ".".join(parts[:i])


def load_sample(path: Path = SAMPLE) -> dict:
    """The strata and their samples; checks that each sample is the first n of the seeded permutation."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    rng = random.Random(spec["seed"])
    for name, stratum in spec["strata"].items():  # drawn in file order from one generator
        order = rng.sample(stratum["population"], len(stratum["population"]))
        n = len(stratum["sample"])
        if order[:n] != stratum["sample"]:
            raise SystemExit(f"{path}: the sample of {name!r} is not the first {n} of its seeded permutation")
    return spec


def interval(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import binomtest  # only here: the plain summary needs no scipy

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return ci.low, ci.high


def sampled(codes: dict[str, dict[str, int | None]], spec: dict) -> None:
    status = {k: STATUS.get(v, "suspicious") for mod in codes.values() for k, v in mod.items()}
    total_mutants = sum(len(c) for c in codes.values())
    in_strata: set[str] = set()
    est = lo = hi = 0.0
    print()
    print(f"sampled strata (tests/mutation_sample.json, seed {spec['seed']}; 95% Clopper-Pearson):")
    print()
    print("| stratum | mutants | sampled | judged | survived | surviving share (95% interval) | surviving mutants, estimated |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, stratum in spec["strata"].items():
        pop, sample = stratum["population"], stratum["sample"]
        in_strata.update(pop)
        c = Counter(status.get(m, "gone") for m in sample)
        judged = c["killed"] + c["timeout"] + c["survived"] + c["no tests"] + c["suspicious"]
        k = c["survived"] + c["no tests"] + c["suspicious"]
        if not judged:
            print(f"| {name} | {len(pop)} | {len(sample)} | 0 | | | |")
            continue
        p, (a, b) = k / judged, interval(k, judged)
        est, lo, hi = est + p * len(pop), lo + a * len(pop), hi + b * len(pop)
        print(f"| {name} | {len(pop)} | {len(sample)} | {judged} | {k} | {100 * p:.1f}% ({100 * a:.1f}–{100 * b:.1f}%) "
              f"| {p * len(pop):.0f} ({a * len(pop):.0f}–{b * len(pop):.0f}) |")
        by_module = Counter(module_of(m) for m in sample if status.get(m) in ("survived", "no tests", "suspicious"))
        if by_module:
            print(f"|  survivors by module | | | | {', '.join(f'{m}: {n}' for m, n in sorted(by_module.items()))} | | |")
    outside = Counter(s for m, s in status.items() if m not in in_strata)
    known = outside["survived"] + outside["no tests"] + outside["suspicious"]
    judged_outside = known + outside["killed"] + outside["timeout"]
    print()
    print(f"outside the strata: {judged_outside} mutants judged, {known} survive (mutmut's record), "
          f"{outside['not checked']} not judged")
    share = lambda x: f"{100 * (known + x) / total_mutants:.1f}%"  # noqa: E731
    print(f"whole target ({total_mutants} mutants): about {known + est:.0f} surviving = {share(est)} "
          f"(95% interval {share(lo)}–{share(hi)}: the strata's interval ends added, a conservative combination)"
          + (f"; {outside['not checked']} mutants outside the strata not judged" if outside["not checked"] else ""))


def main(root: Path = Path("mutants"), sample: Path | None = SAMPLE) -> int:
    codes = load_codes(root)
    if not codes:
        print("no mutmut results under mutants/: run `make mutation` first")
        return 1
    rows, survivors, total = [], [], Counter()
    for module, mod_codes in codes.items():
        c = Counter(STATUS.get(code, "suspicious") for code in mod_codes.values())
        rows.append((module, len(mod_codes), c))
        total.update(c)
        total["generated"] += len(mod_codes)
        survivors += sorted(k for k, code in mod_codes.items() if STATUS.get(code) == "survived")

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
    if sample is not None and sample.exists():
        sampled(codes, load_sample(sample))
    print()
    print(f"surviving mutants ({len(survivors)}):")
    for name in survivors:
        print(f"- `{name}`")
    return 0


def draw(seed: int, n: int, root: Path = Path("mutants"), path: Path = SAMPLE) -> list[str]:
    """A fresh sample: one stratum, every mutant mutmut generated under ``root`` (the whole target as
    the source stands), of which the first ``n`` of a permutation seeded with ``seed`` are the sample.
    Replaces ``path``; draw it after the source changed (mutant names follow the source)."""
    population = sorted(k for mod in load_codes(root).values() for k in mod)
    if not population:
        raise SystemExit(f"no mutants under {root}: run `make mutation` (any subset) first to generate them")
    order = random.Random(seed).sample(population, len(population))
    spec = {"seed": seed, "strata": {"whole target": {"population": population, "sample": order[:n]}}}
    path.write_text(json.dumps(spec, ensure_ascii=False, indent=0), encoding="utf-8")
    return order[:n]


def extend(stratum: int, n: int, path: Path = SAMPLE) -> list[str]:
    """Lengthen the sample of the ``stratum``-th stratum by the next ``n`` names of its permutation (a
    fresh random sample, e.g. to judge the suite again after tests were written for the first one)."""
    spec = load_sample(path)
    rng = random.Random(spec["seed"])
    for i, st in enumerate(spec["strata"].values()):
        order = rng.sample(st["population"], len(st["population"]))
        if i == stratum:
            new = order[len(st["sample"]):len(st["sample"]) + n]
            st["sample"] = order[:len(st["sample"]) + n]
    path.write_text(json.dumps(spec, ensure_ascii=False, indent=0), encoding="utf-8")
    return new


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--sample-names"]:
        print(" ".join(m for s in load_sample().get("strata", {}).values() for m in s["sample"]))
        sys.exit(0)
    if args[:1] == ["--draw"]:  # --draw SEED N: a fresh sample of the whole target; prints its names
        print(" ".join(draw(int(args[1]), int(args[2]))))
        sys.exit(0)
    if args[:1] == ["--extend"]:  # --extend STRATUM N: prints the added names
        print(" ".join(extend(int(args[1]), int(args[2]))))
        sys.exit(0)
    sys.exit(main(Path(args[0]) if args else Path("mutants")))
