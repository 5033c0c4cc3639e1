"""From candidate (pair, slice) windows to the exact features of each inside sub-interval.

Within a window, the instants of both tracks' samples cut time into sub-intervals during which both
move linearly. For each, the part inside the monitoring volume is found in closed form and every
feature (minima, closure, passes, bearing sweep, overflight, low fast pass) is measured on it.
"""

import numpy as np
import polars as pl

from parley.encounters import kernel
from parley.encounters.candidates import TrackArrays, segment_lookup
from parley.encounters.policy import Policy
from parley.tracks.geo import METRES_PER_DEGREE

Array = np.ndarray


def _ranges(starts: Array, counts: Array) -> tuple[Array, Array]:
    """Concatenated aranges: (group index, value) for each group's [start, start + count)."""
    group = np.repeat(np.arange(len(starts)), counts)
    offsets = np.cumsum(counts) - counts
    values = np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(starts, counts)
    return group, values


def window_events(
    arrays: TrackArrays, stride_us: int, a: Array, b: Array, w0: Array, w1: Array
) -> tuple[Array, Array]:
    """Sorted, distinct instants per window: its bounds and both tracks' samples inside it."""
    keys = arrays.code * stride_us + arrays.t_us
    groups = [np.arange(len(a)), np.arange(len(a))]
    times = [w0, w1]
    for code in (a, b):
        lo = np.searchsorted(keys, code * stride_us + w0, side="right")
        hi = np.searchsorted(keys, code * stride_us + w1, side="left")
        group, rows = _ranges(lo, np.maximum(hi - lo, 0))
        groups.append(group)
        times.append(arrays.t_us[rows])
    group = np.concatenate(groups)
    t = np.concatenate(times)
    order = np.lexsort((t, group))
    group, t = group[order], t[order]
    distinct = np.concatenate([[True], (group[1:] != group[:-1]) | (t[1:] != t[:-1])])
    return group[distinct], t[distinct]


def _position(arrays: TrackArrays, row: Array, t_us: Array) -> tuple[Array, Array, Array]:
    nxt = np.minimum(row + 1, len(arrays.t_us) - 1)
    span = (arrays.t_us[nxt] - arrays.t_us[row]).astype(np.float64)
    f = np.where(span > 0, (t_us - arrays.t_us[row]) / np.where(span > 0, span, 1.0), 0.0)
    lat = arrays.lat[row] + f * (arrays.lat[nxt] - arrays.lat[row])
    dlon = (arrays.lon[nxt] - arrays.lon[row] + 180.0) % 360.0 - 180.0
    lon = arrays.lon[row] + f * dlon
    alt = arrays.alt[row] + f * (arrays.alt[nxt] - arrays.alt[row])
    return lat, lon, alt


def _relative_plane(lat_a: Array, lon_a: Array, lat_b: Array, lon_b: Array) -> tuple[Array, Array]:
    """East and north metres from a to b in the plane tangent midway between them.

    The midpoint's latitude keeps the plane symmetric in a and b and exact to centimetres at
    10 km; either end's latitude would be off by metres there (and differ with the order).
    """
    cos_mid = np.cos(np.radians((lat_a + lat_b) / 2.0))
    east = ((lon_b - lon_a + 180.0) % 360.0 - 180.0) * METRES_PER_DEGREE * cos_mid
    return np.asarray(east), np.asarray((lat_b - lat_a) * METRES_PER_DEGREE)


def _path_speed(arrays: TrackArrays, row: Array) -> Array:
    nxt = np.minimum(row + 1, len(arrays.t_us) - 1)
    span = np.maximum((arrays.t_us[nxt] - arrays.t_us[row]) / 1e6, 1e-6)
    north = (arrays.lat[nxt] - arrays.lat[row]) * METRES_PER_DEGREE
    dlon = (arrays.lon[nxt] - arrays.lon[row] + 180.0) % 360.0 - 180.0
    east = dlon * METRES_PER_DEGREE * np.cos(np.radians(arrays.lat[row]))
    return np.asarray(np.hypot(east, north) / span)


