"""Maintenance windows: scopes, one-off and recurring occurrences in local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st

from monitor.config.model import AccessPoint, Site
from monitor.domain.availability import normalise as merge
from monitor.domain.maintenance import applies, covered, in_maintenance, occurrences
from monitor.store import MaintenanceWindow

SEOUL = ZoneInfo("Asia/Seoul")
SITE = Site(id="s1", name="공설시장", category="market", district="월명동",
            aps=(AccessPoint(id="s1-ap1", address="127.0.0.1", credentials="c"),))


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SEOUL).timestamp()


def window(**kw) -> MaintenanceWindow:
    base = dict(scope_kind="site", scope_value="s1", starts_at=ts(2026, 10, 1, 2), ends_at=ts(2026, 10, 1, 4),
                timezone="Asia/Seoul", created_by="test")
    base.update(kw)
    return MaintenanceWindow(**base)


def test_scopes():
    assert applies(window(), SITE)
    assert applies(window(scope_kind="category", scope_value="market"), SITE)
    assert applies(window(scope_kind="district", scope_value="월명동"), SITE)
    assert applies(window(scope_kind="all", scope_value=None), SITE)
    assert not applies(window(scope_kind="site", scope_value="other"), SITE)
    assert applies(window(scope_kind="ap", scope_value="s1-ap1"), SITE, "s1-ap1")
    assert not applies(window(scope_kind="ap", scope_value="s1-ap1"), SITE)  # an AP window is not the site's


def test_one_off_is_clipped():
    assert list(occurrences(window(), ts(2026, 10, 1, 3), ts(2026, 10, 2))) == [(ts(2026, 10, 1, 3), ts(2026, 10, 1, 4))]


def test_weekly_in_local_time():
    occ = list(occurrences(window(recurrence="weekly"), ts(2026, 10, 1), ts(2026, 11, 1)))
    assert [datetime.fromtimestamp(s, SEOUL).day for s, _ in occ] == [1, 8, 15, 22, 29]
    assert all(e - s == 7200 for s, e in occ)


def test_monthly_on_the_31st_skips_short_months():
    w = window(starts_at=ts(2026, 1, 31, 2), ends_at=ts(2026, 1, 31, 3), recurrence="monthly")
    occ = list(occurrences(w, ts(2026, 1, 1), ts(2026, 6, 1)))
    assert [datetime.fromtimestamp(s, SEOUL).month for s, _ in occ] == [1, 3, 5]


def test_daily_far_in_the_future_is_cheap_and_right():
    occ = list(occurrences(window(recurrence="daily"), ts(2030, 5, 5), ts(2030, 5, 6)))
    assert occ == [(ts(2030, 5, 5, 2), ts(2030, 5, 5, 4))]


def test_in_maintenance_now():
    w = window(recurrence="daily")
    assert in_maintenance([w], SITE, ts(2026, 10, 9, 3))
    assert not in_maintenance([w], SITE, ts(2026, 10, 9, 5))


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 100)), max_size=20))
def test_merge_covers_the_same_time_without_overlap(raw):
    ivs = [(float(a), float(a + d)) for a, d in raw]
    merged = merge(ivs)
    assert all(a < b for a, b in merged) and all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    for a, b in ivs:
        assert any(m0 <= a and b <= m1 for m0, m1 in merged)


def test_covered_merges_overlapping_windows():
    w1 = window()
    w2 = window(scope_kind="all", scope_value=None, starts_at=ts(2026, 10, 1, 3), ends_at=ts(2026, 10, 1, 6))
    assert covered([w1, w2], SITE, ts(2026, 10, 1), ts(2026, 10, 2)) == [(ts(2026, 10, 1, 2), ts(2026, 10, 1, 6))]
