"""In-process servers (the token issuer, the tests' fake engines and registries), served from a thread.

``socketserver``'s ``serve_forever`` looks for a shutdown request between polls, every 0.5 s
by default, so each ``shutdown()`` waited up to half a second: about 12 s of a unit run spent
waiting. Here it looks every 10 ms, which costs nothing measurable while serving.
"""

from __future__ import annotations

import socketserver
import threading

#: How often a served thread checks for ``shutdown()`` (seconds).
POLL_SECONDS = 0.01


def serve_in_background(server: socketserver.BaseServer, name: str | None = None) -> threading.Thread:
    """Start ``server.serve_forever`` in a daemon thread; ``server.shutdown()`` returns within 10 ms."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    return thread
