"""Planned maintenance from the command line and the config: `wifimon maintenance add|list|remove` on a real
SQLite store, config windows validated with located errors, and end to end with the simulator and
`wifimon run`: a site (or one AP) in a window that goes dark opens no outage, and leaves maintenance into
the right state."""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.cli.maintenance import register
from monitor.config.load import ConfigError, parse_config
from monitor.domain.maintenance_windows import MaintenanceBook, config_windows, next_occurrence
from monitor.store import Store
from tests.e2e import small_city

SEOUL = ZoneInfo("Asia/Seoul")


def wifimon(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `wifimon maintenance …` through the real argument parser; (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="wifimon")
    register(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
        code = args.func(args)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return small_city(tmp_path)


def ids_listed(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:] if line and not line.startswith("(")]


# -- the command line on a real SQLite store -----------------------------------------------------------


def test_add_list_remove_round_trip_with_every_scope(city, capsys):
    cfg = ["--config", str(city)]
    adds = [
        ["--site", "market", "--start", "2030-05-01 02:00", "--duration", "2h", "--repeat", "weekly",
         "--comment", "AP 교체", "--by", "kim"],
        ["--ap", "market-ap1", "--start", "now", "--duration", "45m"],
        ["--category", "park", "--start", "2030-05-01T00:00+09:00", "--end", "2030-05-01T06:00+09:00"],
        ["--district", "월명동", "--start", "2030-06-01 00:00", "--duration", "1h30m", "--repeat", "monthly"],
        ["--ap", "ferry-lte", "--start", "2030-01-01 00:00", "--duration", "1d"],  # an uplink device
        ["--all", "--start", "2030-01-02 03:00", "--duration", "30m", "--repeat", "daily"],
    ]
    for n, extra in enumerate(adds, start=1):
        code, out, err = wifimon(["maintenance", "add", *extra, *cfg], capsys)
        assert code == 0, err
        assert out.startswith(f"maintenance window {n} added: ")
    store = Store(f"sqlite:///{city.parent}/wifimon.db")
    windows = {w.id: w for w in store.list_maintenance()}
    assert [(w.scope_kind, w.scope_value, w.recurrence) for w in windows.values()] == [
        ("ap", "market-ap1", None), ("ap", "ferry-lte", None), ("all", None, "daily"), ("category", "park", None),
        ("site", "market", "weekly"), ("district", "월명동", "monthly")]
    market = windows[1]
    # Local time in the config's time zone (Asia/Seoul), two hours long, with who and why.
    assert market.starts_at == datetime(2030, 5, 1, 2, 0, tzinfo=SEOUL).timestamp()
    assert market.ends_at - market.starts_at == 7200
    assert (market.timezone, market.created_by, market.comment) == ("Asia/Seoul", "kim", "AP 교체")
    assert windows[2].ends_at - windows[2].starts_at == 45 * 60 and abs(windows[2].starts_at - time.time()) < 5
    assert windows[3].ends_at - windows[3].starts_at == 6 * 3600

    code, out, _ = wifimon(["maintenance", "list", *cfg], capsys)
    assert code == 0
    assert sorted(ids_listed(out)) == ["1", "2", "3", "4", "5", "6"]
    assert re.search(r"^1 +site market \(공설시장\) +2030-05-01 02:00–04:00 KST +weekly +kim +AP 교체$", out, re.M), out
    assert re.search(r"^2 +ap market-ap1 +now, until \d{4}-\d\d-\d\d \d\d:\d\d KST +- ", out, re.M), out

    # Window 2 began at 'now': removing it ends it (the premise used to be that it is deleted), and keeps
    # what it covered; a window not begun yet is deleted.
    code, out, _ = wifimon(["maintenance", "remove", "2", *cfg], capsys)
    assert code == 0 and "maintenance window 2 ended at " in out and "stays in the reports" in out
    assert sorted(w.id for w in store.list_maintenance(since=time.time())) == [1, 3, 4, 5, 6]
    retired = store.get_maintenance(2)
    assert retired is not None and retired.retired_at is not None and retired.starts_at < retired.retired_at
    code, out, err = wifimon(["maintenance", "remove", "2", *cfg], capsys)
    assert code == 1 and "no maintenance window with id 2" in err and "it was removed at" in err
    code, out, _ = wifimon(["maintenance", "list", "--all", *cfg], capsys)
    assert re.search(r"^2 +ap market-ap1 +removed \d{4}-\d\d-\d\d \d\d:\d\d KST ", out, re.M), out
    code, out, _ = wifimon(["maintenance", "remove", "1", *cfg], capsys)
    assert code == 0 and "maintenance window 1 removed (it had not begun)" in out
    assert store.get_maintenance(1) is None


def test_list_shows_config_windows_and_hides_ended_ones_unless_asked(tmp_path, capsys):
    config = small_city(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + """\
maintenance:
  - {site: park, start: "2030-03-01 01:00", duration: 3h, comment: 정기 점검}
""", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    store.migrate()
    from monitor.store import MaintenanceWindow

    now = time.time()
    store.add_maintenance(MaintenanceWindow("site", "stop", now - 7200, now - 3600, "Asia/Seoul", "lee"), now)
    code, out, _ = wifimon(["maintenance", "list", "--config", str(config)], capsys)
    assert code == 0 and ids_listed(out) == ["config[0]"]
    assert re.search(r"^config\[0\] +site park \(은파호수공원\) +2030-03-01 01:00–04:00 KST +- +config +정기 점검$", out, re.M)
    code, out, _ = wifimon(["maintenance", "list", "--all", "--config", str(config)], capsys)
    assert ids_listed(out) == ["1", "config[0]"] and "ended " in out


@pytest.mark.parametrize("argv, code, message", [
    (["--site", "nowhere", "--start", "now", "--duration", "1h"], 1, "--site 'nowhere': no such site in "),
    (["--ap", "market-ap9", "--start", "now", "--duration", "1h"], 1, "--ap 'market-ap9': no such AP or uplink"),
    (["--district", "나운동", "--start", "now", "--duration", "1h"], 1, "--district '나운동': no site of "),
    (["--category", "harbour", "--start", "now", "--duration", "1h"], 2, "argument --category: invalid choice: 'harbour'"),
    (["--site", "market", "--start", "tomorrow", "--duration", "1h"], 2, "argument --start: 'tomorrow' is not a time"),
    (["--site", "market", "--start", "now", "--duration", "2x"], 2, "argument --duration: '2x' is not a duration"),
    (["--site", "market", "--start", "now", "--duration", "0m"], 2, "argument --duration: a duration must be longer"),
    (["--site", "market", "--start", "now"], 2, "one of the arguments --duration --end is required"),
    (["--start", "now", "--duration", "1h"], 2, "one of the arguments --site --ap --category --district --all is required"),
    (["--site", "market", "--all", "--start", "now", "--duration", "1h"], 2, "argument --all: not allowed with argument --site"),
    (["--site", "market", "--start", "2030-01-02 00:00", "--end", "2030-01-01 00:00"], 1, "--end must be after --start"),
    (["--site", "market", "--start", "now", "--end", "2030-01-01 00:00", "--repeat", "weekly"], 1,
     "a repeating window takes --duration, not --end"),
    (["--site", "market", "--start", "now", "--duration", "25h", "--repeat", "daily"], 1,
     "a daily window must be shorter than 1 day"),
    (["--site", "market", "--start", "2020-01-01 00:00", "--duration", "1h"], 1, "the window ended in the past"),
])
def test_bad_input_is_refused_naming_the_argument(city, capsys, argv, code, message):
    got, out, err = wifimon(["maintenance", "add", *argv, "--config", str(city)], capsys)
    assert (got, out) == (code, "")
    assert message in err, err
    assert not (city.parent / "wifimon.db").exists()  # refused before anything was written


def test_a_broken_config_is_reported_with_its_location(tmp_path, capsys):
    config = small_city(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace("  probe_interval: 2\n", "  probe_interval: -2\n"),
                      encoding="utf-8")
    code, _, err = wifimon(["maintenance", "list", "--config", str(config)], capsys)
    assert code == 1 and re.search(r"wifimon\.yaml:\d+: service\.probe_interval: ", err), err


# -- config windows ----------------------------------------------------------------------------------------


def test_config_windows_become_windows_in_the_service_time_zone(tmp_path):
    config = small_city(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + """\
maintenance:
  - {site: market, start: "2030-11-26 02:00", duration: 2h, repeat: weekly, comment: AP 교체}
  - {ap: park-ap1, start: 2030-11-26T02:00:00+00:00, end: 2030-11-26T03:30:00+00:00}
  - {district: 월명동, start: 2030-12-01 00:00:00, duration: 90m}
  - {all: true, start: "2030-12-31 23:00", duration: 1d}
""", encoding="utf-8")
    windows = config_windows(parse_config(config))
    assert [(w.scope_kind, w.scope_value, w.recurrence, w.created_by) for w in windows] == [
        ("site", "market", "weekly", "config"), ("ap", "park-ap1", None, "config"),
        ("district", "월명동", None, "config"), ("all", None, None, "config")]
    assert windows[0].starts_at == datetime(2030, 11, 26, 2, 0, tzinfo=SEOUL).timestamp()
    assert windows[1].starts_at == datetime(2030, 11, 26, 11, 0, tzinfo=SEOUL).timestamp()  # 02:00 UTC
    assert windows[1].ends_at - windows[1].starts_at == 5400
    assert windows[2].ends_at - windows[2].starts_at == 5400
    # The weekly window's next occurrence after a Thursday is the following Thursday, same local time.
    after = datetime(2030, 11, 28, 12, 0, tzinfo=SEOUL).timestamp()
    start, end = next_occurrence(windows[0], after)  # type: ignore[misc]
    assert datetime.fromtimestamp(start, SEOUL) == datetime(2030, 12, 3, 2, 0, tzinfo=SEOUL)
    assert end - start == 7200


def test_config_window_errors_are_all_located(tmp_path):
    config = small_city(tmp_path)
    text = config.read_text(encoding="utf-8") + """\
maintenance:
  - {site: market, category: park, start: "2030-01-01 00:00", duration: 1h}
  - {site: market, start: "2030-01-01 00:00"}
  - {site: market, start: "2030-01-01 00:00", duration: 2x}
  - {site: nowhere, start: "2030-01-01 00:00", duration: 1h}
  - {district: 나운동, start: "2030-01-01 00:00", duration: 1h}
  - {ap: market-ap7, start: "2030-01-01 00:00", duration: 1h}
  - {site: market, start: "2030-01-01 00:00", duration: 30h, repeat: daily}
  - {site: market, start: "2030-01-02 00:00", end: "2030-01-01 00:00"}
  - {site: market, start: "2030-01-01 00:00", end: 2030-01-02T00:00:00+09:00}
  - {category: harbour, start: "2030-01-01 00:00", duration: 1h}
  - {site: market, start: "next tuesday", duration: 1h, colour: red}
"""
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        parse_config(config)
    entry_lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith("  - {")]
    problems = caught.value.problems

    def problem(index: int, key: str, message: str) -> None:
        pattern = rf"wifimon\.yaml:{entry_lines[index]}: maintenance\[{index}\]{re.escape(key)}: .*{re.escape(message)}"
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)

    problem(0, "", "give exactly one scope: ap, site, category, district or all: true (got site, category)")
    problem(1, "", "give exactly one of 'end' or 'duration'")
    problem(2, ".duration", "'2x' is not a duration")
    problem(3, ".site", "no site 'nowhere'")
    problem(4, ".district", "no site has district '나운동'")
    problem(5, ".ap", "no AP or uplink device 'market-ap7'")
    problem(6, "", "a daily window must be shorter than 1 day")
    problem(7, "", "'end' must be after 'start'")
    problem(8, "", "give 'start' and 'end' both with a UTC offset or both without")
    problem(9, ".category", "Input should be")
    problem(10, ".start", "Input should be a valid datetime")
    problem(10, ".colour", "unknown key 'colour'")
    assert len(problems) == 12, problems


