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


def mask_image(image: Image, entries: dict[int, HistoryEntry] | None = None) -> Image:
    """``entries`` memoises by object: images share their parents' history entries."""
    memo = {} if entries is None else entries

    def mask_entry(entry: HistoryEntry) -> HistoryEntry:
        if id(entry) not in memo:
            memo[id(entry)] = replace(
                entry, created_by=mask_text(entry.created_by), comment=mask_text(entry.comment)
            )
        return memo[id(entry)]

    history = None if image.history is None else tuple(mask_entry(e) for e in image.history)
    return replace(image, labels=_mask_labels(image.labels), history=history)


def mask_scan(scan: Scan) -> Scan:
    """A scan safe to share (snapshots): the same records, secrets masked."""
    entries: dict[int, HistoryEntry] = {}
    return replace(scan, images=tuple(mask_image(image, entries) for image in scan.images))


def mask_lineage(lineage: Lineage) -> Lineage:
    """The same tree with secrets masked in every image and step it shows."""
    entries: dict[int, HistoryEntry] = {}
    steps: dict[int, Step] = {}  # steps are shared between parent and child: keep sharing them

    def mask_step(step: Step) -> Step:
        if id(step) not in steps:
            steps[id(step)] = replace(
                step, created_by=mask_text(step.created_by), comment=mask_text(step.comment)
            )
        return steps[id(step)]

    def mask_node(node: Node) -> Node:
        return replace(
            node, image=mask_image(node.image, entries), steps=tuple(mask_step(s) for s in node.steps)
        )

    return replace(lineage, by_id={k: mask_node(v) for k, v in lineage.by_id.items()})
