"""The duty cycle that paces background imports and exports (no database, a fake clock)."""

import pytest

from annotator.throttling import DutyCycle, parse_fraction


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def work(self, seconds: float) -> None:
        self.now += seconds


def duty_cycle(fraction: float, fake: FakeTime, slice_seconds: float = 0.02) -> DutyCycle:
    return DutyCycle(fraction, slice_seconds=slice_seconds, clock=fake.clock, sleep=fake.sleep)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.8])
def test_work_takes_the_given_share_of_wall_clock_time(fraction):
    fake = FakeTime()
    duty = duty_cycle(fraction, fake)
    for _ in range(1_000):
        fake.work(0.003)
        duty.tick()
    worked, elapsed = duty.worked, fake.now
    assert worked == pytest.approx(3.0)
    # Work still unrested at the end (less than one slice) is the only deviation.
    assert worked / elapsed == pytest.approx(fraction, abs=0.01)
    assert duty.rested == pytest.approx(sum(fake.sleeps))


def test_full_duty_cycle_never_rests():
    fake = FakeTime()
    duty = duty_cycle(1.0, fake)
    for _ in range(100):
        fake.work(0.05)
        duty.tick()
    assert fake.sleeps == []
    assert duty.worked == pytest.approx(5.0)


def test_rests_only_once_a_slice_of_work_has_piled_up():
    fake = FakeTime()
    duty = duty_cycle(0.5, fake, slice_seconds=0.02)
    fake.work(0.015)
    duty.tick()
    assert fake.sleeps == []
    fake.work(0.010)
    duty.tick()
    assert fake.sleeps == [pytest.approx(0.025)]


def test_a_long_stretch_of_work_is_followed_by_a_proportional_rest():
    fake = FakeTime()
    duty = duty_cycle(0.25, fake)
    fake.work(0.4)
    duty.tick()
    assert fake.sleeps == [pytest.approx(1.2)]


def test_waiting_between_resume_and_tick_is_not_counted_as_work():
    fake = FakeTime()
    duty = duty_cycle(0.5, fake)
    fake.work(0.03)
    duty.tick()  # rests 0.03
    fake.work(5.0)  # waiting on a slow client, not working
    duty.resume()
    fake.work(0.01)
    duty.tick()
    assert fake.sleeps == [pytest.approx(0.03)]
    assert duty.worked == pytest.approx(0.04)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, float("nan")])
def test_a_duty_cycle_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError, match="duty cycle must be in"):
        DutyCycle(fraction)


def test_with_nobody_busy_work_runs_on_and_rests_resume_when_someone_is():
    fake = FakeTime()
    someone_working = False
    duty = DutyCycle(
        0.5,
        slice_seconds=0.02,
        clock=fake.clock,
        sleep=fake.sleep,
        busy=lambda: someone_working,
    )
    for _ in range(10):
        fake.work(0.03)
        duty.tick()
    assert fake.sleeps == []
    someone_working = True
    fake.work(0.03)
    duty.tick()
    # Only the work done since the site became busy is rested for, not the idle stretch.
    assert fake.sleeps == [pytest.approx(0.03)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "must be above 0 and at most 1, got 0"),
        ("1.5", "must be above 0 and at most 1, got 1.5"),
        ("half", "not a number: 'half'"),
    ],
)
def test_a_duty_cycle_setting_outside_zero_to_one_says_why(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_fraction(raw)


def test_a_duty_cycle_setting_in_range_is_read_as_a_number():
    assert parse_fraction("0.1") == 0.1
    assert parse_fraction("1") == 1.0