def test_the_book_separates_site_and_ap_windows(tmp_path):
    cfg = parse_config(small_city(tmp_path))
    sites = {s.id: s for s in cfg.sites}
    from monitor.store import MaintenanceWindow

    now = time.time()
    book = MaintenanceBook([MaintenanceWindow("site", "park", now - 60, now + 60, "Asia/Seoul", "config")])
    assert book.site(sites["park"], now) and not book.site(sites["market"], now)
    assert not book.device(sites["market"], "market-ap1", now)
    assert book.update([MaintenanceWindow("ap", "market-ap1", now - 60, now + 60, "Asia/Seoul", "kim")])
    assert not book.update([MaintenanceWindow("ap", "market-ap1", now - 60, now + 60, "Asia/Seoul", "kim")])
    assert book.device(sites["market"], "market-ap1", now) and not book.device(sites["market"], "market-ap2", now)
    assert not book.site(sites["market"], now)  # one AP in maintenance is not the site
    assert not book.device(sites["market"], "market-ap1", now + 120)
    assert book.update([]) and not book.device(sites["market"], "market-ap1", now)
    assert book.site(sites["park"], now)  # the config's window stays


def test_wifimon_cli_has_the_maintenance_command():
    from monitor.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    if "maintenance" not in sub.choices:
        pytest.skip("monitor/cli/main.py does not register monitor.cli.maintenance yet (the lead wires it)")
    assert "add" in sub.choices["maintenance"].format_help()


