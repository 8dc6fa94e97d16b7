"""The committed coverage table (collectors/profiles/COVERAGE.md) is what the harness produces now.

The harness (tests/vendor_coverage.py) serves every recording in shared/snmprec with snmpsim, runs it
through the real poller with ``profile: auto`` and compares what it read with LibreNMS's expectations.
A profile change that reads more or less than the table says fails here until the table is regenerated
(``.venv/bin/python -m tests.vendor_coverage --write``) and committed with it.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from tests import vendor_coverage as vc

if not vc.recordings():
    pytest.skip("recordings not found: need ../shared/snmprec next to the repo or $WIFIMON_SHARED/snmprec",
                allow_module_level=True)


@pytest.fixture(scope="module")
def observed() -> dict[str, vc.Observed]:
    return vc.run()


def test_the_committed_table_is_what_the_harness_produces(observed):
    produced = vc.render(observed)
    committed = vc.COVERAGE_MD.read_text(encoding="utf-8") if vc.COVERAGE_MD.exists() else ""
    diff = "".join(difflib.unified_diff(committed.splitlines(True), produced.splitlines(True),
                                        "COVERAGE.md (committed)", "COVERAGE.md (produced)"))
    assert not diff, f"regenerate with `.venv/bin/python -m tests.vendor_coverage --write`:\n{diff}"


def test_every_recording_is_up_through_the_poller(observed):
    assert set(observed) == set(vc.recordings())
    assert all(o.status.value == "up" for o in observed.values()), {n: o.status for n, o in observed.items()}


def test_every_sensor_not_matched_has_a_reason_that_still_holds(observed):
    checks = [vc.check_sensor(name, s, o.counts) for name, o in observed.items()
              for s in vc.librenms_client_sensors(name)]
    unexplained = [c for c in checks if not c.matched and not c.reason]
    assert not unexplained, unexplained
    stale = [key for key in vc.NOT_MATCHED if any(c.matched for c in checks if (c.recording, c.descr) == key)]
    assert not stale, f"matched after all, drop their reasons: {stale}"
    assert set(vc.NOT_MATCHED) <= {(c.recording, c.descr) for c in checks}, "a reason for a sensor that does not exist"


def test_device_totals_equal_librenms_or_say_why(observed):
    for name, o in observed.items():
        theirs = vc.librenms_total(vc.librenms_client_sensors(name))
        ours = o.total[0] if o.total else None
        assert (ours == theirs) != (name in vc.TOTAL_DIFFERS), (name, ours, theirs)


def test_librenms_totals_are_read_from_its_sensors():
    """The oracle's own total: its total sensor, one sensor summing the others, or an exact cover."""
    def sensor(descr, value, oids, index="1"):
        return {"sensor_descr": descr, "sensor_current": value, "sensor_index": index,
                "sensor_oids": "[" + ",".join(f'".{o}"' for o in oids) + "]"}

    by_ssid_and_radio = [sensor("SSID a", 18, ["1.1", "1.3"]), sensor("na", 14, ["1.3", "1.4"]),
                         sensor("ng", 4, ["1.1", "1.2"]), sensor("SSID b", 0, ["1.2", "1.4"])]
    assert vc.librenms_total(by_ssid_and_radio) == 18
    assert vc.librenms_total([sensor("2.4", 1, ["2.1"]), sensor("5", 2, ["2.2"])]) == 3
    assert vc.librenms_total([sensor("wl0", 2, ["3.1"]), sensor("wl1", 1, ["3.2"]), sensor("wlan", 3, ["3.3"])]) == 3
    assert vc.librenms_total([sensor("SSID x", 1, [], "x"), sensor("Total Clients", 5, [], "total-clients")]) == 5
    assert vc.librenms_total([]) is None


def test_the_main_readme_states_the_coverage_the_table_measures(observed):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = vc.render(observed)
    matched, total = re.search(r"\*\*(\d+) of (\d+) LibreNMS client sensors matched\*\*", table).groups()
    picked = sum(o.profile != "generic" for o in observed.values())
    said = re.search(r"a vendor profile picked for (\d+) of (\d+) .*? matches (\d+) of LibreNMS's (\d+) client"
                     r" sensors", " ".join(readme.split()))
    assert said, "README.md: the coverage sentence is gone"
    assert said.groups() == (str(picked), str(len(observed)), matched, total)
