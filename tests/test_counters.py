"""Counter arithmetic: the 497-day sysUpTime wrap, reboots, 32/64-bit wraps and resets."""

from hypothesis import example, given
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


def test_uptime_near_wrap_but_short_of_the_wrapped_value_is_a_reboot():
    # 15 s after a reading 5 s before the wrap, a wrap would read 10 s; 3 s is a reboot 12 s in.
    u, rebooted = advance_uptime(Uptime(TICKS_WRAP - 500, 0.0), 300, 15.0)
    assert rebooted and u.wraps == 0 and u.seconds == 3.0


def test_an_uptime_longer_than_the_time_since_the_last_answer_is_neither_wrap_nor_reboot():
    # 11 h of uptime 15 s after the device answered with 497 days: no reboot since then can explain
    # it (a frozen or coarse uptime, another device on the address): no event, and no wrap counted.
    u, rebooted = advance_uptime(Uptime(TICKS_WRAP - 500, 0.0), 4_000_000, 15.0)
    assert not rebooted and u.wraps == 0


def test_an_uptime_that_stands_still_is_not_a_reboot():
    # A frozen sysUpTime (a recording, a controller refreshing its AP table every few minutes).
    u = Uptime(10_000_000, 0.0)
    for t in range(15, 300, 15):
        u, rebooted = advance_uptime(u, 10_000_000, float(t), 0.01)
        assert not rebooted


def test_the_exact_interleaving_of_a_probe_answered_during_a_slow_full_poll():
    """A full poll sends sysUpTime in its first request (answered after 1.9 s) and ends 7.6 s later; a
    probe sent meanwhile is answered and folded first. Dated by their own answers, the poll's reading
    is older than the probe's: it is ignored, never a reboot. Dated at the end of the poll (the old way)
    it looked newer than the probe's and smaller: "uptime went back", the false reboot of issue 10."""
    boot = -100_000.0
    ticks = lambda t: int((t - boot) * 100)  # noqa: E731 -- the agent's sysUpTime at t
    u, _ = advance_uptime(None, ticks(-14.0), -13.0, 1.0)  # the probe before
    u, probe_rebooted = advance_uptime(u, ticks(3.0), 3.9, 1.9)  # probe sent at 2.0, read at 3.0, back at 3.9
    poll_read_at, poll_answered, poll_ended = 1.0, 1.9, 7.6
    u, poll_rebooted = advance_uptime(u, ticks(poll_read_at), poll_answered, 1.9)  # folded at 7.6
    assert not probe_rebooted and not poll_rebooted
    assert u.at == 3.9  # the newer reading is kept
    assert ticks(poll_read_at) < u.ticks and poll_ended > u.at  # "uptime went back": the old rule's reboot


def test_answers_out_of_order_never_make_a_reboot():
    # A pre-reboot answer delayed on LTE arrives after the post-reboot one: one reboot, counted once.
    u, first = advance_uptime(Uptime(500_000, 0.0, 0.2), 1_000, 110.0, 0.5)  # rebooted at 100
    u, second = advance_uptime(u, 509_000, 90.0, 3.0)  # read at 90, before the reboot
    u, third = advance_uptime(u, 2_500, 125.0, 0.2)
    assert (first, second, third) == (True, False, False)


def test_a_day_without_answers_from_an_agent_whose_clock_runs_slow_is_not_a_reboot():
    prev = Uptime(100_000_000, 0.0, 0.05)
    day = 86_400.0
    slow = int((1_000_000 + day * (1 - 1e-4)) * 100)  # 100 ppm slow: 8.6 s short after a day
    _, rebooted = advance_uptime(prev, slow, day, 0.05)
    assert not rebooted


def test_counter_first_sample_is_a_baseline():
    assert counter_delta(None, 10**12, 64, 0.0, False, RATE) == (0, False)


def test_counter_32bit_wrap():
    assert counter_delta(2**32 - 100, 50, 32, 60.0, False, RATE) == (150, False)


def test_counter_after_reboot_counts_from_zero():
    assert counter_delta(10**9, 5000, 64, 60.0, True, RATE) == (5000, False)


def test_64bit_counter_going_back_without_reboot_is_a_reset_not_a_spike():
    delta, reset = counter_delta(10**15, 10**3, 64, 60.0, False, RATE)
    # Counts nothing: neither 2**64 - 10**15 nor 10**3, since a counter has no defined value after a
    # discontinuity (RFC 2578 §7.1.6). This test used to expect 10**3, "what is plausibly new".
    assert reset and delta == 0


FAST_ETHERNET = 100e6 / 8  # bytes/s a 100 Mbit/s port carries each way
TEN_MBIT = 10e6 / 8


def test_a_32bit_decrease_the_link_cannot_have_carried_is_a_reset_not_396_mb():
    # Wrapping from 3.9e9 to 1e6 means 396 MB: 106 Mbit/s over 30 s, more than the port carries.
    assert counter_delta(int(3.9e9), 10**6, 32, 30.0, False, FAST_ETHERNET) == (0, True)
    assert counter_delta(int(3.9e9), 10**6, 32, 60.0, False, TEN_MBIT) == (0, True)
    # Over 60 s the same wrap is 53 Mbit/s, within what 100 Mbit/s carries: a wrap, by physics.
    assert counter_delta(int(3.9e9), 10**6, 32, 60.0, False, FAST_ETHERNET) == (2**32 - int(3.9e9) + 10**6, False)


