"""From inside sub-intervals to episodes: merging stays, aggregating features exactly."""

import math

import polars as pl

from parley.encounters.policy import Policy

TWO_PI = 2.0 * math.pi


def assign_episodes(parts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Number the episodes: a new one when the pair changes or a stay starts a merge gap later."""
    gaps = policy.gaps
    merge_gap = (
        pl.when(pl.col("kind") == "sea-sea")
        .then(gaps.sea_merge_gap_s)
        .otherwise(gaps.air_merge_gap_s)
    )
    parts = parts.sort("a", "b", "t_in")
    previous_out = pl.col("t_out").cum_max().shift(1).over("a", "b")
    new_episode = previous_out.is_null() | ((pl.col("t_in") - previous_out) >= merge_gap)
    return parts.with_columns(new_episode.cum_sum().alias("episode") - 1)


def count_passes(parts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Passes per episode: local minima below the pass radius, re-armed above factor × radius.

    The horizontal distance is convex on each sub-interval, so its values at the entry, at the
    minimum and at the exit, in time order, cross every threshold it crosses.
    """
    feat = policy.features
    radius = (
        pl.when(pl.col("kind") == "air-air")
        .then(feat.pass_radius_air_air_m)
        .when(pl.col("kind") == "air-sea")
        .then(feat.pass_radius_air_sea_m)
        .otherwise(feat.pass_radius_sea_sea_m)
    )
    values = (
        parts.select("episode", "kind", "t_in", pl.concat_list("h_in", "h_min", "h_out").alias("h"))
        .with_row_index("order")
        .explode("h")
        .with_columns(radius.alias("radius"))
    )
    marker = (
        pl.when(pl.col("h") < pl.col("radius"))
        .then(-1)
        .when(pl.col("h") > pl.col("radius") * feat.pass_rearm_factor)
        .then(1)
        .otherwise(None)
    )
    values = values.with_columns(marker.alias("marker")).with_columns(
        pl.col("marker").forward_fill().shift(1).over("episode").fill_null(1).alias("state")
    )
    return values.group_by("episode").agg(
        ((pl.col("marker") == -1) & (pl.col("state") == 1)).sum().alias("passes")
    )


def aggregate(parts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """One row per episode with its features."""
    parts = assign_episodes(parts, policy)
    passes = count_passes(parts, policy)
    cpa = pl.col("slant_min").arg_min()
    episodes = parts.group_by("episode").agg(
        pl.col("a").first(),
        pl.col("b").first(),
        pl.col("kind").first(),
        pl.col("civil_safety").first(),
        pl.col("t_in").min().alias("start"),
        pl.col("t_out").max().alias("end"),
        pl.col("slant_min").min().alias("min_slant_m"),
        pl.col("slant_t").get(cpa).alias("cpa_time"),
        pl.col("vertical_at_slant").get(cpa).alias("vertical_m"),
        pl.col("horizontal_min").min().alias("min_horizontal_m"),
        pl.col("closure_close").max().alias("closure_close"),
        pl.col("closure_any").max().alias("closure_any"),
        (pl.col("sweep").sum().abs() / TWO_PI).floor().cast(pl.Int64).alias("orbits"),
        (pl.col("sweep_low").sum().abs() / TWO_PI).floor().cast(pl.Int64).alias("orbits_low"),
        pl.col("overflight").any(),
        pl.col("low_fast").any().alias("low_fast_pass"),
        pl.col("low_close").any().alias("low_close_pass"),
    )
    episodes = episodes.join(passes, on="episode").with_columns(
        pl.coalesce(pl.col("closure_close").fill_nan(None), pl.col("closure_any"))
        .clip(lower_bound=0.0)
        .alias("max_closure_mps")
    )
    return episodes.drop("closure_close", "closure_any").sort("a", "b", "start")


__all__ = ["aggregate", "assign_episodes", "count_passes"]