# -- end to end: the simulator and `wifimon run` ------------------------------------------------------------


@pytest.mark.e2e
def test_site_and_ap_in_maintenance_open_no_outage_and_leave_into_the_right_state(tmp_path, capsys):
    from monitor.cli.simulate import send_fault
    from tests.e2e import Monitor, sample, simulator, wait_until

    config = small_city(tmp_path)  # probes every 2 s, re-checks 1 s apart, 3 failures confirm
    # A window in the config file, in force from the start: the bus stop is never probed as active.
    began = datetime.fromtimestamp(time.time() - 3600, SEOUL).isoformat(timespec="seconds")
    config.write_text(config.read_text(encoding="utf-8")
                      + f"maintenance:\n  - {{site: stop, start: '{began}', duration: 1d, comment: 정류장 공사}}\n",
                      encoding="utf-8")
    cfg = ["--config", str(config)]
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")

    def state(kind: str, **labels: str) -> float | None:
        return sample(mon.metrics(), f"wifi_{kind}_state", **labels)

    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            wait_until("market and park up", lambda: state("site", site="market", state="up") == 1.0
                       and state("site", site="park", state="up") == 1.0, 30)
            assert state("site", site="stop", state="maintenance") == 1.0
            assert sample(mon.metrics(), "wifi_ap_probes_total", ap="stop-ap1") == 0.0

            # One AP in a window: just that AP is in maintenance; the site stays up on its other AP.
            code, out, err = wifimon(["maintenance", "add", "--ap", "market-ap1", "--start", "now",
                                      "--duration", "10m", *cfg], capsys)
            assert code == 0, err
            ap_window = int(re.search(r"window (\d+) added", out).group(1))  # type: ignore[union-attr]
            t0 = time.monotonic()
            wait_until("market-ap1 in maintenance", lambda: state("ap", ap="market-ap1", state="maintenance") == 1.0, 20)
            assert time.monotonic() - t0 < 8  # picked up without a restart, within a refresh (2 s here)
            assert state("site", site="market", state="up") == 1.0
            assert state("ap", ap="market-ap2", state="up") == 1.0
            code, _, err = wifimon(["maintenance", "remove", str(ap_window), *cfg], capsys)
            assert code == 0, err
            wait_until("market-ap1 back up", lambda: state("ap", ap="market-ap1", state="up") == 1.0, 20)

            # The whole site in a 20 s window, then it goes dark together with the park (not in a window).
            code, out, err = wifimon(["maintenance", "add", "--site", "market", "--start", "now",
                                      "--duration", "20s", "--comment", "AP 교체", *cfg], capsys)
            assert code == 0, err
            window = store.list_maintenance()[-1]
            wait_until("market in maintenance", lambda: state("site", site="market", state="maintenance") == 1.0, 20)
            send_fault("market=down", control=control)
            send_fault("park=down", control=control)
            wait_until("park confirmed down", lambda: sample(mon.metrics(), "wifi_site_up", site="park") == 0.0, 20)
            assert time.time() < window.ends_at, "the window ended before the comparison could be made"
            m = mon.metrics()
            assert sample(m, "wifi_site_state", site="market", state="maintenance") == 1.0
            assert sample(m, "wifi_site_state", site="market", state="down") == 0.0
            wait_until("park's outage in the store", lambda: any(
                o.entity == "park" for o in store.open_outages()), 10)
            assert [o for o in store.outages(0, time.time() + 60) if o.site == "market"] == []

            # The window ends with the market still dark: it leaves maintenance into down, and the outage
            # starts after the window, not during it.
            wait_until("market down after its window", lambda: state("site", site="market", state="down") == 1.0, 40)
            assert time.time() >= window.ends_at
            outages = wait_until("market's outage in the store", lambda: [
                o for o in store.open_outages() if o.scope == "site" and o.entity == "market"], 10)
            assert outages[0].started_at >= window.ends_at - 0.5  # probe timestamps vs. window bounds
        finally:
            mon.stop()


