"""The command line as a newcomer meets it, following the README (issue 15, part 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli.common import pad, width
from monitor.cli.main import main as cli_main
from tests.e2e import small_city
from tests.test_cli import wifimon
from tests.test_sites_import import H2016, render, row


def clean_env(monkeypatch: pytest.MonkeyPatch, cwd: Path) -> None:
    monkeypatch.delenv("WIFIMON_CONFIG", raising=False)
    monkeypatch.chdir(cwd)


def test_import_into_the_default_location_says_later_commands_read_it(tmp_path, monkeypatch, capsys):
    demo = tmp_path / "config" / "demo" / "wifimon.yaml"
    demo.parent.mkdir(parents=True)
    small_city(demo.parent).rename(demo)
    csv = tmp_path / "wifi.csv"
    csv.write_text(render(H2016, [row("군산시청"), row("은파호수공원")]), encoding="utf-8")
    clean_env(monkeypatch, tmp_path)

    assert cli_main(["import-sites", str(csv), "--into", "config/wifimon.yaml"]) == 0
    err = capsys.readouterr().err
    assert "created config/wifimon.yaml" in err and "instead of config/demo/wifimon.yaml" in err, err
    assert "$WIFIMON_CONFIG" in err

    # Importing again into the same file changes nothing about which config is read: no note.
    assert cli_main(["import-sites", str(csv), "--into", "config/wifimon.yaml"]) == 0
    assert "NOTE" not in capsys.readouterr().err

    # The imported config has no credentials 'default': the failure says which default file was read.
    assert cli_main(["alerts"]) == 1
    err = capsys.readouterr().err
    assert "no credentials named 'default'" in err
    assert "(no config named: read config/wifimon.yaml, the default;" in err, err


def test_import_elsewhere_says_nothing_about_the_default(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "wifi.csv"
    csv.write_text(render(H2016, [row("군산시청")]), encoding="utf-8")
    clean_env(monkeypatch, tmp_path)
    assert cli_main(["import-sites", str(csv), "--into", "sites.yaml"]) == 0
    assert "NOTE" not in capsys.readouterr().err


def test_a_named_config_failing_gets_no_default_note(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites:\n  - id: x\n    bogus_key: 1\n")
    for argv in (["alerts", "--config", str(bad)], ["maintenance", "list", "--config", str(bad)],
                 ["status", str(bad)], ["report", str(bad)]):
        assert cli_main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "bogus_key" in err and "no config named" not in err, (argv, err)


def test_every_command_failing_on_a_default_config_names_it(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites:\n  - id: x\n    bogus_key: 1\n")
    monkeypatch.setenv("WIFIMON_CONFIG", str(bad))
    for argv in (["alerts"], ["ack", "x"], ["maintenance", "list"], ["status"], ["report"], ["check-config"],
                 ["export", "open-data"]):
        assert cli_main(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"(no config named: read {bad}, $WIFIMON_CONFIG;" in err, (argv, err)


def test_display_width_counts_hangul_twice():
    assert width("공설시장") == 8 and width("market") == 6
    assert width(pad("공설시장", 12)) == 12 and pad("7", 3, right=True) == "  7"


def test_maintenance_list_aligns_korean_names(tmp_path, capsys):
    config = small_city(tmp_path)
    for site in ("market", "park"):
        assert cli_main(["maintenance", "add", "--site", site, "--start", "now", "--duration", "2h",
                         "--comment", "점검", "--by", "김", "--config", str(config)]) == 0
    capsys.readouterr()
    assert cli_main(["maintenance", "list", "--config", str(config)]) == 0
    out = capsys.readouterr()
    lines = [line for line in out.out.splitlines() if line.strip()][:3]
    header, *rows = lines
    # The NEXT column starts at the same display column on every line, Korean names or not.
    starts = [width(line[:line.index(marker)]) for line, marker in zip(lines, ("NEXT", "now", "now"), strict=True)]
    assert len(set(starts)) == 1, out.out
    assert any("공설시장" in r for r in rows) and any("은파호수공원" in r for r in rows), out.out
    by = [width(line[:line.index(marker)]) for line, marker in zip(lines, ("BY", "김", "김"), strict=True)]
    assert len(set(by)) == 1, out.out


def test_report_help_is_plain_text_and_report_takes_the_config_as_an_argument(tmp_path, capsys):
    for argv in (["report", "--help"], ["export", "open-data", "--help"], ["identify", "--help"]):
        with pytest.raises(SystemExit):
            cli_main(argv)
        out = capsys.readouterr().out
        assert "``" not in out and "usage:" in out, (argv, out)
    config = small_city(tmp_path)
    out_dir = tmp_path / "reports"
    assert cli_main(["report", str(config), "--month", "2026-10", "--format", "csv", "--out", str(out_dir)]) == 0
    assert list(out_dir.glob("*.csv")), capsys.readouterr()


def test_store_commands_print_no_alembic_lines_on_a_fresh_store(tmp_path):
    config = small_city(tmp_path)
    first = wifimon("alerts", "--config", str(config))  # a fresh SQLite store: every migration runs here
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "wifimon.db").exists()
    assert "alembic" not in first.stderr.lower() and "Running upgrade" not in first.stderr, first.stderr
    assert "event=store_migrated" in first.stderr and "from=- revision=" in first.stderr, first.stderr
    for argv in (("ack", "market", "--config", str(config)), ("maintenance", "list", "--config", str(config)),
                 ("report", str(config), "--month", "2026-10", "--format", "csv", "--out", str(tmp_path / "r"))):
        out = wifimon(*argv)
        assert "alembic" not in out.stderr.lower() and "store_migrated" not in out.stderr, (argv, out.stderr)
