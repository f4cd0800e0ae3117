"""Where the accept path spends its time: py-spy samples one gunicorn worker while P1's load runs,
and the samples inside a request are summed per function (inclusive: a function and what it
calls). docs/performance.md quotes its output before and after the work of issue 14.

    DJANGO_ENV=test DATABASE_URL=… .venv/bin/python -m bench.profile_accept [seconds]
"""

from __future__ import annotations

import collections
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import bench_partner, cash_in_factory, gateway, setup
from bench.loadgen import closed_loop

ROOT = str(Path(__file__).resolve().parent.parent) + "/"
SAMPLES_PER_SECOND = 200
SHOWN = 40


def summarise(raw: Path, shown: int = SHOWN) -> list[tuple[float, str]]:
    """(percent of request samples, function) for the ``shown`` heaviest functions, inclusive."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("WSGIHandler.__call__" in frame for frame in frames):
            continue  # the worker's idle threads and its main loop
        total += int(count)
        seen = set()
        for frame in frames:
            name, _, where = frame.partition(" (")
            module = where.split(":")[0].split("site-packages/")[-1].removeprefix(ROOT)
            key = f"{name} ({module})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += int(count)
    return [(100 * n / total, key) for key, n in inclusive.most_common(shown)]


def main(seconds: int) -> None:
    setup()
    out = Path(tempfile.mkdtemp()) / "accept.raw"
    with gateway() as (base, process):
        who = bench_partner("Profile")
        closed_loop(base, cash_in_factory(base, who, "warm"), connections=8, seconds=3)
        worker = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0]
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking", "-r", str(SAMPLES_PER_SECOND),
             "-f", "raw", "-o", str(out), "-d", str(seconds), "-p", worker],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1)
        load = threading.Thread(
            target=closed_loop, args=(base, cash_in_factory(base, who, "profile")), kwargs={"connections": 8,
                                                                                        "seconds": seconds - 1}
        )  # fmt: skip
        load.start()
        load.join()
        spy.wait(timeout=seconds + 60)
    for percent, function in summarise(out):
        print(f"{percent:5.1f}%  {function}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