def test_one_duration_syntax_for_the_config_and_every_option(city, capsys):
    """`1h30m` and `1.5h` mean the same in the config, `maintenance add --duration`, `ack --until`
    and `alerts --since` (they used to refuse each other's)."""
    from monitor.alerting.ack import parse_until
    from monitor.cli.main import build_parser

    text = city.read_text(encoding="utf-8").replace("probe_interval: 2", "probe_interval: 2s")
    city.write_text(text + "maintenance:\n  - {site: park, start: \"2030-03-01 01:00\", duration: 1.5h}\n"
                    "  - {site: stop, start: \"2030-03-01 01:00\", duration: 1h30m}\n", encoding="utf-8")
    config = parse_config(city)
    assert [m.duration for m in config.maintenance] == [5400, 5400] and config.service.probe_interval == 2
    for duration in ("1.5h", "1h30m", "90m", "5400"):
        code, out, err = wifimon(["maintenance", "add", "--site", "market", "--start", "2030-05-01 02:00",
                                  "--duration", duration, "--config", str(city)], capsys)
        assert code == 0, err
    store = Store(f"sqlite:///{city.parent}/wifimon.db")
    assert {w.ends_at - w.starts_at for w in store.list_maintenance()} == {5400}
    now = time.time()
    assert parse_until("1.5h", now, SEOUL) == parse_until("1h30m", now, SEOUL) == now + 5400
    for since in ("1.5h", "1h30m"):
        assert build_parser().parse_args(["alerts", "--since", since]).since == 5400
