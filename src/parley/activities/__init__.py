"""Notifications of military activities (exercises, flights), their Vienna Document thresholds,
and which activities contain a given place and time (see ``docs/activities.md``)."""

__all__: list[str] = []
