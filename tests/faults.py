"""Real store faults for the chaos tests and bench/chaos.py: a PostgreSQL cluster of the test's own (on a
port of its own, stoppable without touching the shared server at 5432) and a small tmpfs that can be filled
until the kernel answers ENOSPC.

Both need what a sandbox may not allow (PostgreSQL's server binaries; ``mount``, i.e. root): the callers
skip with :func:`postgres_cluster_unavailable` / :func:`tmpfs_unavailable` as the reason."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e import wait_until
from tests.ports import free_port

PG_BIN = Path(os.environ.get("WIFIMON_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL's server refuses to run as root: as root, run it as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgres_cluster_unavailable() -> str | None:
    """None if a cluster of our own can be made here, else why not."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL server binaries in {PG_BIN} (set WIFIMON_PG_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser (PostgreSQL will not run as root)"
    return None


@dataclass
class Cluster:
    """A PostgreSQL cluster in a scratch folder, on 127.0.0.1:``port``; :meth:`stop` and :meth:`start` it."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]),
                       check=True, capture_output=True, timeout=90)

    def start(self) -> None:
        self._ctl("-l", str(self.data.parent / "postgres.log"),
                  "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        """A fast shutdown: the clients' connections are cut, as when the server is stopped for maintenance."""
        self._ctl("-m", "fast", "stop")


@contextmanager
def own_postgres() -> Iterator[Cluster]:
    """A fresh cluster (initdb, trust auth for user postgres), started; stopped and deleted afterwards."""
    top = Path(tempfile.mkdtemp(prefix="wifimon-pg-"))
    if os.geteuid() == 0:
        shutil.chown(top, "postgres")
    cluster = Cluster(top / "data", free_port())
    try:
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U",
                                     "postgres", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        cluster.start()
        try:
            yield cluster
        finally:
            if (cluster.data / "postmaster.pid").exists():
                cluster.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def tmpfs_unavailable() -> str | None:
    """None if this process may mount a tmpfs, else why not."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    with small_tmpfs(1) as probe:
        return None if probe is not None else "mount -t tmpfs failed here (no CAP_SYS_ADMIN in this sandbox?)"


@contextmanager
def small_tmpfs(megabytes: int) -> Iterator[Path | None]:
    """A tmpfs of ``megabytes`` MiB on a scratch folder (None if it cannot be mounted); unmounted afterwards."""
    where = Path(tempfile.mkdtemp(prefix="wifimon-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "tmpfs", str(where)],
                             capture_output=True).returncode == 0
    try:
        yield where if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], check=True)
        where.rmdir()


def fill(where: Path) -> Path:
    """Write a file in ``where`` until the file system refuses (ENOSPC); returns it (delete it to free the space)."""
    filler = where / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as fh:
        while chunk:
            try:
                fh.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                chunk = chunk[: len(chunk) // 2] if len(chunk) > 512 else b""
    return filler


def fill_beside(db: Path) -> Path:
    """Checkpoint the SQLite database ``db`` (its WAL emptied, as SQLite does every 1,000 pages: else its
    writes go on for a long while into the WAL's slack), then :func:`fill` its folder."""
    with sqlite3.connect(db, timeout=30) as conn:
        wait_until("the WAL emptied", lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0, 30)
    return fill(db.parent)
