"""The unit reference table of a generated province (issue 10 point 9): every 12315 entry unit
(录入单位, ``EU…``) and hotline call centre (话务单位, ``HL…``) the generated files name, with the
name people know and the bureau it belongs to. Not yet written into the landing folder: the loader
refuses files it does not know (ingestion/loader.py ``_not_a_delivery``), so ``units.csv`` needs an
ingestion source (``clean.units``) first. The reports read ``clean.units`` when it exists and
otherwise name units by the same scheme (:mod:`reports.units`), so the names agree either way.
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ["unit_id", "unit_name", "unit_kind", "bureau_code", "bureau_name"]


def unit_table(u) -> pd.DataFrame:
    """unit_id, unit_name, unit_kind (entry / hotline), bureau_code, bureau_name of a Universe."""
    from reports.units import bureau_code, bureau_name, scheme_name

    ids = [("entry", x) for x in u.entry_units.unit_id] + [("hotline", x) for x in u.hotline_units.unit_id]
    rows = []
    for kind, uid in ids:
        code = bureau_code(uid)
        rows.append({"unit_id": uid, "unit_name": scheme_name(uid, "zh"), "unit_kind": kind, "bureau_code": code,
                     "bureau_name": bureau_name(code, "zh")})
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("unit_id").reset_index(drop=True)
