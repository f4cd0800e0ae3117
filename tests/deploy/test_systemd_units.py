"""deploy/systemd/: the units pass `systemd-analyze verify` without a word, and keep their promises.

`verify` exits 0 on many errors, so the test asks for no output at all. It runs against a
throwaway root (``--root``) holding the system's own unit files, the units under test and the
programs they call, so it needs neither systemd as PID 1 nor a deployed release under /srv.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.processes import ROOT

UNITS = ROOT / "deploy" / "systemd"
SERVICES = (
    "addon-partner-web.service",
    "addon-partner-worker.service",
    "addon-partner-beat.service",
    "addon-partner-relay.service",
)
EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost")


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


def executables(name: str) -> list[str]:
    service = unit(name)["Service"]
    return [service[key].split()[0].lstrip("-@+!:") for key in EXEC_KEYS if key in service]


def verify_root(tmp_path: Path, units: dict[str, str]) -> Path:
    """A filesystem root with the host's unit library, ``units`` and every program they run."""
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "bin").symlink_to("usr/bin")
    (root / "lib").symlink_to("usr/lib")
    (root / "sbin").symlink_to("usr/sbin")
    target = root / "etc/systemd/system"
    target.mkdir(parents=True)
    for name, text in units.items():
        (target / name).write_text(text)
        if not name.endswith(".service"):
            continue
        for program in executables(name) if (UNITS / name).exists() else []:
            place = root / program.lstrip("/")
            place.parent.mkdir(parents=True, exist_ok=True)
            if program.startswith("/srv/"):  # the release's virtualenv, made by deploy/deploy.sh
                place.write_text("#!/bin/sh\n")
                place.chmod(0o755)
            else:
                real = Path(program).resolve()
                target_path = root / str(real).lstrip("/")
                target_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(real, target_path)
    return root


def analyze(root: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", *names],
        capture_output=True,
        text=True,
        timeout=60,
    )


def shipped_units() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(UNITS.iterdir()) if path.suffix in (".service", ".target")}


def test_units_verify_without_any_output(tmp_path: Path) -> None:
    units = shipped_units()
    assert set(SERVICES) | {"addon-partner.target"} <= set(units)
    result = analyze(verify_root(tmp_path, units), sorted(units))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_harness_sees_a_broken_unit(tmp_path: Path) -> None:
    """The silence above means something: the same harness reports a unit with an error."""
    broken = (UNITS / "addon-partner-web.service").read_text().replace("ExecStart=/srv/", "ExecStart=srv/")
    result = analyze(verify_root(tmp_path, {"addon-partner-web.service": broken}), ["addon-partner-web.service"])
    assert "Neither a valid executable name nor an absolute path" in result.stdout + result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_services_run_unprivileged_and_hardened(name: str) -> None:
    service = unit(name)["Service"]
    assert service["User"] == service["Group"] == "addon-partner"
    assert service["EnvironmentFile"] == "/srv/addon-partner/shared/env"
    assert service["WorkingDirectory"] == "/srv/addon-partner/current"
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option
    assert service["ReadWritePaths"] == "/srv/addon-partner/shared/var"
    assert unit(name)["Install"]["WantedBy"] == "addon-partner.target"


def test_worker_stops_gracefully_and_web_notifies() -> None:
    worker = unit("addon-partner-worker.service")["Service"]
    # acks_late work gets minutes to finish on SIGTERM (warm shutdown) before anything is killed
    assert int(worker["TimeoutStopSec"]) >= 300 and worker["KillMode"] == "mixed"
    web = unit("addon-partner-web.service")["Service"]
    assert web["Type"] == "notify" and "gunicorn -c deploy/gunicorn.conf.py" in web["ExecStart"]


def test_relay_follows_the_outbox_and_starts_with_the_rest() -> None:
    """The outbox relay runs as its own service in follow mode (LISTEN/NOTIFY, events/follower.py),
    is part of the target and of every deploy's restarts, and gets time to end its pass on SIGTERM."""
    relay = unit("addon-partner-relay.service")["Service"]
    assert relay["ExecStart"].endswith("/.venv/bin/python manage.py relay_outbox --follow --interval 5")
    assert relay["KillMode"] == "mixed" and int(relay["TimeoutStopSec"]) >= 30
    assert "addon-partner-relay.service" in unit("addon-partner.target")["Unit"]["Wants"].split()
    remote = (ROOT / "deploy" / "remote.sh").read_text()
    assert 'BACKGROUND="addon-partner-worker.service addon-partner-beat.service addon-partner-relay.service"' in remote
