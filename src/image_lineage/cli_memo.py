"""The output of ``tree`` and ``export`` remembered per image list: a warm scan answers from it.

Read again, 1,000 unchanged images cost ~0.3 s of CPU to turn into records, relate, judge,
mask and render, where ``docker images -a`` takes 0.1 s in all. What the command prints is
fixed by the question (``question``: the command line, this machine's platform, whether the
terminal draws boxes, this code) and the source's listing (``sources.base.ImageListing``: a
source that lists first, its ``fingerprint`` naming all a scan of it gives; the engine's,
``sources.engine.scan.ImageList``: the engine, its version and the image list's answers;
containerd's, ``sources.containerd.source.ContainerdList``: its address and version, the
namespaces, the images listed and the blobs held). An answer is given again only for the
same question of a listing with the same fingerprint: an image added, removed, tagged or
untagged changes the listing, and so the answer.

Never with ``--show-secrets`` or ``--no-cache`` (``cli`` asks only without them): what is
kept is the masked output, in the cache file (``cache.ResultCache``). The JSON export names
when its scan ran: kept with a placeholder, filled in with the new scan's time when given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import datetime
from pathlib import Path

from image_lineage import __version__
from image_lineage.cache import ResultCache, default_cache_dir
from image_lineage.model import iso_utc
from image_lineage.sources.base import ImageListing

#: The export formats this code makes alone, and ``tree``. Not svg, png, pdf, html: Graphviz
#: draws them, and a Graphviz upgraded or removed must show as it does without this module.
FORMATS = frozenset({"json", "dot", "mermaid", "graphml"})
_PACKAGE = Path(__file__).parent
_PLACEHOLDER = '"scanned_at":"\\u0000"'  # JSON text no output holds: its own writer escapes NUL


def question(args: argparse.Namespace, *, host: str, boxes: bool) -> str:
    """Everything but the source's listing that decides what the command prints, as one digest."""
    asked = dict(sorted(vars(args).items()))
    named = [__version__, _code_stamp(), host, boxes, asked]
    return hashlib.sha256(json.dumps(named, default=str).encode()).hexdigest()


def recall(listing: ImageListing, asked: str, scanned_at: datetime) -> tuple[str, str] | None:
    """(stdout, stderr) the command printed for this question of this listing, if kept."""
    if listing.fingerprint is None:
        return None
    with ResultCache(default_cache_dir(), listing.namespace) as cache:
        kept = cache.get(asked, listing.fingerprint)
    if kept is None:
        return None
    stdout, stderr = kept
    return stdout.replace(_PLACEHOLDER, _scanned(scanned_at), 1), stderr


def remember(listing: ImageListing, asked: str, scanned_at: datetime, stdout: str, stderr: str) -> None:
    """Keep what the command printed; not when the scan missed an image (``fingerprint`` None)."""
    if listing.fingerprint is None:
        return
    with ResultCache(default_cache_dir(), listing.namespace) as cache:
        cache.put(asked, listing.fingerprint, stdout.replace(_scanned(scanned_at), _PLACEHOLDER, 1), stderr)


def _scanned(moment: datetime) -> str:
    return f'"scanned_at":{json.dumps(iso_utc(moment))}'


def _code_stamp() -> list[tuple[str, int, int]]:
    """Each module's name, time and size: a changed module (an upgrade, an edit) asks anew."""
    return [
        (str(path.relative_to(_PACKAGE)), stat.st_mtime_ns, stat.st_size)
        for path in sorted(_PACKAGE.rglob("*.py"))
        for stat in [path.stat()]
    ]
