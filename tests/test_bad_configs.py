"""One validation path: every bad config in ``tests/bad_configs`` is refused by ``wifimon check-config`` and by
``wifimon run`` with the same located messages and exit code 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.profile import load_profiles

FIXTURES = Path(__file__).parent / "bad_configs"
CONFIGS = sorted(FIXTURES.glob("*.yaml"))


def expected(path: Path) -> list[str]:
    """The fixture's ``# expect:`` lines, as ``<file>:<line>: <key>: <message>``."""
    profiles = load_profiles()
    fill = {"dir": str(FIXTURES), "known": f"known: {', '.join(sorted(profiles))}, auto",
            "with_table": ", ".join(sorted(n for n, p in profiles.items() if p.controller is not None))}
    heads = [line for line in path.read_bytes().decode("latin-1").splitlines() if line.startswith("# expect: ")]
    return [f"{path}:" + head.encode("latin-1").decode().removeprefix("# expect: ").format(**fill) for head in heads]


def wifimon(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WIFIMON_BAD_UNSET"} | {"WIFIMON_BAD_SHORT": "short"}
    return subprocess.run([sys.executable, "-m", "monitor.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_check_config_and_run_refuse_it_alike(config: Path, tmp_path: Path) -> None:
    want = expected(config)
    assert want, f"{config.name} has no '# expect:' line"
    checked = wifimon("check-config", str(config), cwd=tmp_path)
    run = wifimon("run", str(config), cwd=tmp_path)
    for out in (checked, run):
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr and out.stdout == "", out.stderr
        assert out.stderr.splitlines() == [*want, f"{config}: {len(want)} problem(s)"], out.stderr
    assert list(tmp_path.iterdir()) == []  # run stopped before it made a database