def measure_windows(
    arrays: TrackArrays,
    stride_us: int,
    windows: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """Inside sub-intervals of the windows with their features.

    ``windows`` has a, b (track codes), w0, w1 (µs), kind, air_is ("a", "b" or "" when no
    aircraft or two), civil_safety. Returns one row per sub-interval with an inside part.
    """
    a = windows["a"].to_numpy()
    b = windows["b"].to_numpy()
    group, t = window_events(
        arrays, stride_us, a, b, windows["w0"].to_numpy(), windows["w1"].to_numpy()
    )
    same = group[1:] == group[:-1]
    g = group[:-1][same]
    t0 = t[:-1][same]
    t1 = t[1:][same]
    mid = (t0 + t1) // 2
    code_a, code_b = a[g], b[g]
    row_a, ok_a = segment_lookup(arrays, stride_us, code_a, mid)
    row_b, ok_b = segment_lookup(arrays, stride_us, code_b, mid)
    ok = ok_a & ok_b
    g, t0, t1, row_a, row_b, code_a, code_b = (
        x[ok] for x in (g, t0, t1, row_a, row_b, code_a, code_b)
    )
    lat_a0, lon_a0, alt_a0 = _position(arrays, row_a, t0)
    lat_a1, lon_a1, alt_a1 = _position(arrays, row_a, t1)
    lat_b0, lon_b0, alt_b0 = _position(arrays, row_b, t0)
    lat_b1, lon_b1, alt_b1 = _position(arrays, row_b, t1)
    x0, y0 = _relative_plane(lat_a0, lon_a0, lat_b0, lon_b0)
    x1, y1 = _relative_plane(lat_a1, lon_a1, lat_b1, lon_b1)
    duration = (t1 - t0) / 1e6
    kind = windows["kind"].to_numpy()[g]
    air_is = windows["air_is"].to_numpy()[g]
    is_air_air = kind == "air-air"
    is_air_sea = kind == "air-sea"
    z0 = np.where(is_air_air, alt_b0 - alt_a0, 0.0)
    z1 = np.where(is_air_air, alt_b1 - alt_a1, 0.0)
    # the aircraft of an air–sea pair: its altitude and speed drive the air–sea rules
    air_alt0 = np.where(air_is == "a", alt_a0, alt_b0)
    air_alt1 = np.where(air_is == "a", alt_a1, alt_b1)
    air_row = np.where(air_is == "a", row_a, row_b)
    reported = arrays.speed[air_row]
    air_speed = np.where(np.isnan(reported), _path_speed(arrays, air_row), reported)
    air_z0 = np.where(is_air_sea, air_alt0, 0.0)
    air_vz = np.where(is_air_sea, (air_alt1 - air_alt0) / duration, 0.0)
    # the slant range of an air–sea pair is measured to the ship at sea level
    z0 = np.where(is_air_sea, air_alt0, z0)
    z1 = np.where(is_air_sea, air_alt1, z1)
    motion = kernel.Motion(
        duration=duration,
        x=x0,
        y=y0,
        z=z0,
        vx=(x1 - x0) / duration,
        vy=(y1 - y0) / duration,
        vz=(z1 - z0) / duration,
    )
    return _features(windows, g, t0, motion, kind, air_z0, air_vz, air_speed, policy)


def measure_motion(
    pairs: pl.DataFrame,
    g: Array,
    t0_us: Array,
    motion: kernel.Motion,
    kind: Array,
    air_z0: Array,
    air_vz: Array,
    air_speed: Array,
    policy: Policy,
) -> pl.DataFrame:
    """The inside parts and features of given linear relative motions.

    What :func:`measure_windows` does once it has cut the windows into sub-intervals, for motions
    built elsewhere (the live detector's predicted paths). ``pairs`` has a, b, civil_safety; each
    motion belongs to ``pairs`` row ``g`` and starts at ``t0_us`` (µs, any origin).
    """
    return _features(pairs, g, t0_us, motion, kind, air_z0, air_vz, air_speed, policy)


def _features(
    windows: pl.DataFrame,
    g: Array,
    t0: Array,
    motion: kernel.Motion,
    kind: Array,
    air_z0: Array,
    air_vz: Array,
    air_speed: Array,
    policy: Policy,
) -> pl.DataFrame:
    vol, feat = policy.volumes, policy.features
    d = motion.duration
    ha, hb, hc = motion.horizontal_quadratic
    sa, sb, sc = motion.slant_quadratic
    is_air_air = kind == "air-air"
    is_air_sea = kind == "air-sea"
    radius = np.where(
        is_air_air,
        vol.air_air_horizontal_m,
        np.where(is_air_sea, vol.air_sea_horizontal_m, vol.sea_sea_horizontal_m),
    )
    lo, hi = kernel.quadratic_below(ha, hb, hc, radius**2, d)
    v_lo, v_hi = kernel.linear_abs_below(motion.z, motion.vz, vol.air_air_vertical_m, d)
    c_lo, c_hi = kernel.linear_below(air_z0, air_vz, vol.air_sea_max_altitude_m, d)
    lo = np.where(is_air_air, np.maximum(lo, v_lo), np.where(is_air_sea, np.maximum(lo, c_lo), lo))
    hi = np.where(is_air_air, np.minimum(hi, v_hi), np.where(is_air_sea, np.minimum(hi, c_hi), hi))
    keep = hi > lo
    if not keep.all():
        motion = kernel.Motion(
            *(
                np.asarray(getattr(motion, f))[keep]
                for f in ("duration", "x", "y", "z", "vx", "vy", "vz")
            )
        )
        g, t0, kind, air_z0, air_vz, air_speed, lo, hi = (
            x[keep] for x in (g, t0, kind, air_z0, air_vz, air_speed, lo, hi)
        )
        is_air_air, is_air_sea = kind == "air-air", kind == "air-sea"
        d = motion.duration
        ha, hb, hc = motion.horizontal_quadratic
        sa, sb, sc = motion.slant_quadratic
    slant_sq, slant_tau = kernel.quadratic_min_on(sa, sb, sc, lo, hi)
    horiz_sq, _ = kernel.quadratic_min_on(ha, hb, hc, lo, hi)
    _, _, z_at_cpa = motion.at(slant_tau)
    # closing speed decreases along a straight relative path, so its maximum over a range of τ is
    # reached at the start of that range
    close_lo, close_hi = kernel.intersect(
        (lo, hi), kernel.quadratic_below(sa, sb, sc, feat.closure_slant_m**2, d)
    )
    gets_close = close_hi > close_lo
    # an empty range's bound may be infinite: measure at the entry instead and discard it
    closure_close = np.where(
        gets_close, motion.closure_at(np.where(gets_close, close_lo, lo)), np.nan
    )
    closure_any = motion.closure_at(lo)
    orbit_lo, orbit_hi = kernel.intersect(
        (lo, hi), kernel.quadratic_below(ha, hb, hc, feat.orbit_radius_m**2, d)
    )
    sweep = np.where(is_air_sea, motion.swept_between(orbit_lo, orbit_hi), 0.0)
    low_lo, low_hi = kernel.intersect(
        (orbit_lo, orbit_hi),
        kernel.linear_below(air_z0, air_vz, policy.classes.air_sea.serious_altitude_m, d),
    )
    sweep_low = np.where(is_air_sea, motion.swept_between(low_lo, low_hi), 0.0)
    overflight = is_air_air & kernel.overflight_possible(
        motion, lo, hi, feat.overflight_horizontal_m, feat.overflight_vertical_m
    )
    lf_lo, lf_hi = kernel.intersect(
        (lo, hi),
        kernel.quadratic_below(ha, hb, hc, feat.low_fast_pass_horizontal_m**2, d),
        kernel.linear_below(air_z0, air_vz, feat.low_fast_pass_altitude_m, d),
    )
    low_fast = is_air_sea & (lf_hi > lf_lo) & (air_speed > feat.low_fast_pass_speed_mps)
    lc_lo, lc_hi = kernel.intersect(
        (lo, hi),
        kernel.quadratic_below(ha, hb, hc, policy.classes.air_sea.serious_pass_m**2, d),
        kernel.linear_below(air_z0, air_vz, policy.classes.air_sea.serious_altitude_m, d),
    )
    low_close = is_air_sea & (lc_hi > lc_lo)
    return pl.DataFrame(
        {
            "a": windows["a"].to_numpy()[g],
            "b": windows["b"].to_numpy()[g],
            "kind": pl.Series(kind, dtype=pl.String),  # typed even when empty
            "civil_safety": windows["civil_safety"].to_numpy()[g],
            "t_in": t0 / 1e6 + lo,
            "t_out": t0 / 1e6 + hi,
            "slant_min": np.sqrt(slant_sq),
            "slant_t": t0 / 1e6 + slant_tau,
            "vertical_at_slant": np.abs(z_at_cpa),
            "horizontal_min": np.sqrt(horiz_sq),
            "h_in": motion.horizontal_at(lo),
            "h_min": np.sqrt(horiz_sq),
            "h_out": motion.horizontal_at(hi),
            "closure_close": closure_close,
            "closure_any": closure_any,
            "sweep": sweep,
            "sweep_low": sweep_low,
            "overflight": overflight,
            "low_fast": low_fast,
            "low_close": low_close,
        }
    )


__all__ = ["measure_motion", "measure_windows", "window_events"]
