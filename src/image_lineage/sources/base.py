"""What every source shares: the progress callback, the default timeout, the JSON size cap.

Kept free of imports beyond ``collections.abc`` so that any source (and the front ends,
for their ``--timeout`` default) can use it without pulling in another source's modules.
"""

from __future__ import annotations

from collections.abc import Callable

#: Seconds one request to an engine or a registry may take, answer included.
DEFAULT_TIMEOUT = 30.0

#: The most a manifest, index or image config may weigh: real ones are kilobytes, so a
#: larger one is hostile or not what its name says, and is refused unread.
MAX_JSON_BYTES = 16 * 1024 * 1024

#: ``progress(done, total)``: called as a scan advances, from the scanning thread.
Progress = Callable[[int, int], None]
