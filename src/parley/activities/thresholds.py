"""The Vienna Document rules applied to one activity: notifiable, observation, late.

* **Notifiable**: any declared figure at or above its notification threshold (9,000 troops,
  250 battle tanks, 500 armoured combat vehicles, 250 artillery pieces by default).
* **Observation required**: any declared figure at or above its observation threshold
  (13,000 troops by default).
* **Due**: a planned activity must be notified ``notice_days`` (42) before its start, a snap
  exercise when it starts (plus ``snap.grace_s``, 0 by default). Notified exactly at the due
  moment is on time.
* **Late**: notified after it was due, when the activity is notifiable by its declared *or* its
  observed figures (a notification that did not have to be made is never late). ``days_late`` is
  the delay rounded up to whole days; an activity not yet notified is late once ``now`` has passed
  the due moment.
* **Observed above thresholds**: observed figures at or above a threshold that the declared
  figures stay below: the gaming of thresholds ``arrangements.md`` warns of.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parley.activities.model import Activity, Forces, iso_utc
from parley.activities.policy import ActivityPolicy

DAY_S = 86_400.0
THRESHOLD_FORCES = ("troops", "battle_tanks", "armoured_combat_vehicles", "artillery_pieces")


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the rules say of one activity; ``flags`` lists the findings by name."""

    notifiable: bool
    notifiable_by: tuple[str, ...]
    observation_required: bool
    observation_by: tuple[str, ...]
    due: datetime
    notice_days: float | None
    late: bool
    late_by_s: float
    days_late: int
    observed_notifiable_by: tuple[str, ...]
    observed_observation_by: tuple[str, ...]
    flags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "notifiable": self.notifiable,
            "notifiable_by": list(self.notifiable_by),
            "observation_required": self.observation_required,
            "observation_by": list(self.observation_by),
            "due": iso_utc(self.due),
            "notice_days": None if self.notice_days is None else round(self.notice_days, 3),
            "late": self.late,
            "late_by_s": round(self.late_by_s, 3),
            "days_late": self.days_late,
            "observed_notifiable_by": list(self.observed_notifiable_by),
            "observed_observation_by": list(self.observed_observation_by),
            "flags": list(self.flags),
        }


def notification_reached(forces: Forces, policy: ActivityPolicy) -> tuple[str, ...]:
    """The figures at or above their notification thresholds."""
    limits = policy.notification
    return _reached(forces, {name: getattr(limits, name) for name in THRESHOLD_FORCES})


def observation_reached(forces: Forces, policy: ActivityPolicy) -> tuple[str, ...]:
    """The figures at or above their observation thresholds (those that are criteria)."""
    limits = policy.observation
    return _reached(forces, {name: getattr(limits, name) for name in THRESHOLD_FORCES})


def notification_due(activity: Activity, policy: ActivityPolicy) -> datetime:
    """The latest moment the activity may be notified and still be on time."""
    if activity.notice == "snap":
        return activity.start + timedelta(seconds=policy.snap.grace_s)
    return activity.start - timedelta(days=policy.notification.notice_days)


def assess(
    activity: Activity, policy: ActivityPolicy | None = None, now: datetime | None = None
) -> Assessment:
    """Apply the rules; ``now`` decides whether an activity not yet notified is already late."""
    policy = policy or ActivityPolicy()
    notifiable_by = notification_reached(activity.declared, policy)
    observation_by = observation_reached(activity.declared, policy)
    observed_notifiable_by = tuple(
        n for n in notification_reached(activity.observed, policy) if not notifiable_by
    )
    observed_observation_by = tuple(
        n for n in observation_reached(activity.observed, policy) if not observation_by
    )
    due = notification_due(activity, policy)
    notified = activity.notified_at
    moment = notified if notified is not None else now
    late_by_s = 0.0
    if (notifiable_by or observed_notifiable_by) and moment is not None:
        late_by_s = max(0.0, (moment - due).total_seconds())
    flags = [
        name
        for name, present in (
            ("notifiable", bool(notifiable_by)),
            ("observation-required", bool(observation_by)),
            ("not-notified", notified is None and bool(notifiable_by or observed_notifiable_by)),
            ("late", late_by_s > 0),
            ("observed-above-notification-threshold", bool(observed_notifiable_by)),
            ("observed-above-observation-threshold", bool(observed_observation_by)),
        )
        if present
    ]
    return Assessment(
        notifiable=bool(notifiable_by),
        notifiable_by=notifiable_by,
        observation_required=bool(observation_by),
        observation_by=observation_by,
        due=due,
        notice_days=None
        if notified is None
        else (activity.start - notified).total_seconds() / DAY_S,
        late=late_by_s > 0,
        late_by_s=late_by_s,
        days_late=max(1, round(late_by_s / DAY_S)) if late_by_s > 0 else 0,
        observed_notifiable_by=observed_notifiable_by,
        observed_observation_by=observed_observation_by,
        flags=tuple(flags),
    )


def assessed_json(
    activity: Activity, policy: ActivityPolicy | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The activity's JSON with its assessment under ``assessment``."""
    return {**activity.to_json(), "assessment": assess(activity, policy, now).to_json()}


def _reached(forces: Forces, limits: dict[str, int | None]) -> tuple[str, ...]:
    return tuple(
        name
        for name, limit in limits.items()
        if limit is not None and (forces.figure(name) or 0) >= limit
    )


__all__ = [
    "THRESHOLD_FORCES",
    "Assessment",
    "assess",
    "assessed_json",
    "notification_due",
    "notification_reached",
    "observation_reached",
]
