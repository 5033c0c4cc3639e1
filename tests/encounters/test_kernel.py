"""The closed-form pieces of the encounter kernel, one sub-interval at a time."""

import math

import numpy as np
import pytest

from parley.encounters.kernel import (
    Motion,
    intersect,
    linear_abs_below,
    linear_below,
    overflight_possible,
    quadratic_below,
    quadratic_min_on,
    swept_angle,
)


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def motion(
    x: float, y: float, z: float, vx: float, vy: float, vz: float, duration: float
) -> Motion:
    return Motion(arr(duration), arr(x), arr(y), arr(z), arr(vx), arr(vy), arr(vz))


def is_empty(interval: tuple[np.ndarray, np.ndarray]) -> bool:
    lo, hi = interval
    return bool(lo[0] >= hi[0])


# --- quadratic_below ---------------------------------------------------------------------------


def test_quadratic_below_two_roots_inside_the_interval() -> None:
    # (τ - 3)² < 4  ⇔  1 < τ < 5
    lo, hi = quadratic_below(arr(1.0), arr(-6.0), arr(9.0), 4.0, arr(10.0))
    assert lo[0] == pytest.approx(1.0)
    assert hi[0] == pytest.approx(5.0)


def test_quadratic_below_is_clipped_to_zero_and_the_duration() -> None:
    lo, hi = quadratic_below(arr(1.0), arr(-6.0), arr(9.0), 16.0, arr(4.0))  # roots -1 and 7
    assert (lo[0], hi[0]) == (0.0, 4.0)


def test_quadratic_below_never_reached_is_empty() -> None:
    # minimum of (τ - 3)² + 9 is 9, never below 4
    assert is_empty(quadratic_below(arr(1.0), arr(-6.0), arr(18.0), 4.0, arr(10.0)))
    # tangent (discriminant zero): strict inequality, so empty as well
    assert is_empty(quadratic_below(arr(1.0), arr(-6.0), arr(13.0), 4.0, arr(10.0)))


def test_quadratic_below_roots_outside_the_interval_is_empty() -> None:
    # 12 < τ < 14 lies after the end of a 10 s sub-interval
    assert is_empty(quadratic_below(arr(1.0), arr(-26.0), arr(169.0), 1.0, arr(10.0)))
    # -5 < τ < -1 lies before its start
    assert is_empty(quadratic_below(arr(1.0), arr(6.0), arr(9.0), 4.0, arr(10.0)))


def test_quadratic_below_without_relative_motion_is_all_or_nothing() -> None:
    lo, hi = quadratic_below(arr(0.0, 0.0), arr(0.0, 0.0), arr(9.0, 25.0), 16.0, arr(7.0, 7.0))
    assert (lo[0], hi[0]) == (0.0, 7.0)
    assert lo[1] >= hi[1]


def test_quadratic_below_is_vectorised_row_by_row() -> None:
    lo, hi = quadratic_below(
        arr(1.0, 4.0), arr(-6.0, 0.0), arr(9.0, 0.0), arr(4.0, 16.0), arr(10.0, 10.0)
    )
    np.testing.assert_allclose(lo, [1.0, 0.0])
    np.testing.assert_allclose(hi, [5.0, 2.0])


# --- linear_abs_below and linear_below ---------------------------------------------------------


def test_linear_abs_below_rising_and_falling() -> None:
    # |-10 + 2τ| < 4  ⇔  3 < τ < 7 ; |10 - 2τ| < 4 gives the same interval
    lo, hi = linear_abs_below(arr(-10.0, 10.0), arr(2.0, -2.0), 4.0, arr(20.0, 20.0))
    np.testing.assert_allclose(lo, [3.0, 3.0])
    np.testing.assert_allclose(hi, [7.0, 7.0])


def test_linear_abs_below_clipped_and_constant() -> None:
    lo, hi = linear_abs_below(arr(0.0, 1.0, 5.0), arr(1.0, 0.0, 0.0), 4.0, arr(10.0, 3.0, 3.0))
    assert (lo[0], hi[0]) == (0.0, 4.0)
    assert (lo[1], hi[1]) == (0.0, 3.0)  # constant inside
    assert lo[2] >= hi[2]  # constant outside