@given(st.integers(0, 2**32 - 1), st.integers(1, 2**32 - 1), st.floats(1.0, 600.0),
       st.sampled_from([10e6, 100e6, 1e9]))
def test_a_32bit_decrease_counts_exactly_the_wrap_when_the_link_could_carry_it(prev, cur, elapsed, bps):
    if cur >= prev:
        return
    delta, reset = counter_delta(prev, cur, 32, elapsed, False, bps / 8)
    wrapped = cur + 2**32 - prev
    fits = wrapped <= bps / 8 * elapsed
    assert (delta, reset) == ((wrapped, False) if fits else (0, True))


def test_implausible_jump_forward_is_a_reset():
    assert counter_delta(0, 10**15, 64, 60.0, False, RATE) == (0, True)


@given(st.integers(0, 2**32 - 1), st.integers(0, 10**8), st.sampled_from([32, 64]))
def test_any_wrap_within_rate_gives_the_true_delta(prev, true_delta, bits):
    cur = (prev + true_delta) % 2**bits
    delta, reset = counter_delta(prev, cur, bits, 60.0, False, RATE)
    assert (delta, reset) == (true_delta, False)


# -- a reboot is reported if and only if one happened ----------------------------------------------

_WRAP_S = TICKS_WRAP / 100


@st.composite
def observed_agent(draw: st.DrawFn) -> tuple[list[tuple[float, int, float, float]], int]:
    """An agent watched by sequential probes and by full polls whose answers are folded late (out of
    order), over random latencies, a drifting agent clock, an uptime that may cross the 497-day wrap,
    and real reboots. Returns the readings in the order they are folded, as (fold time, ticks,
    answered, rtt), and how many reboots happened while it was watched."""
    period = draw(st.floats(5.0, 60.0))
    probes = draw(st.integers(3, 30))
    drift = draw(st.floats(-1e-4, 1e-4))  # the agent's clock: 100 ppm fast or slow
    near_wrap = draw(st.booleans())
    span = period * probes
    uptime0 = (_WRAP_S - draw(st.floats(0.0, span))) if near_wrap else draw(st.floats(0.0, 600 * 86400.0))
    # Reboots at least two probe periods apart, inside the watched span: each boot is seen by a probe.
    # None within 10 s of the wrap: a restart that close to it reads as the wrap, within the readings'
    # uncertainty (how far from the wrap it restarted is all that tells them apart).
    wrap_at = _WRAP_S - uptime0
    reboots: list[float] = []
    t = period + 10.0
    while t < span - period - 10.0 and draw(st.booleans()):
        t += draw(st.floats(0.0, span / 2))
        if t < span - period - 10.0 and not (not reboots and abs(t - wrap_at) < 10.0):
            reboots.append(t)
            t += 2 * period + 10.0
    boots = [-uptime0, *reboots]

    def ticks_at(read: float) -> int:
        boot = max(b for b in boots if b <= read)
        return int((read - boot) * (1 + drift) * 100) % TICKS_WRAP

    def reading(sent: float, latency: float, fold_delay: float) -> tuple[float, int, float, float]:
        read = sent + latency * draw(st.floats(0.0, 1.0))
        answered = sent + latency
        return answered + fold_delay, ticks_at(read), answered, latency

    readings = []
    for i in range(probes):  # one at a time: each sent once the previous one is answered
        sent = i * period + draw(st.floats(0.0, 1.0))
        readings.append(reading(sent, draw(st.floats(0.001, 4.0)), 0.0))
    first_answer = readings[0][2]
    for _ in range(draw(st.integers(0, probes))):  # polls: uptime in the first request, folded at the end
        sent = draw(st.floats(first_answer, span))
        readings.append(reading(sent, draw(st.floats(0.001, 4.0)), draw(st.floats(0.0, 12.0))))
    readings.sort()
    return readings, len(reboots)


@given(observed_agent())
@example(([(1.0, TICKS_WRAP - 100, 1.0, 1.0), (22.0, 2000, 22.0, 1.0), (43.0, 1100, 43.0, 1.0)], 1))
@example(([(1.0, 0, 1.0, 1.0), (49.375, 4837, 49.375, 1.0), (65.0, 337, 65.0, 0.5), (65.0, 6100, 65.0, 4.0),
           (81.625, 1950, 81.625, 1.0)], 1))
def test_a_reboot_is_reported_if_and_only_if_one_happened(agent):
    """(The examples, found by this test: a reboot 10 s after the device crossed its 497-day wrap; a
    poll's pre-reboot answer delivered as late as the probe that saw the reboot.)"""
    readings, reboots = agent
    u, reported = None, 0
    for _, ticks, answered, rtt in readings:
        u, rebooted = advance_uptime(u, ticks, answered, rtt)
        reported += rebooted
    assert reported == reboots
