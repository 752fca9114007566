"""Issue 9 point 6: the 2024→2025 changes the generator plants are recovered by the index.

The generator shifts one latent trait of four prefecture-level units from the second year on
(``synthetic.regions.PLANTED_CHANGES``, listed in the manifest as ``planted_changes``): 无锡 hotline capacity
+1.5 sd, 苏州 mediation effectiveness −1.5 sd, 淮安 handling speed +1.5 sd, 宿迁 enforcement −1.5 sd. On the
shared pipeline warehouse (province 32, 2024–2025, tests/conftest.py ``pipeline_warehouse``) the index must
move each planted unit's sub-dimension in the planted direction, and more than any other unit moves it; the
indicators the trait drives change in the planted direction, beyond noise where they have a sampling model.

无锡's planted change is a decline: its first-attempt answer rate is above the 95 % target, where the
goalposts cap the score, so an improvement could not show by design. 淮安's faster handling shows in the
median days to close (no sampling interval) — its acceptance rate is at 99.8 %, within noise of 100 %.
"""
from __future__ import annotations

import json

import pytest

SCOPE = "32"
# trait -> (the L2 sub-dimension it drives, [(an indicator it drives, its change must exceed noise)])
DRIVES = {
    "hotline_capacity": ("channel_convenience", [("hotline_first_answer_rate", True)]),
    "mediation_effectiveness": ("complaint_handling", [("mediation_success_rate", True), ("satisfaction_rate", True)]),
    "handling_speed": ("handling_timeliness", [("median_working_days_to_close", False)]),
    "enforcement": ("enforcement", [("complaint_to_case_rate", True), ("report_substantiation_rate", True)]),
}


@pytest.fixture(scope="module")
def planted(pipeline_warehouse):
    manifest = json.loads((pipeline_warehouse.landing / "manifest.json").read_text(encoding="utf-8"))
    return manifest["planted_changes"]


@pytest.fixture(scope="module")
def two_years(pipeline_warehouse):
    from indicators.scores import index_for, indicator_noise

    con = pipeline_warehouse.connect()
    try:
        r24 = index_for(con, SCOPE, "2024", runs=0).result
        r25 = index_for(con, SCOPE, "2025", runs=0).result
        q = "SELECT * FROM mart.indicator_values WHERE scope = $s AND period = $p"
        noise = indicator_noise(r25.spec, con.execute(q, {"s": SCOPE, "p": "2024"}).df(),
                                con.execute(q, {"s": SCOPE, "p": "2025"}).df())
    finally:
        con.close()
    return r24, r25, noise


def test_manifest_lists_the_planted_changes(planted):
    assert [(p["region_code"], p["trait"], p["shift_sd"], p["from_year"]) for p in planted] == [
        ("320200", "hotline_capacity", -1.5, 2025), ("320500", "mediation_effectiveness", -1.5, 2025),
        ("320800", "handling_speed", 1.5, 2025), ("321300", "enforcement", -1.5, 2025)]


@pytest.mark.parametrize("k", range(4))
def test_planted_direction_is_recovered(planted, two_years, k):
    r24, r25, noise = two_years
    p = planted[k]
    code, sign = p["region_code"], 1 if p["shift_sd"] > 0 else -1
    node, indicators = DRIVES[p["trait"]]
    change = (r25.scores[node] - r24.scores[node]).dropna()
    # the planted unit's sub-dimension moves in the planted direction, more than any other unit's does
    assert sign * change[code] > 0, (code, node, change[code])
    others = change.drop(code)
    assert sign * change[code] > (sign * others).max(), (code, node, change.round(2).to_dict())
    # and the indicators the trait drives change in the planted direction beyond their noise
    for ind, measured in indicators:
        row = noise[(noise.region_code == code) & (noise.indicator_id == ind)].iloc[0]
        direction = r25.spec.nodes[ind].direction
        assert sign * direction * row.delta > 0, (code, ind, row.delta)
        if measured:
            assert bool(row.beyond_noise), (code, ind, row.delta_low, row.delta_high)
        else:
            assert row.model == "none"