def test_linear_below_climbing_descending_and_level() -> None:
    z0 = arr(100.0, 0.0, 10.0, 60.0, 0.0)
    w = arr(-10.0, 10.0, 0.0, 0.0, 10.0)
    lo, hi = linear_below(z0, w, 50.0, arr(20.0, 20.0, 20.0, 20.0, 3.0))
    assert (lo[0], hi[0]) == pytest.approx((5.0, 20.0))  # descends below 50 at τ = 5
    assert (lo[1], hi[1]) == pytest.approx((0.0, 5.0))  # climbs above 50 at τ = 5
    assert (lo[2], hi[2]) == (0.0, 20.0)  # level below
    assert lo[3] >= hi[3]  # level above
    assert (lo[4], hi[4]) == (0.0, 3.0)  # would cross after the end


def test_intersect_takes_the_common_part() -> None:
    lo, hi = intersect((arr(0.0, 0.0), arr(5.0, 2.0)), (arr(3.0, 3.0), arr(9.0, 9.0)))
    assert (lo[0], hi[0]) == (3.0, 5.0)
    assert lo[1] >= hi[1]


# --- quadratic_min_on --------------------------------------------------------------------------


def test_quadratic_min_on_vertex_inside_and_clipped_at_either_end() -> None:
    a, b, c = arr(1.0, 1.0, 1.0), arr(-6.0, -6.0, -6.0), arr(13.0, 13.0, 13.0)  # (τ-3)² + 4
    value, tau = quadratic_min_on(a, b, c, arr(0.0, 5.0, 0.0), arr(10.0, 8.0, 2.0))
    np.testing.assert_allclose(value, [4.0, 8.0, 5.0])
    np.testing.assert_allclose(tau, [3.0, 5.0, 2.0])


def test_quadratic_min_on_constant_and_never_negative() -> None:
    value, tau = quadratic_min_on(arr(0.0), arr(0.0), arr(7.0), arr(1.0), arr(4.0))
    assert (value[0], tau[0]) == (7.0, 1.0)
    # a perfect collision: rounding may make the minimum a hair negative; it is clamped at 0
    value, _ = quadratic_min_on(arr(1.0), arr(-2.0), arr(1.0 - 1e-15), arr(0.0), arr(2.0))
    assert value[0] >= 0.0


# --- swept_angle -------------------------------------------------------------------------------


def test_swept_angle_signs_and_magnitudes() -> None:
    angles = swept_angle(
        arr(1.0, 0.0, 1.0, 3.0),
        arr(0.0, 1.0, 0.0, 3.0),
        arr(0.0, 1.0, -1.0, 6.0),
        arr(1.0, 0.0, 1e-9, 6.0),
    )
    assert angles[0] == pytest.approx(math.pi / 2)  # east to north: counter-clockwise
    assert angles[1] == pytest.approx(-math.pi / 2)  # north to east: clockwise
    assert abs(angles[2]) == pytest.approx(math.pi)  # straight through the far side
    assert angles[3] == pytest.approx(0.0)  # along the same bearing


# --- Motion ------------------------------------------------------------------------------------


def test_motion_quadratics_match_direct_evaluation() -> None:
    m = motion(x=-300.0, y=40.0, z=25.0, vx=500.0, vy=-3.0, vz=-10.0, duration=1.0)
    tau = np.linspace(0.0, 1.0, 11)
    x, y, z = (np.asarray(v) for v in m.at(tau))
    ha, hb, hc = m.horizontal_quadratic
    sa, sb, sc = m.slant_quadratic
    np.testing.assert_allclose(ha * tau**2 + hb * tau + hc, x**2 + y**2)
    np.testing.assert_allclose(sa * tau**2 + sb * tau + sc, x**2 + y**2 + z**2)
    np.testing.assert_allclose(m.horizontal_at(tau), np.hypot(x, y))


