"""The sender that ``test_kill_loop.py`` kills with SIGKILL, over and over.

Run as ``python kill_loop_sender.py NODE_DIR``. Importing the node code costs about a second, far
too much to pay 200 times, so this process imports it once and then serves as a fork server: for
each ``fork`` line on stdin it forks a sender and reports on stdout

* ``pid N``: the sender's process id (the one to kill);
* ``recorded MSG_ID``: written by the sender only after ``Node.send`` returned, flushed at once;
* ``exited STATUS``: the sender is gone (this process reaped it), so every line it wrote is
  already in the pipe, before this one.

The sender opens the node itself (no connection crosses the fork) and sends test messages until
it is killed. A line ``quit`` (or end of input) ends the server.
"""

import os
import sys
from pathlib import Path

from parley.hotline.node import load_node


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _send_until_killed(directory: Path) -> None:
    with load_node(directory) as node:
        sequence = 0
        while True:
            msg_id = node.send("test", {"sequence": str(sequence)})
            _say(f"recorded {msg_id}")
            sequence += 1


def _sender(directory: Path) -> None:
    """The forked child: never returns into the server's loop."""
    code = 0
    try:
        _say(f"pid {os.getpid()}")
        _send_until_killed(directory)
    except BaseException as exc:  # reported to the test, which fails on it
        _say(f"error {type(exc).__name__}: {exc}")
        code = 1
    finally:
        os._exit(code)


def serve(directory: Path) -> None:
    for command in sys.stdin:
        if command.strip() != "fork":
            break
        pid = os.fork()
        if pid == 0:
            _sender(directory)
        _, status = os.waitpid(pid, 0)
        _say(f"exited {status}")


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
