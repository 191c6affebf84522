"""Hide values that look like secrets in what images say about themselves.

Build histories routinely carry credentials: ``ENV API_TOKEN=...``, ``ARG PASSWORD``
values recorded in ``RUN`` lines, ``curl -u user:pass``, ``https://user:pass@host``,
cloud keys, private key blocks. Every output masks them by default; ``--show-secrets``
(and the app's switch) skips this module.

Masking keeps the shape of the text (the variable name, the user name, the URL) and
replaces only the value with ``***``, so a reader still sees what the step did.
It runs after lineage (``mask_lineage``): ancestry compares the real histories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from image_lineage.lineage import Lineage, Node, Step
from image_lineage.model import HistoryEntry, Image, Scan

MASK = "***"

# Variable names that hold a secret: API_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY ...
_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|PASS$|^PASS_|_PASS_|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|"
    r"PRIVATE_?KEY|CREDENTIAL|AUTH_?KEY|SESSION_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY",
    re.IGNORECASE,
)
# ... unless the name says the value points *at* a secret: PASSWORD_FILE=/run/secrets/db.
_POINTER_NAME = re.compile(r"_(?:FILE|PATH|DIR|FILENAME|LOCATION|NAME|LENGTH|POLICY|URL|HOST)$", re.I)
_ASSIGNMENT = re.compile(
    r"(?P<name>(?<![\w.-])[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>=|:[ \t]*)"
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s"';&|]+)"""
)
_PWD_VARIABLE = re.compile(r"^(?:OLD)?PWD$", re.IGNORECASE)  # the shell's working directory
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<value>[^/\s@]+)(?=@)", re.I)
_CLI_USER = re.compile(
    r"(?P<head>(?:\s-u\s*|--user[=\s]+|--proxy-user[=\s]+)['\"]?[^\s:'\"]+:)(?P<value>[^\s'\"]+)"
)
_CLI_SECRET_FLAG = re.compile(
    r"(?P<head>--(?:password|passwd|token|secret|api-key|access-key|client-secret)(?:=|\s+))"
    r"(?P<value>\"[^\"]*\"|'[^']*'|\S+)",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"(?P<head>Authorization:\s*(?:Bearer|Basic|token)\s+)(?P<value>[^\s'\"]+)", re.I)
_PRIVATE_KEY = re.compile(
    r"(?P<head>-----BEGIN [A-Z ]*PRIVATE KEY-----)(?P<value>.*?)(?=-----END [A-Z ]*PRIVATE KEY-----|$)",
    re.DOTALL,
)
# Tokens recognisable on their own, wherever they appear.
_KNOWN_TOKENS = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}\b"  # GitHub
    r"|\bglpat-[A-Za-z0-9_-]{20,}\b"  # GitLab
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}\b"  # Slack
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API key
    r"|\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b"  # OpenAI-style secret key
    r"|\bnpm_[A-Za-z0-9]{36}\b"  # npm
)


def _keep_head(match: re.Match[str]) -> str:
    return match.group("head") + MASK


def _mask_assignment(match: re.Match[str]) -> str:
    name = match.group("name")
    if not _SECRET_NAME.search(name) or _POINTER_NAME.search(name) or _PWD_VARIABLE.match(name):
        return match.group(0)
    value = match.group("value")
    if not value.strip("\"'") or value.startswith("$"):
        return match.group(0)  # empty, or a reference to another variable: nothing to hide
    quote = value[0] if value[0] in "\"'" else ""
    return f"{name}{match.group('sep')}{quote}{MASK}{quote}"


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_PRIVATE_KEY, lambda m: f"{m.group('head')}{MASK}"),
    (_URL_CREDENTIALS, _keep_head),
    (_CLI_USER, _keep_head),
    (_CLI_SECRET_FLAG, _keep_head),
    (_AUTH_HEADER, _keep_head),
    (_ASSIGNMENT, _mask_assignment),
    (_KNOWN_TOKENS, lambda _: MASK),
)


@functools.lru_cache(maxsize=1 << 16)
def mask_text(text: str) -> str:
    """``text`` with every value that looks like a secret replaced by ``***``.

    Cached: children repeat their parents' history lines word for word.
    """
    for pattern, substitute in _RULES:
        text = pattern.sub(substitute, text)
    return text


def _mask_labels(labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    masked = []
    for key, value in labels:
        as_assignment = mask_text(f"{key}={value}")
        masked.append(
            (key, as_assignment.split("=", 1)[1] if as_assignment.startswith(f"{key}=") else mask_text(value))
        )
    return tuple(masked)


_Record = TypeVar("_Record", HistoryEntry, Step)


def _mask_record(record: _Record, memo: dict[int, _Record]) -> _Record:
    """The record with its texts masked: the same object when there was nothing to hide.

    Memoised by object: children share their parents' history entries and steps, and
    keeping them shared keeps the JSON export fast (it encodes each shared step once).
    """
    found = memo.get(id(record))
    if found is None:
        created_by, comment = mask_text(record.created_by), mask_text(record.comment)
        unchanged = created_by == record.created_by and comment == record.comment
        found = record if unchanged else replace(record, created_by=created_by, comment=comment)
        memo[id(record)] = found
    return found


def mask_image(image: Image, entries: dict[int, HistoryEntry] | None = None) -> Image:
    """The image with secrets masked in its history and labels (the same object if none)."""
    memo = {} if entries is None else entries
    history = None if image.history is None else tuple(_mask_record(e, memo) for e in image.history)
    labels = _mask_labels(image.labels)
    if labels == image.labels and _same_items(history, image.history):
        return image
    return replace(image, labels=labels, history=history)


def _same_items(new: tuple[object, ...] | None, old: tuple[object, ...] | None) -> bool:
    if new is None or old is None:
        return new is old
    return all(a is b for a, b in zip(new, old, strict=True))


def mask_scan(scan: Scan) -> Scan:
    """A scan safe to share (snapshots): the same records, secrets masked."""
    entries: dict[int, HistoryEntry] = {}
    return replace(scan, images=tuple(mask_image(image, entries) for image in scan.images))


def mask_lineage(lineage: Lineage) -> Lineage:
    """The same tree with secrets masked in every image and step it shows."""
    entries: dict[int, HistoryEntry] = {}
    steps: dict[int, Step] = {}

    def mask_node(node: Node) -> Node:
        image = mask_image(node.image, entries)
        masked_steps = tuple(_mask_record(s, steps) for s in node.steps)
        if image is node.image and _same_items(masked_steps, node.steps):
            return node
        return replace(node, image=image, steps=masked_steps)

    return replace(lineage, by_id={k: mask_node(v) for k, v in lineage.by_id.items()})
