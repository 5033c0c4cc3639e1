"""``parley serve``: run a node's server: the peer protocol, the officers' API, replication."""

from pathlib import Path

import typer

from parley.errors import InputError
from parley.hotline.replication import ReplicationSettings
from parley.hotline.users import SessionSettings

DEFAULTS = ReplicationSettings()
SESSION_DEFAULTS = SessionSettings()


def serve(
    directory: Path = typer.Argument(..., help="The node directory (paired with its peer)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8700, "--port", help="TCP port to listen on."),
    retry_initial: float = typer.Option(
        DEFAULTS.initial_backoff_s, "--retry-initial", help="First retry delay (s)."
    ),
    retry_max: float = typer.Option(
        DEFAULTS.max_backoff_s, "--retry-max", help="Longest retry delay (s)."
    ),
    pull_interval: float = typer.Option(
        DEFAULTS.pull_interval_s, "--pull-interval", help="Seconds between pulls from the peer."
    ),
    session_lifetime: float = typer.Option(
        SESSION_DEFAULTS.lifetime_s, "--session-lifetime", help="Longest officer session (s)."
    ),
    session_idle: float = typer.Option(
        SESSION_DEFAULTS.idle_s, "--session-idle", help="An unused session ends after (s)."
    ),
) -> None:
    """Serve the node until Ctrl-C: the signed peer protocol (/peer/v1), the officers' API
    (/api/v1, documented at /docs) and replication with the peer."""
    if not 0 < port < 65536:
        raise InputError(f"--port {port}: not a TCP port")
    if not 0 < retry_initial <= retry_max or pull_interval <= 0:
        raise InputError("retry delays and the pull interval must be positive, initial <= max")
    if session_lifetime <= 0 or session_idle <= 0:
        raise InputError("--session-lifetime and --session-idle must be positive")
    settings = ReplicationSettings(
        initial_backoff_s=retry_initial,
        max_backoff_s=retry_max,
        pull_interval_s=pull_interval,
        poll_interval_s=min(DEFAULTS.poll_interval_s, pull_interval),
    )
    # imported here so that every other parley command starts without the web stack
    import uvicorn

    from parley.web import create_app

    sessions = SessionSettings(lifetime_s=session_lifetime, idle_s=session_idle)
    app = create_app(directory, settings, sessions=sessions)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


__all__ = ["serve"]
