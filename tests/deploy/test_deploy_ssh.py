"""deploy/deploy.sh against a real OpenSSH server on 127.0.0.1 (tests/deploy/ssh_host.py).

One story, in order, because each step starts from what the previous one left on the host:
release 1 serves; release 2 serves with 1 kept; a broken release is rolled back by itself and 2
still serves; ``--rollback`` returns to 1; deploys go on and only 5 releases are kept.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tarfile
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from tests.deploy.ssh_host import Host, ssh_host
from tests.processes import ROOT, database_url, free_port

DEPLOY_TIMEOUT = 600  # seconds for one deploy.sh run (the first builds the virtualenv)


def host_env(port: int) -> str:
    values = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_LOG_KEY": secrets.token_urlsafe(48),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "WORKER_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
    }
    return "".join(f"{name}={value}\n" for name, value in values.items())


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = subprocess.run(["make", "-s", "dist"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    path = ROOT / result.stdout.strip().splitlines()[-1]
    with tarfile.open(path) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        release = tar.extractfile(f"{top}/RELEASE").read().decode()  # type: ignore[union-attr]
    assert f"{top}/requirements.lock" in names and f"{top}/manage.py" in names
    assert not any(name.startswith(f"{top}/tests/") for name in names)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert f"commit={head}\n" in release and "version=" in release
    return path


def variant(artifact: Path, out: Path, number: int, *, broken: bool = False) -> Path:
    """The artifact as if built from another commit; ``broken`` cannot boot (its WSGI app raises)."""
    stage = out / f"stage-{number}"
    with tarfile.open(artifact) as tar:
        tar.extractall(stage, filter="data")
    top = next(stage.iterdir())
    release = top / "RELEASE"
    commit = f"{number:02d}" * 20
    lines = [f"commit={commit}" if line.startswith("commit=") else line for line in release.read_text().splitlines()]
    release.write_text("\n".join(lines) + "\n")
    if broken:
        with (top / "config" / "wsgi.py").open("a") as wsgi:
            wsgi.write('\nraise RuntimeError("this release is broken on purpose")\n')
    path = out / f"release-{number}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(top, arcname=top.name)
    return path


def deploy(host: Host, *args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROOT / "deploy" / "deploy.sh"),
        *host.ssh_args(),
        "--health-url",
        f"http://127.0.0.1:{host_port(host)}/health/ready",
        "--systemctl",
        "systemctl",  # the stand-in on the deploy user's PATH
        "--python",
        "/usr/bin/python3",
        "--timeout",
        str(timeout),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=DEPLOY_TIMEOUT)


def host_port(host: Host) -> int:
    env = (host.root / "shared" / "env").read_text()
    return int(next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("PORT=")))


def served(host: Host) -> dict[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{host_port(host)}/health/ready", timeout=5) as response:
        return json.load(response)["release"]  # type: ignore[no-any-return]


def releases(host: Host) -> list[str]:
    return sorted(path.name for path in (host.root / "releases").iterdir() if not path.name.startswith("."))


def current(host: Host) -> str:
    return (host.root / "current").readlink().name


def commit_of(name: str) -> str:
    return name.split("-", 1)[1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_deploy_switches_rolls_back_and_keeps_five(artifact: Path, tmp_path: Path) -> None:
    with ssh_host(tmp_path, host_env(free_port())) as host:
        first = deploy(host, str(variant(artifact, tmp_path, 1)), timeout=90)
        assert first.returncode == 0, first.stdout + first.stderr
        log = first.stderr
        assert log.index("applying migrations") < log.index("current -> releases/") < log.index("restarting")
        assert served(host)["commit"] == "01" * 20
        (release_1,) = releases(host)
        assert served(host)["name"] == release_1 == current(host)

        second = deploy(host, str(variant(artifact, tmp_path, 2)))
        assert second.returncode == 0, second.stdout + second.stderr
        release_2 = current(host)
        assert "static files unchanged: linked from " + release_1 in second.stderr
        assert served(host)["name"] == release_2 and commit_of(release_2) == "02" * 6
        assert releases(host) == [release_1, release_2]

        broken = deploy(host, str(variant(artifact, tmp_path, 3, broken=True)), timeout=20)
        assert broken.returncode != 0
        assert "rolling back to " + release_2 in broken.stderr, broken.stderr
        assert served(host)["name"] == release_2 == current(host)
        assert releases(host) == [release_1, release_2]  # the failed release is gone

        back = deploy(host, "--rollback")
        assert back.returncode == 0, back.stdout + back.stderr
        assert served(host)["name"] == release_1 == current(host)

        for number in range(4, 8):
            more = deploy(host, str(variant(artifact, tmp_path, number)))
            assert more.returncode == 0, more.stdout + more.stderr
        kept = releases(host)
        assert len(kept) == 5 and release_1 not in kept and release_2 in kept
        assert served(host)["name"] == kept[-1] == current(host) and commit_of(kept[-1]) == "07" * 6
        # every release shares the one virtualenv its identical requirements.lock asked for
        assert len(list((host.root / "shared" / "venvs").iterdir())) == 1
