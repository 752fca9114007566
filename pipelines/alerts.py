"""Alert delivery for the failure sensors (no Dagster here): one JSON line per alert in a log file,
and optionally a webhook (JSON POST) and an e-mail. Off by default: only the log file is written
unless a webhook URL or an e-mail address is configured (``pipelines.resources.AlertTarget``)."""
from __future__ import annotations

import json
import smtplib
import urllib.request
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path


def _line(alert: dict) -> str:
    return json.dumps(alert, ensure_ascii=False, sort_keys=True, default=str)


def subject(alert: dict) -> str:
    """One line: ``[cei] run failed: monthly_load_job 2025-05 — 1 delivered file(s) refused ...``."""
    what = alert.get("kind", "alert").replace("_", " ")
    where = " ".join(str(alert[k]) for k in ("job", "partition", "check") if alert.get(k))
    return f"[cei] {what}: {where} — {alert.get('message', '')}"[:300]


def deliver(alert: dict, *, log_path: Path, webhook_url: str = "", email_to: str = "", smtp_host: str = "",
            email_from: str = "cei-pipeline@localhost", timeout: float = 10.0) -> list[str]:
    """Append ``alert`` to ``log_path`` (created with its folder), then POST it to ``webhook_url`` and
    mail it to ``email_to`` through ``smtp_host`` (``host`` or ``host:port``) when they are set.
    Returns the targets that took it; a failing target is recorded in the log, never raised."""
    alert = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **alert}
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    delivered, problems = [], []
    if webhook_url:
        try:
            req = urllib.request.Request(webhook_url, data=_line(alert).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (the operator's own URL)
                resp.read()
            delivered.append("webhook")
        except Exception as e:  # noqa: BLE001 — an unreachable target must not stop the alert log
            problems.append(f"webhook {webhook_url}: {type(e).__name__}: {e}")
    if email_to:
        try:
            if not smtp_host:
                raise ValueError("no SMTP host configured (CEI_ALERT_SMTP)")
            host, _, port = smtp_host.partition(":")
            msg = EmailMessage()
            msg["Subject"], msg["From"], msg["To"] = subject(alert), email_from, email_to
            msg.set_content(json.dumps(alert, ensure_ascii=False, indent=1, default=str))
            with smtplib.SMTP(host, int(port or 25), timeout=timeout) as smtp:
                smtp.send_message(msg)
            delivered.append("email")
        except Exception as e:  # noqa: BLE001
            problems.append(f"email {email_to}: {type(e).__name__}: {e}")
    if problems:
        alert["delivery_problems"] = problems
    with open(log_path, "a", encoding="utf-8") as f:
        f.write(_line(alert) + "\n")
    return ["log", *delivered]
