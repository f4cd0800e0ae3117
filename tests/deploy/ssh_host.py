"""A throwaway application host for the deploy tests: a real OpenSSH server on 127.0.0.1 (its own
configuration and host key, key-only login of a non-root user) and a stand-in ``systemctl`` on
that user's PATH which starts and stops, for real, the commands of deploy/systemd's units in the
release that ``current`` points to (pid files instead of cgroups)."""

from __future__ import annotations

import configparser
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.processes import ROOT, free_port

DEPLOY_USER = "apdeploy"
UNITS = (
    "addon-partner-web.service",
    "addon-partner-worker.service",
    "addon-partner-beat.service",
    "addon-partner-relay.service",
)


@dataclass(frozen=True)
class Host:
    """Where a test reaches the host and what it finds there."""

    user: str
    port: int
    identity: Path
    known_hosts: Path
    root: Path  # the deployment root (/srv/addon-partner on a real host)
    run: Path  # pid files and service logs of the stand-in systemctl

    def ssh_args(self) -> list[str]:
        return [
            "--host",
            f"{self.user}@127.0.0.1",
            "--port",
            str(self.port),
            "--identity",
            str(self.identity),
            "--ssh-option",
            f"UserKnownHostsFile={self.known_hosts}",
            "--root",
            str(self.root),
        ]


def ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(DEPLOY_USER)
    except KeyError:
        if os.geteuid() != 0:
            raise RuntimeError(f"user {DEPLOY_USER} is missing and only root can create it") from None
        # "*": no password can log in, yet the account is not locked (sshd refuses locked ones)
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--password", "*", DEPLOY_USER], check=True)
        return pwd.getpwnam(DEPLOY_USER)


def unit_commands(name: str, root: Path, run: Path) -> tuple[list[str], list[str], str]:
    """(Environment= assignments, ExecStartPre commands, ExecStart) of a unit, moved under ``root``."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / "systemd" / name)
    service = parser["Service"]

    def moved(text: str) -> str:
        return text.replace("/srv/addon-partner", str(root)).replace("/run/addon-partner", str(run))

    environment = moved(service.get("Environment", "")).split()
    pre = [moved(service["ExecStartPre"])] if "ExecStartPre" in service else []
    return environment, pre, moved(service["ExecStart"])


def stand_in_systemctl(root: Path, run: Path) -> str:
    cases = []
    for name in UNITS:
        environment, pre, start = unit_commands(name, root, run)
        exports = " ".join(f"export {shlex.quote(assignment)};" for assignment in environment)
        cases.append(f"    {name}) prepare={shlex.quote(exports + ' '.join(pre))}; command={shlex.quote(start)} ;;")
    return f"""#!/usr/bin/env bash
# Stand-in for systemctl (tests only): runs the units' commands in {root}/current with pid files.
set -uo pipefail
RUN={shlex.quote(str(run))}
ROOT={shlex.quote(str(root))}
action=$1; shift
stop() {{
  local pidfile=$RUN/$1.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  rm -f "$pidfile"
}}
start() {{
  local prepare command
  case $1 in
{chr(10).join(cases)}
    *) echo "unknown unit $1" >&2; return 5 ;;
  esac
  mkdir -p "$RUN/metrics"
  (cd "$ROOT/current" && eval "$prepare" && set -a && . "$ROOT/shared/env" && set +a && eval "exec setsid $command") \\
    >>"$RUN/$1.log" 2>&1 </dev/null &
  echo $! >"$RUN/$1.pid"
}}
for unit in "$@"; do
  case $action in
    start) start "$unit" ;;
    stop) stop "$unit" ;;
    restart) stop "$unit"; start "$unit" ;;
    *) echo "unsupported: $action" >&2; exit 1 ;;
  esac
done
"""


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)


def chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    for item in [path, *path.rglob("*")]:
        os.lchown(item, account.pw_uid, account.pw_gid)


@contextmanager
def ssh_host(tmp: Path, env_file: str) -> Iterator[Host]:
    """Start sshd and prepare the deploy user's directory; stop everything afterwards."""
    account = ensure_user()
    base = Path(account.pw_dir) / f"ap-deploy-{uuid.uuid4().hex[:8]}"
    root, run, bin_dir = base / "srv", base / "run", base / "bin"
    for directory in (root / "shared", run, bin_dir):
        directory.mkdir(parents=True)
    (root / "shared" / "env").write_text(env_file)
    (bin_dir / "systemctl").write_text(stand_in_systemctl(root, run))
    (bin_dir / "systemctl").chmod(0o755)

    keygen(tmp / "host_key")
    keygen(tmp / "client_key")
    (base / "authorized_keys").write_text((tmp / "client_key.pub").read_text())
    (base / "authorized_keys").chmod(0o600)
    base.chmod(0o755)
    chown_tree(base, account)
    port = free_port()
    (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {(tmp / 'host_key.pub').read_text()}")
    (tmp / "sshd_config").write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {tmp / "host_key"}
PidFile {tmp / "sshd.pid"}
AuthorizedKeysFile {base / "authorized_keys"}
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {DEPLOY_USER}
UsePAM no
SetEnv PATH={bin_dir}:/usr/local/bin:/usr/bin:/bin
"""
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    log = (tmp / "sshd.log").open("wb")
    sshd = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, sshd, tmp / "sshd.log")
        yield Host(DEPLOY_USER, port, tmp / "client_key", tmp / "known_hosts", root, run)
    finally:
        stop_services(run)
        sshd.terminate()
        sshd.wait(timeout=10)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("sshd exited:\n" + log.read_text())
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError("sshd did not listen:\n" + log.read_text())


def stop_services(run: Path) -> None:
    for pidfile in run.glob("*.pid"):
        with suppress(ProcessLookupError, ValueError):
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
