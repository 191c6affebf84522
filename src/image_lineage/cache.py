"""A content-addressed on-disk cache of per-image API answers.

An image id is the digest of the image's config, so what an engine said about one
id (inspect, history) never changes: entries never go stale and are never
invalidated. But an engine's answer about an id cannot be checked against the id (the
inspect is not the config), so each engine has its own namespace (``engine_namespace``:
its address and its own id): what a hostile engine says about an id the user also has
is never read back for another engine. What can be checked is, on every read: a blob
must hash to its digest, an inspect must name the id it is stored under. Tags are not
cached; they come from the fresh image list. Registry manifests and configs are kept
byte for byte by digest (``BlobCache``), for the same reason. ``ResultCache`` keeps a
command's finished output per source (an engine, a containerd) and command line, with a
digest of the image list it was made from (``cli_memo.py``): given again only for an
identical list.

The cache is one SQLite file (``details-v4.sqlite3``) under
``$IMAGE_LINEAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/image-lineage``, else
``~/.cache/image-lineage``. One file, not one per image: measured on 1,000 images,
writing a thousand small files cost more system time than the scan it saved.
A corrupt entry is a miss (and is rewritten); a corrupt or unwritable database is
set aside or ignored. The cache never makes a scan fail.

No secret is written: an entry in which any text holds what ``masking.py`` would mask
(a label ``TOKEN=ghp_…``, an ``ENV AWS_SECRET_ACCESS_KEY=…``, ``curl -u user:pass``) is
not stored at all, and is read from its source again on each scan. Not stored rather
than stored masked: ``--show-secrets`` must still show the real values, and a masked
blob no longer hashes to its digest. The file is 0600, its directory 0700 (and any
directory created for it); older files, which kept such entries, are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

# v2: history rows keep their "Id" (the step images that pin down which step made a layer).
# v3: inspect keeps what a container starts with (ports, volumes, command...; Env names only).
# v4: no entry that holds a secret; one namespace per engine.
_FILE = "details-v4.sqlite3"
# Older files held registry configs with their secrets: removed when the new one is made.
_OLD_FILES = ("details-v1.sqlite3", "details-v2.sqlite3", "details-v3.sqlite3")
_DIRECTORY = "image-lineage"
_CHUNK = 500  # stay far below SQLite's limit on bound variables
#: Outputs kept (``ResultCache``), the newest, whatever their engine: a JSON export of 1,000
#: images is ~4 MB, and an engine or a command line seen once should not keep one for good.
RESULTS_KEPT = 8

Details = tuple[dict[str, Any], list[dict[str, Any]]]
V = TypeVar("V")


def default_cache_dir() -> Path:
    explicit = os.environ.get("IMAGE_LINEAGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / _DIRECTORY


def engine_namespace(kind: str, address: str, engine_id: object) -> str:
    """The cache namespace of one engine: ``kind``, its address, and the id its ``/info`` gives.

    Both, because neither alone names an engine: another engine may claim any id, and
    another engine may later listen at the same address.
    """
    return f"{kind} {address} {engine_id if isinstance(engine_id, str) else ''}"


class _Table:
    """JSON bodies per (namespace, content digest) in one table of the cache file; a context manager."""

    _TABLE = "details"

    def __init__(self, root: Path, namespace: str) -> None:
        self._path = root / _FILE
        self._namespace = namespace
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> Self:
        self._db = _open(self._path, self._TABLE)
        return self

    def __exit__(self, *_: object) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _get_bodies(self, keys: Iterable[str]) -> Iterator[tuple[str, object]]:
        if self._db is None:
            return
        wanted = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                placeholders = ",".join("?" * len(chunk))
                query = f"SELECT id, body FROM {self._TABLE} WHERE namespace = ? AND id IN ({placeholders})"  # noqa: S608
                yield from self._db.execute(query, [self._namespace, *chunk]).fetchall()
        except sqlite3.Error:
            return

    def _put_bodies(self, bodies: Mapping[str, object]) -> list[str]:
        return self._put(bodies, json.dumps, holds_secret)

    def _put(
        self, entries: Mapping[str, V], encode: Callable[[V], object], secret: Callable[[V], bool]
    ) -> list[str]:
        """Store each entry encoded, except those that hold a ``secret`` (never written).

        Returns the keys held back for what they hold (a secret, or nesting too deep to
        write); none when there is no database to write to.
        """
        if self._db is None or not entries:
            return []
        rows, held_back = [], []
        for key, value in entries.items():
            if secret(value):
                held_back.append(key)
                continue
            try:
                rows.append((self._namespace, key, encode(value)))
            except (ValueError, RecursionError):
                held_back.append(key)  # nested too deep to write: read from its source again next time
        with contextlib.suppress(sqlite3.Error), self._db:
            self._db.executemany(f"INSERT OR REPLACE INTO {self._TABLE} VALUES (?, ?, ?)", rows)  # noqa: S608
        return held_back


class DetailsCache(_Table):
    """Stores ``(inspect, history)`` per (namespace, image id); use as a context manager."""

    def get_many(self, image_ids: Iterable[str]) -> dict[str, Details]:
        """The cached answers among ``image_ids``; missing or corrupt entries are left out."""
        found: dict[str, Details] = {}
        for image_id, body in self._get_bodies(image_ids):
            entry = _decode(body)
            if entry is not None and entry[0].get("Id", image_id) == image_id:
                found[image_id] = entry
        return found

    def put_many(self, entries: Mapping[str, Details]) -> list[str]:
        """Store each entry; returns the ids of those held back (``_put``)."""
        return self._put_bodies(
            {key: {"inspect": inspect, "history": history} for key, (inspect, history) in entries.items()}
        )


class FactsCache(_Table):
    """What was learnt about one content digest (a JSON object) per (namespace, digest).

    On the containerd image store: what the engine's export says about an image id (its
    platforms' manifests and configs), so that a warm scan exports nothing. The id is the
    digest of an index or manifest, which fixes every byte the export is read for.
    """

    _TABLE = "facts"

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for key, body in self._get_bodies(keys):
            try:
                entry = json.loads(body) if isinstance(body, str) else None
            except ValueError:
                continue
            if isinstance(entry, dict):
                found[key] = entry
        return found

    def put_many(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        self._put_bodies(entries)


class BlobCache(_Table):
    """Registry manifests and image configs, byte for byte, by the digest they were fetched by.

    A digest names its bytes for good, so an entry never goes stale; an entry whose bytes
    no longer hash to its digest (a damaged file) is a miss. ``namespace`` keeps apart
    what different kinds of source store (one namespace serves every registry: the same
    digest is the same bytes wherever it was found).
    """

    _TABLE = "blobs"

    def empty(self) -> bool:
        """Whether nothing is kept in this namespace (a first scan; no cache counts as empty)."""
        if self._db is None:
            return True
        try:
            query = f"SELECT 1 FROM {self._TABLE} WHERE namespace = ? LIMIT 1"  # noqa: S608
            return self._db.execute(query, [self._namespace]).fetchone() is None
        except sqlite3.Error:
            return True

    def get_many(self, digests: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest, body in self._get_bodies(digests):
            if isinstance(body, bytes) and digest_matches(digest, body):
                found[digest] = body
        return found

    def put_many(self, blobs: Mapping[str, bytes]) -> list[str]:
        """Store each blob; returns the digests of those held back (``_put``)."""
        return self._put(blobs, sqlite3.Binary, _blob_holds_secret)


class ResultCache(_Table):
    """A command's finished output per (namespace, what was asked), with the fingerprint of the
    listing it was made from (``sources.base.ImageListing``); use as a context manager.

    One entry per question: an answer made from a new listing replaces the old one, and only
    the newest ``RESULTS_KEPT`` are kept in all. A listing that changed in any way (an image
    added, removed or tagged) never meets an answer made from another. Only
    masked outputs are given to it (never one of ``--show-secrets``), and only of scans whose
    every answer the details cache kept (none held a secret), list included (``put``).
    """

    _TABLE = "results"

    def get(self, question: str, fingerprint: str) -> tuple[str, str] | None:
        """(stdout, stderr) of ``question`` asked of the listing ``fingerprint``, if kept."""
        for _, body in self._get_bodies([question]):
            # A line of JSON, then the output as it is: megabytes read back with no decoding.
            head, newline, stdout = body.partition("\n") if isinstance(body, str) else ("", "", "")
            try:
                entry = json.loads(head) if newline else None
            except ValueError:
                return None
            if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
                return None
            stderr = entry.get("stderr")
            return (stdout, stderr) if isinstance(stderr, str) else None
        return None

    def put(self, question: str, fingerprint: str, stdout: str, stderr: str) -> None:
        """Keep the output. Not read for secrets here (masking it whole took ~1 s for 1,000
        images): an ``ImageListing`` names a fingerprint only for a scan whose every answer the
        cache kept, so the output holds nothing the rule above would hold back."""
        head = json.dumps({"fingerprint": fingerprint, "stderr": stderr})
        self._put({question: f"{head}\n{stdout}"}, str, lambda _: False)
        if self._db is not None:  # the newest few, of every engine: outputs are megabytes
            newest = f"SELECT rowid FROM {self._TABLE} ORDER BY rowid DESC LIMIT ?"  # noqa: S608
            query = f"DELETE FROM {self._TABLE} WHERE rowid NOT IN ({newest})"  # noqa: S608
            with contextlib.suppress(sqlite3.Error), self._db:
                self._db.execute(query, [RESULTS_KEPT])


def digest_matches(digest: str, body: bytes) -> bool:
    """Whether ``body`` hashes to ``digest`` (``sha256:<hex>`` or ``sha512:<hex>``); other
    algorithms never match."""
    algorithm, _, expected = digest.partition(":")
    if algorithm not in {"sha256", "sha512"}:
        return False
    return hashlib.new(algorithm, body).hexdigest() == expected


# Fields of image configs, manifests and engine answers: never a secret's name.
_FIELD_NAMES = frozenset(
    {
        *("created", "created_by", "author", "comment", "empty_layer", "mediaType", "digest", "size"),
        *("architecture", "os", "variant", "type", "artifactType", "schemaVersion", "urls"),
        *("Id", "Created", "CreatedBy", "Comment", "Size", "Os", "Architecture", "Parent", "Type"),
        *("User", "WorkingDir", "StopSignal", "platform", "manifest", "config", "index_digest"),
    }
)


def holds_secret(value: object) -> bool:
    """Whether any text in ``value`` (JSON: objects, lists, strings) holds what ``masking`` masks.

    An object's string members are also read as ``key=value``, as labels are masked
    (``{"password": "hunter2"}``), except under the keys of the formats' own fields
    (``created_by``...), which masking reads alone: half the work on a cold scan.
    """
    # Imported here: a warm scan writes nothing, and the rules' patterns take a while to compile.
    from image_lineage.secret_text import mask_text  # noqa: PLC0415

    return any(mask_text(text) != text for text in _texts(value))


def _texts(value: object) -> set[str]:
    """Every distinct text ``holds_secret`` reads in ``value``, in one walk without recursion:
    an engine's labels nested a few hundred deep (its JSON parses) must not end the scan."""
    texts: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            texts.add(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                pending.append(key)
                pending.append(member)
                if isinstance(member, str) and key not in _FIELD_NAMES:
                    texts.add(f"{key}={member}")
        elif isinstance(item, list):
            pending.extend(item)
    return texts


def _blob_holds_secret(body: bytes) -> bool:
    """A manifest or config: its JSON's texts; anything else, its text as a whole."""
    try:
        return holds_secret(json.loads(body))
    except (ValueError, RecursionError):
        return holds_secret(body.decode("utf-8", "replace"))


def _private(path: Path) -> None:
    """The cache directory, made 0700 with any parent it lacks, and the file in it 0600.

    Made before SQLite opens the file, so that it never exists with wider permissions
    (SQLite gives its journal the file's). An existing file, and an existing directory
    named ``image-lineage`` (ours: an older version made it 0755), are narrowed; a
    directory chosen by ``IMAGE_LINEAGE_CACHE_DIR`` is not (it may be ``/tmp``).
    """
    missing = []
    directory = path.parent
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for old in _OLD_FILES:
            for leftover in (old, f"{old}-journal", f"{old}-wal", f"{old}-shm"):
                (path.parent / leftover).unlink(missing_ok=True)
    ours = [(path.parent, 0o700)] if path.parent.name == _DIRECTORY else []
    for item, mode in [*ours, (path, 0o600)]:
        with contextlib.suppress(OSError):
            if item.stat().st_mode & 0o777 != mode:
                item.chmod(mode)


def _open(path: Path, table: str) -> sqlite3.Connection | None:
    """Open (or create) the database with ``table``; a broken file is moved aside once and recreated."""
    for attempt in (1, 2):
        try:
            _private(path)
            db = sqlite3.connect(path, timeout=5)
            # Commits without fsync: a cache is rebuilt from its sources, and an application
            # crash still cannot tear the file (the journal is kept); only an OS crash
            # mid-commit could, and then a file SQLite cannot open is set aside and a damaged
            # entry is a miss. A cold registry scan's three commits waited ~0.1 s for a busy
            # disk, a few ms so.
            db.execute("PRAGMA synchronous = OFF")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(namespace TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (namespace, id))"
            )
        except sqlite3.DatabaseError:
            if attempt == 2:
                return None
            try:
                path.replace(path.with_suffix(".corrupt"))
            except OSError:
                return None
        except (OSError, sqlite3.Error):
            return None
        else:
            return db
    return None


def _decode(body: object) -> Details | None:
    try:
        entry = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    inspect, history = entry.get("inspect"), entry.get("history")
    if not isinstance(inspect, dict) or not isinstance(history, list):
        return None
    return inspect, history
