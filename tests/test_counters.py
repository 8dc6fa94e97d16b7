"""Counter arithmetic: the 497-day sysUpTime wrap, reboots, 32/64-bit wraps and resets."""

from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.counters import TICKS_WRAP, Uptime, advance_uptime, counter_delta

RATE = 1.25e9


def test_uptime_growing_is_not_a_reboot():
    u, rebooted = advance_uptime(Uptime(1000, 0.0), 2000, 10.0)
    assert not rebooted and u.seconds == 20.0


def test_uptime_wrap_after_497_days_is_not_a_reboot():
    prev = Uptime(TICKS_WRAP - 500, 0.0)  # 5 s before the wrap
    u, rebooted = advance_uptime(prev, 1000, 15.0)  # 15 s later: wrapped, now 10 s past it
    assert not rebooted
    assert u.wraps == 1 and abs(u.seconds - (TICKS_WRAP + 1000) / 100) < 1e-6
    assert abs(u.boot_at - prev.boot_at) < 1.0


def test_uptime_going_back_is_a_reboot():
    _, rebooted = advance_uptime(Uptime(5_000_000, 0.0), 300, 60.0)
    assert rebooted


def test_uptime_near_wrap_but_far_from_expected_is_a_reboot():
    _, rebooted = advance_uptime(Uptime(TICKS_WRAP - 500, 0.0), 4_000_000, 15.0)
    assert rebooted


def test_counter_first_sample_is_a_baseline():
    assert counter_delta(None, 10**12, 64, 0.0, False, RATE) == (0, False)


def test_counter_32bit_wrap():
    assert counter_delta(2**32 - 100, 50, 32, 60.0, False, RATE) == (150, False)


def test_counter_after_reboot_counts_from_zero():
    assert counter_delta(10**9, 5000, 64, 60.0, True, RATE) == (5000, False)


def test_64bit_counter_going_back_without_reboot_is_a_reset_not_a_spike():
    delta, reset = counter_delta(10**15, 10**3, 64, 60.0, False, RATE)
    assert reset and delta == 10**3  # counts what is plausibly new, never 2**64 - 10**15


def test_implausible_jump_forward_is_a_reset():
    assert counter_delta(0, 10**15, 64, 60.0, False, RATE) == (0, True)


@given(st.integers(0, 2**32 - 1), st.integers(0, 10**8), st.sampled_from([32, 64]))
def test_any_wrap_within_rate_gives_the_true_delta(prev, true_delta, bits):
    cur = (prev + true_delta) % 2**bits
    delta, reset = counter_delta(prev, cur, bits, 60.0, False, RATE)
    assert (delta, reset) == (true_delta, False)
