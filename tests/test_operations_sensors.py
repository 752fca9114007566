"""Sensors that do not replay history, one range run per load, and the failure alerts (log file,
optional webhook) for a failed run and a failed asset check."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from assets.ingest import landing_files, staging_complaints
from pipelines.definitions import defs
from pipelines.resources import AlertTarget, warehouse_resource
from pipelines.sensors import (RANGE_END, RANGE_START, failed_check_alert_sensor, run_failure_alert_sensor,
                               staging_after_load_sensor)
from tests.helpers import complaint_rows, write_csv


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _load(instance, warehouse, landing, raise_on_error=True):
    return dg.materialize([landing_files], instance=instance, resources={"duckdb": warehouse_resource(str(warehouse))},
                          run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}},
                          raise_on_error=raise_on_error)


def _sensor(sensor, instance, cursor=None, **resources):
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources or None,
                                  repository_def=defs.get_repository_def())
    return sensor.evaluate_tick(ctx)


def test_staging_sensor_starts_from_now_and_requests_one_range_run_per_load(tmp_path, warehouse, instance):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-01.csv", complaint_rows(5, "2025-01", seed=1))
    _load(instance, warehouse, landing)  # history: loaded before the sensor was ever turned on

    first = _sensor(staging_after_load_sensor, instance)
    assert first.run_requests == [] and first.cursor is not None  # nothing replayed
    assert _sensor(staging_after_load_sensor, instance, first.cursor).run_requests == []

    # one load touching three months (one of them twice): ONE run over 2025-03..2025-06
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(5, "2025-03", seed=2))
    write_csv(landing / "complaints_2025-06.csv", complaint_rows(5, "2025-06", seed=3))
    write_csv(landing / "complaints_2025-04.csv", complaint_rows(5, "2025-04", seed=4))
    load = _load(instance, warehouse, landing)
    tick = _sensor(staging_after_load_sensor, instance, first.cursor)
    [request] = tick.run_requests
    assert request.job_name == "monthly_job"
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-03-01", "2025-06-01")
    assert request.run_key == f"{load.run_id}:2025-03..2025-06"
    # evaluated again from its own cursor: nothing new
    assert _sensor(staging_after_load_sensor, instance, tick.cursor).run_requests == []

    # two loads between ticks: two range runs, one each
    write_csv(landing / "complaints_2025-07.csv", complaint_rows(5, "2025-07", seed=5))
    _load(instance, warehouse, landing)
    write_csv(landing / "complaints_2025-08.csv", complaint_rows(5, "2025-08", seed=6))
    _load(instance, warehouse, landing)
    later = _sensor(staging_after_load_sensor, instance, tick.cursor).run_requests
    assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in later] == [("2025-07-01", "2025-07-01"),
                                                                         ("2025-08-01", "2025-08-01")]

    # the range run the sensor asks for is one run that stages every month of the range
    result = defs.resolve_job_def("monthly_job").execute_in_process(
        instance=instance, resources={"duckdb": warehouse_resource(str(warehouse))}, tags=dict(request.tags),
        raise_on_error=False)
    staged = result.asset_materializations_for_node("staging__complaints")  # one step, one event per month
    assert sorted(m.partition for m in staged) == ["2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]
    assert staged[0].metadata["partitions"].value == 4  # 03, 04, 05 (nothing delivered), 06


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", _Hook.received
    server.shutdown()


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_refused_file_fails_the_run_after_the_rest_loaded_and_the_failure_sensor_alerts(
        tmp_path, warehouse, instance, webhook):
    url, received = webhook
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(6))
    (landing / "complaints_2025-04.csv").write_bytes(b"\x00\x01 not a csv \xff\xfe" * 40)  # refused
    result = _load(instance, warehouse, landing, raise_on_error=False)
    assert not result.success  # no green failure
    [mat] = result.asset_materializations_for_node("raw__landing_files")  # ... but the good file loaded
    assert mat.metadata["files_loaded"].value == 1 and mat.metadata["files_failed"].value == 1

    log = tmp_path / "alerts.log"
    ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources={"alerts": AlertTarget(log_path=str(log), webhook_url=url)}).for_run_failure()
    run_failure_alert_sensor(ctx)
    [alert] = _lines(log)
    assert alert["kind"] == "run_failed" and alert["run_id"] == result.run_id
    assert "refused" in alert["message"] and "complaints_2025-04.csv" in alert["message"]
    assert received and received[0]["run_id"] == result.run_id  # the webhook got the same alert

    # off by default: without a webhook only the log is written
    assert AlertTarget(log_path=str(log)).send({"kind": "test", "message": "x"}) == ["log"]
    assert AlertTarget.from_env().webhook_url == "" and AlertTarget.from_env().email_to == ""


def test_an_unreachable_webhook_is_recorded_not_raised(tmp_path):
    log = tmp_path / "alerts.log"
    done = AlertTarget(log_path=str(log), webhook_url="http://127.0.0.1:9/nowhere", timeout=2).send(
        {"kind": "run_failed", "message": "x"})
    assert done == ["log"]
    [alert] = _lines(log)
    assert "webhook http://127.0.0.1:9/nowhere" in alert["delivery_problems"][0]


def test_failed_check_sensor_starts_from_now_then_alerts_each_failed_check(tmp_path, warehouse, instance):
    resources = {"duckdb": warehouse_resource(str(warehouse))}
    landing = tmp_path / "landing"
    landing.mkdir()
    bad = complaint_rows(20)
    for r in bad[:4]:
        r["amount_disputed"] = "n/a"  # 20% untypeable in March: reject_share fails
    write_csv(landing / "complaints_2025-03.csv", bad)
    write_csv(landing / "complaints_2025-04.csv", complaint_rows(20, "2025-04", seed=4))
    _load(instance, warehouse, landing)
    dg.materialize([staging_complaints], partition_key="2025-03-01", resources=resources, instance=instance,
                   raise_on_error=False)  # a failed check before the sensor existed: history

    log = tmp_path / "alerts.log"
    alerts = AlertTarget(log_path=str(log))
    first = _sensor(failed_check_alert_sensor, instance, alerts=alerts)
    assert first.cursor is not None and _lines(log) == []  # not replayed

    dg.materialize([staging_complaints], partition_key="2025-04-01", resources=resources, instance=instance)
    passed = _sensor(failed_check_alert_sensor, instance, first.cursor, alerts=alerts)
    assert _lines(log) == []  # a passing check is no alert

    dg.materialize([staging_complaints], partition_key="2025-03-01", resources=resources, instance=instance,
                   raise_on_error=False)
    _sensor(failed_check_alert_sensor, instance, passed.cursor, alerts=alerts)
    # the range's check and March's own result
    got = sorted((a["kind"], a["asset"], a["check"], a["partition"]) for a in _lines(log))
    assert got == [("check_failed", "staging/complaints", "month_reject_share", "2025-03-01"),
                   ("check_failed", "staging/complaints", "reject_share", None)]
    assert all("2025-03" in a["message"] for a in _lines(log))


def test_the_run_failure_sensor_starts_from_now(tmp_path, warehouse, instance):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "complaints_2025-04.csv").write_bytes(b"\x00\x01 not a csv \xff\xfe" * 40)  # refused at every load
    before = _load(instance, warehouse, landing, raise_on_error=False)  # failed before the sensor was turned on
    assert not before.success
    log = tmp_path / "alerts.log"
    resources = {"alerts": AlertTarget(log_path=str(log))}
    first = run_failure_alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources))
    assert first.run_requests == [] and _lines(log) == []  # history is not replayed
    after = _load(instance, warehouse, landing, raise_on_error=False)
    run_failure_alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                                   resources=resources))
    assert [a["run_id"] for a in _lines(log)] == [after.run_id]


def test_an_email_target_gets_the_alert_through_the_configured_smtp_host(tmp_path, monkeypatch):
    import pipelines.alerts as alerts_module

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(("message", msg["To"], msg["Subject"], msg.get_content()))

    monkeypatch.setattr(alerts_module.smtplib, "SMTP", FakeSMTP)
    target = AlertTarget(log_path=str(tmp_path / "alerts.log"), email_to="dq@example.org", smtp_host="mail.local:2525")
    assert target.send({"kind": "run_failed", "job": "monthly_load_job", "partition": "2025-05-01",
                        "message": "1 delivered file(s) refused"}) == ["log", "email"]
    assert sent[0] == ("connect", "mail.local", 2525)
    _, to, subject, body = sent[1]
    assert to == "dq@example.org" and subject.startswith("[cei] run failed: monthly_load_job 2025-05-01")
    assert "1 delivered file(s) refused" in body
    # an address without a host is recorded as a delivery problem, not raised
    assert AlertTarget(log_path=str(tmp_path / "b.log"), email_to="dq@example.org").send({"kind": "x"}) == ["log"]
    assert "CEI_ALERT_SMTP" in _lines(tmp_path / "b.log")[0]["delivery_problems"][0]