def test_head_on_closure_is_the_relative_speed_then_opening() -> None:
    m = motion(x=-500.0, y=0.0, z=0.0, vx=500.0, vy=0.0, vz=0.0, duration=2.0)
    closure = m.closure_at(arr(0.0, 0.5, 1.0, 1.5))
    np.testing.assert_allclose(closure, [500.0, 500.0, 500.0, -500.0])  # zero range: the speed


def test_offset_closure_is_the_radial_component() -> None:
    # 40 m lateral offset at 150 m range: closing at v · sqrt(150² - 40²) / 150
    m = motion(x=-math.sqrt(150.0**2 - 40.0**2), y=40.0, z=0.0, vx=500.0, vy=0, vz=0, duration=1)
    expected = 500.0 * math.sqrt(150.0**2 - 40.0**2) / 150.0
    assert m.closure_at(arr(0.0))[0] == pytest.approx(expected)


def test_swept_between_a_passing_target() -> None:
    # b passes a from west to east 100 m north of it: the bearing swings clockwise by about π
    m = motion(x=-1e6, y=100.0, z=0.0, vx=1e5, vy=0.0, vz=0.0, duration=20.0)
    assert m.swept_between(arr(0.0), arr(20.0))[0] == pytest.approx(-math.pi, abs=1e-3)
    assert m.swept_between(arr(5.0), arr(5.0))[0] == 0.0
    assert m.swept_between(arr(6.0), arr(5.0))[0] == 0.0


def test_swept_between_an_empty_range_with_infinite_bounds() -> None:
    # quadratic_below marks "never inside" with lo = inf, hi = -inf; with a zero velocity
    # component, evaluating there would be 0 × inf (a RuntimeWarning, an error under pytest)
    m = motion(x=300.0, y=0.0, z=0.0, vx=0.0, vy=10.0, vz=0.0, duration=5.0)
    lo, hi = quadratic_below(*m.horizontal_quadratic, 100.0**2, m.duration)
    assert lo[0] >= hi[0]
    assert m.swept_between(lo, hi)[0] == 0.0


# --- overflight_possible -----------------------------------------------------------------------


def overflight(m: Motion, lo: float = 0.0, hi: float | None = None) -> bool:
    end = float(m.duration[0]) if hi is None else hi
    return bool(overflight_possible(m, arr(lo), arr(end), 30.0, 150.0)[0])


def test_overflight_stationary_directly_above() -> None:
    assert overflight(motion(0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 10.0))
    assert overflight(motion(0.0, 0.0, -100.0, 0.0, 0.0, 0.0, 10.0))  # a above b counts too
    assert not overflight(motion(0.0, 0.0, 200.0, 0.0, 0.0, 0.0, 10.0))  # too high
    assert not overflight(motion(40.0, 0.0, 100.0, 0.0, 0.0, 0.0, 10.0))  # too far aside
    assert not overflight(motion(20.0, 0.0, 10.0, 0.0, 0.0, 0.0, 10.0))  # beside, not above


def test_overflight_passing_across_the_top() -> None:
    # 100 m above, crossing from 100 m west to 100 m east in 10 s: straight over at τ = 5
    crossing = motion(-100.0, 0.0, 100.0, 20.0, 0.0, 0.0, 10.0)
    assert overflight(crossing)
    assert not overflight(crossing, 0.0, 3.0)  # before it is within 30 m
    assert not overflight(crossing, 7.0, 10.0)  # after


def test_overflight_only_at_the_vertex_of_the_vertical_minus_horizontal() -> None:
    # 25 m above: within 30 m horizontally for τ in (3.5, 6.5); the vertical exceeds the
    # horizontal distance only in the middle of that window, never at its ends
    assert overflight(motion(-100.0, 0.0, 25.0, 20.0, 0.0, 0.0, 10.0))
    # passing 26 m to the side with 25 m of height: never above
    assert not overflight(motion(-100.0, 26.0, 25.0, 20.0, 0.0, 0.0, 10.0))


def test_overflight_when_descending_through_the_layer() -> None:
    # straight above at 400 m, descending 50 m/s: vertical < 150 from τ = 5 on
    sinking = motion(0.0, 0.0, 400.0, 0.0, 0.0, -50.0, 10.0)
    assert overflight(sinking)
    assert not overflight(sinking, 0.0, 4.9)
