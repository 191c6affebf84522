"""Command-line interface: ``main(argv) -> int`` is the only place that prints or exits.

    image-lineage tree                          the family tree in the terminal
    image-lineage export -o f.svg               the format from the name: svg, png, pdf, html, dot, ...
    image-lineage snapshot -o scan.json         the scanned records, for later use
    image-lineage stale                         the images built on an outdated base
    image-lineage files IMAGE                   the files each layer of IMAGE adds, changes and removes

Expected failures (no daemon, denied socket, unknown image, no Graphviz) become one
line on stderr and exit status 1; usage errors exit with 2. ``stale`` answers a question
with its status, for CI, as ``diff`` and ``grep`` do: 0 when no image is on an outdated
base, 1 when some are, 2 for any error (usage or expected failure).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from image_lineage import __version__, cli_memo, platforms, views
from image_lineage.errors import Hint, LineageError, with_remedy
from image_lineage.lineage import Lineage, describe
from image_lineage.messages import inert, one_line
from image_lineage.model import Scan
from image_lineage.render import BINARY_FORMATS, EXTENSIONS, FORMATS, RANKDIRS, format_for, render
from image_lineage.render.text import render_text
from image_lineage.sources import SPEC_HELP, Source, engine_spec, open_source, scan_auto, scan_sources
from image_lineage.sources.base import DEFAULT_TIMEOUT, ImageListing, ListsFirst
from image_lineage.sources.engine.contexts import CONTEXT_PREFIX
from image_lineage.stale import SCHEMA, noted, recorded_references, stale_images
from image_lineage.text import clean_text
from image_lineage.views import PlatformSelection

if TYPE_CHECKING:
    from image_lineage import pipeline

PROG = "image-lineage"
STALE_FORMATS = ("text", "json")
STALE_SCHEMA = SCHEMA
FILES_SCHEMA = "image-lineage.files/v1"
STALE_ERROR = 2  # stale's status for errors: 1 means "some images are on an outdated base"
MAX_TIMEOUT = 86_400
STDOUT = Path("-")

# How the terminal words each remedy an error names (the app words them as widgets).
HINTS = {
    Hint.TRY_SAMPLE: "or try --source sample",
    Hint.RAISE_TIMEOUT: "or raise --timeout",
    Hint.REGISTRY_ADDRESS: "write it as registry:https://HOST[:PORT][/REPOSITORY]",
    Hint.CHOOSE_CONTEXT: "name one that docker context ls lists (--context NAME, or docker context use NAME)",
    Hint.ADD_SCHEME: "add unix:// or tcp:// in front of it (tcp://HOST:2375, unix:///PATH)",
    Hint.CHOOSE_SOURCE: f"use one of {SPEC_HELP}, or auto",
    Hint.WRITE_TO_FILE: "add -o FILE",
    Hint.SHOW_ALL: "add --all to include intermediate images",
    Hint.ALL_PLATFORMS: "add --platform all",
    Hint.CONTAINERD_ADDRESS: "or name its socket and namespace: "
    "--source 'containerd:/PATH/containerd.sock?namespace=NS' (?namespace=all reads every one)",
    Hint.CONTAINERD_NAMESPACE: "name the one to read with --source 'containerd:SOCKET?namespace=NS' "
    "(?namespace=all reads every one)",
}


def error_line(error: LineageError, *, everything_read: bool = False) -> str:
    """What happened, then the remedy in the terminal's words: one line of inert text.

    ``everything_read``: ``--all`` was given, so adding it is no remedy (nothing is hidden).
    """
    remedies: Mapping[Hint, str] = (
        {h: w for h, w in HINTS.items() if h is not Hint.SHOW_ALL} if everything_read else HINTS
    )
    return one_line(error, remedies)


# An example or two for each command's --help (a command without one fails a test).
EXAMPLES = {
    "": """\
examples:
  image-lineage tree                                 the local Docker Engine's images
  image-lineage tree --source sample                 the bundled sample, no engine needed
  image-lineage export -o lineage.html               one page to open in a browser
  image-lineage COMMAND --help                       each command's options""",
    "tree": """\
examples:
  image-lineage tree --source sample
  image-lineage tree --filter 'notebook$|python'     matching names, with their ancestors
  image-lineage tree --focus jupyter/base-notebook   one image's ancestors and descendants
  image-lineage tree --source unix:///run/user/1000/docker.sock --all""",
    "export": """\
examples:
  image-lineage export -o lineage.svg                the format from the file's extension
  image-lineage export --format mermaid > tree.mmd
  image-lineage export --rankdir LR --focus python -o python.png""",
    "snapshot": """\
examples:
  image-lineage snapshot -o scan.json                record this machine's images
  image-lineage tree --source snapshot:scan.json     replay them anywhere, no engine needed""",
    "stale": """\
examples:
  image-lineage stale                                exit status 1 when an image needs a rebuild
  image-lineage stale --format json --filter '^team/'
  image-lineage stale --resolve                      also ask each recorded base's registry""",
    "files": """\
examples:
  image-lineage files jupyter/scipy-notebook         its filesystem, each entry's size and step
  image-lineage files --source archive:app.tar app:1.0 --layer 2
  image-lineage files app:1.0 --hidden               the bytes it ships for nothing
  image-lineage files app:1.0 --ci --lowest-efficiency 0.9""",
}


def extensions_help() -> str:
    """Each format with the extensions that name it, from ``EXTENSIONS`` (the one table)."""
    by_format: dict[str, list[str]] = {}
    for extension, fmt in EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(extension)
    return ", ".join(f"{fmt} ({' '.join(names)})" for fmt, names in by_format.items())


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    scan = common.add_argument_group("what to read")
    scan.add_argument(
        "--source",
        action="append",
        metavar="SPEC",
        help=f"where the images come from: {SPEC_HELP}, or auto (docker, else the sample); "
        "give it several times to read several sources as one tree (default: docker)",
    )
    scan.add_argument(
        "--context",
        metavar="NAME",
        help="with --source docker: the engine of this docker context, as docker --context "
        "(default: DOCKER_HOST, else DOCKER_CONTEXT, else the context of docker context use)",
    )
    scan.add_argument(
        "--all", action="store_true", help="also show the hidden intermediate images (docker images -a)"
    )
    scan.add_argument(
        "--collapse",
        action="store_true",
        help="with --all: hide intermediate images that only continue a chain (keep branch points)",
    )
    scan.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for each answer of the engine",
    )
    scan.add_argument(
        "--no-cache",
        action="store_true",
        help="ignore the on-disk cache (image details, and the output kept per image list)",
    )
    view = common.add_argument_group("what to show")
    view.add_argument("--focus", metavar="IMAGE", help="only IMAGE, its ancestors and its descendants")
    view.add_argument(
        "--filter",
        metavar="REGEX",
        help=f"only images whose name matches, with their ancestors: {views.FILTER_MEANING} "
        "(notebook$ keeps jupyter/base-notebook:2026-11; anchor with ^ and $)",
    )
    view.add_argument(
        "--platform",
        type=_platform,
        metavar="OS/ARCH[/VARIANT]",
        help="only images of this platform (linux/arm64, linux/arm/v7), or all; images of unknown "
        f"platform always show (default: this machine's, {platforms.host_platform()}, "
        "or all when no image is of it)",
    )
    view.add_argument(
        "--show-secrets",
        action="store_true",
        help="do not mask values that look like secrets (tokens, passwords, keys) in histories and labels",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Show how container images inherit from each other.",
        epilog=EXAMPLES[""],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    notes = argparse.ArgumentParser(add_help=False)
    notes.add_argument(
        "--notes",
        action="store_true",
        help="list what was noticed about the images (ambiguous parents, ...) on stderr",
    )

    def command(
        name: str, parents: list[argparse.ArgumentParser], *, help: str, description: str | None = None
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=parents,
            help=help,
            description=description,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    tree = command("tree", [common, notes], help="print the family tree")
    tree.add_argument("--ascii", action="store_true", help="ASCII branches instead of box drawing")

    export = command("export", [common, notes], help="write the tree as a file")
    export.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        metavar="FORMAT",
        help=f"{', '.join(FORMATS)}; default: what the extension of -o names, {extensions_help()}; else svg",
    )
    export.add_argument(
        "--rankdir", choices=RANKDIRS, default="TB", help="TB: roots on top; LR: left to right"
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    snap = command(
        "snapshot", [common], help="save the scanned records to replay with --source snapshot:FILE"
    )
    snap.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="the JSON file to write (secrets masked unless --show-secrets); read it back with "
        "--source snapshot:FILE, here or on another machine",
    )

    stale = command(
        "stale",
        [common, notes],
        help="list the images built on an outdated base (exit status 1 when there are some)",
        description="List the images built on an older build of a base whose tag now names a\n"
        "newer build, grouped by base. Exit status: 0 none, 1 some, 2 error (for CI).",
    )
    stale.add_argument(
        "--format", "-f", choices=STALE_FORMATS, default="text", help=f"json: the {STALE_SCHEMA} schema"
    )
    stale.add_argument(
        "--resolve",
        action="store_true",
        help="also ask the registry each recorded base reference names what its tag names now "
        "(one HEAD each; off by default: stale reaches no network unasked)",
    )
    _files_parser(commands, common)
    return parser


def _files_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    files = commands.add_parser(
        "files",
        parents=[common],
        help="the files each layer of an image adds, changes and removes, and what ships for nothing",
        description="The image's final filesystem as a tree (each entry's size and the layer that "
        "last wrote it), one layer's changes (--layer), or what ships for nothing (--hidden). "
        "Only tar headers are read: nothing is extracted. Exit status: 0, 1 when a --ci threshold "
        "is crossed, 2 for any error.",
        epilog=EXAMPLES["files"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    files.add_argument("image", metavar="IMAGE", help="a tag, a repository or an id (prefix)")
    files.add_argument(
        "--layer", metavar="N|DIGEST", help="one layer's changes: its index (0 is the base) or diff id"
    )
    files.add_argument(
        "--format", "-f", choices=STALE_FORMATS, default="text", help=f"json: the {FILES_SCHEMA} schema"
    )
    files.add_argument(
        "--hidden",
        action="store_true",
        help="list what ships for nothing (written, then removed or replaced)",
    )
    files.add_argument("--ascii", action="store_true", help="ASCII branches instead of box drawing")
    ci = files.add_argument_group("CI (dive's rules: exit status 1 when one is crossed)")
    ci.add_argument("--ci", action="store_true", help="check the three thresholds below")
    ci.add_argument("--lowest-efficiency", type=_ratio, default=0.9, metavar="RATIO", help="default: 0.9")
    ci.add_argument("--highest-wasted-bytes", type=int, metavar="BYTES", help="default: not checked")
    ci.add_argument(
        "--highest-user-wasted-percent",
        type=_ratio,
        default=0.1,
        metavar="RATIO",
        help="wasted bytes over the bytes the layers above the first add; default: 0.1",
    )


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # wasted bytes may be several times what the layers add
        raise argparse.ArgumentTypeError(f"{text!r} is not a ratio of 0 or more (0.1 is 10 %)")
    return value


def _platform(text: str) -> str:
    wanted = text.strip().lower()
    if wanted != platforms.ALL and not platforms.is_valid(wanted):
        raise argparse.ArgumentTypeError(f"{text!r} is not all or OS/ARCH[/VARIANT], such as linux/arm64")
    return wanted


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds more than 0 and at most {MAX_TIMEOUT}"
        )
    return value


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = _tolerant(stdout or sys.stdout)
    err = _tolerant(stderr or sys.stderr)
    args = build_parser().parse_args(argv)
    if getattr(args, "output", None) == STDOUT:  # -o -: standard output, as most tools read it
        args.output = None
    failed = STALE_ERROR if args.command in {"stale", "files"} else 1
    try:
        return _command(args, out, err)
    except LineageError as error:
        print(f"{PROG}: error: {error_line(error, everything_read=args.all)}", file=err)
        return failed
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130
    except BrokenPipeError:
        # `image-lineage tree | head`: the reader left; that is not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The command asked for; its expected failures raise ``LineageError``."""
    listing = _listing(args)
    if listing is not None:
        with listing:
            return _show_listed(listing, args, out, err)
    scans, options = [_scan(args, err)], _options(args)
    _tell_unused(args, err)
    # The pipeline and masking are imported on use: a warm tree or export answered from the
    # cache (cli_memo) needs neither, and their imports (the masking rules' patterns) were
    # a tenth of its time.
    from image_lineage import pipeline  # noqa: PLC0415

    if args.command == "snapshot":
        from image_lineage.masking import mask_scan  # noqa: PLC0415
        from image_lineage.sources.snapshot import dumps as snapshot_dumps  # noqa: PLC0415

        selected = pipeline.select(scans, options)
        scan = selected.scan
        _write(args.output, snapshot_dumps(scan if args.show_secrets else mask_scan(scan)), out)
        print(f"Saved {len(scan.images)} images to {args.output or 'standard output'}", file=err)
        _tell_hidden(selected.platforms, given=args.platform, err=err)
        return 0
    if args.command in {"files", "stale"}:  # questions answered by the exit status too (CI)
        return _answer(scans, options, args, out, err)
    _show(scans, options, args, out, err)
    return 0


def _listing(args: argparse.Namespace) -> ImageListing | None:
    """The source's image list, when ``tree`` or ``export`` read one source that lists first (an
    engine, containerd) with the cache and masking on: what it printed for the same question of
    the same list is printed again."""
    if args.command not in {"tree", "export"} or args.show_secrets or args.no_cache:
        return None
    if (
        args.command == "export"
        and (args.format or format_for((args.output or STDOUT).name)) not in cli_memo.FORMATS
    ):
        return None  # svg by default; a name that names no format is refused after the scan, as before
    specs = _specs(args)
    if len(specs) != 1 or (specs == ["auto"] and not args.context):  # auto may fall back: _scan
        return None
    source = _open(args, specs[0])
    if not isinstance(source, ListsFirst):
        return None
    return source.image_list(include_intermediate=args.all)


def _show_listed(listing: ImageListing, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``tree`` or ``export`` of one source's listing: from what was kept for it, else made and kept."""
    asked = cli_memo.question(args, host=platforms.host_platform(), boxes=_can_encode(out))
    kept = cli_memo.recall(listing, asked, datetime.now(UTC))
    if kept is not None:
        _tell_unused(args, err)
        stdout, stderr = kept
        _write(getattr(args, "output", None), stdout, out)  # tree has no -o
        err.write(stderr)
        return 0
    scans = [_scan(args, err, listing)]
    _tell_unused(args, err)
    told = io.StringIO()
    shown = _show(scans, _options(args), args, out, told)
    err.write(told.getvalue())
    if isinstance(shown, str):
        cli_memo.remember(listing, asked, scans[0].source.scanned_at, shown, told.getvalue())
    return 0


def _show(
    scans: list[Scan], options: pipeline.Options, args: argparse.Namespace, out: TextIO, err: TextIO
) -> str | bytes:
    """``tree`` or ``export``: writes the tree, then its notes on ``err``; returns what it wrote."""
    from image_lineage import pipeline  # noqa: PLC0415 - see _command

    result = pipeline.run(scans, options)
    # Images on an outdated base are marked in the tree and every export, as in the app.
    lineage, host = (
        noted(result.shown, stale_images(result.real, only=result.shown.by_id)),
        result.selected.host,
    )
    shown: str | bytes
    if args.command == "tree":
        ascii_only = args.ascii or not _can_encode(out)
        shown = render_text(lineage, ascii_only=ascii_only, host_platform=host)
        out.write(shown)
    else:
        fmt = _export_format(args.format, args.output)
        if args.output is None and fmt in BINARY_FORMATS and out.isatty():
            raise LineageError(f"Refusing to write {fmt} to a terminal.", hint=Hint.WRITE_TO_FILE)
        shown = render(lineage, fmt, rankdir=args.rankdir, host_platform=host)
        _write(args.output, shown, out)
    _tell_hidden(result.selected.platforms, given=args.platform, err=err)
    _tell_unmatched(result, args.filter, err=err)
    _tell_notes(lineage, listed=args.notes, err=err)
    return shown


def _answer(
    scans: list[Scan], options: pipeline.Options, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """``files`` (1 when a ``--ci`` threshold is crossed) or ``stale`` (1 when some images are)."""
    from image_lineage import pipeline  # noqa: PLC0415 - see _command

    if args.command == "files":
        from image_lineage.cli_files import files_command  # noqa: PLC0415 - only this command reads layers

        args.ascii = args.ascii or not _can_encode(out)
        spec = _with_context(_specs(args)[0], args.context)  # the engine the scan read
        return files_command(pipeline.run(scans, options), spec, args, out, err)
    # Judged among every image read, listed among those shown. --collapse is ignored
    # here, as it always was: it changes how a tree is drawn, not what is outdated.
    return _stale(pipeline.run(scans, replace(options, collapse=False)), args, out, err)


def _stale(result: pipeline.Shown, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The images to rebuild among those the view shows, judged against every image read."""
    # Imported here: the stale report's text needs insights, which tree and export don't.
    from image_lineage.render.stale import render_stale_json, render_stale_text  # noqa: PLC0415

    view = result.shown
    resolved: dict[str, str] = {}
    if args.resolve:
        from image_lineage.sources.resolve import resolve_tags  # noqa: PLC0415 - only --resolve speaks HTTP

        resolved, unresolved = resolve_tags(recorded_references(result.real), args.timeout)
        for note in unresolved:
            print(clean_text(f"{PROG}: could not resolve {note.message}"), file=err)
    report = stale_images(result.real, only=view.by_id, resolved=resolved)
    masked = not args.show_secrets
    if args.format == "json":
        out.write(render_stale_json(report, masked=masked))
    else:
        out.write(render_stale_text(report, view, host_platform=result.selected.host, masked=masked))
    _tell_hidden(result.selected.platforms, given=args.platform, err=err)
    _tell_unmatched(result, args.filter, err=err)
    _tell_notes(view, listed=args.notes, err=err)
    return 1 if report else 0


def _export_format(given: str | None, output: Path | None) -> str:
    """``--format`` when given (it wins over the file name), else what ``-o``'s extension names."""
    if given is not None:
        return given
    if output is None:
        return "svg"
    fmt = format_for(output.name)
    if fmt is None:
        raise LineageError(
            f"{output.name!r} names no format: add --format, or end the file name with "
            f"{' '.join(EXTENSIONS)}."
        )
    return fmt


def _options(args: argparse.Namespace) -> pipeline.Options:
    """What to show: the platform asked for (by default this machine's), the filter and focus
    given. The sources already left out intermediate images unless ``--all``."""
    from image_lineage import pipeline  # noqa: PLC0415 - see _command

    return pipeline.Options(
        platform=args.platform,
        collapse=args.collapse,
        show_secrets=args.show_secrets,
        filter=args.filter,
        focus=args.focus,
    )


def _tell_unused(args: argparse.Namespace, err: TextIO) -> None:
    """One line for an option that changes nothing here, rather than ignoring it silently."""
    if args.command == "snapshot":
        given = [f"--{name}" for name in ("filter", "focus", "collapse") if getattr(args, name, None)]
        if given:
            print(
                f"{PROG}: a snapshot keeps every image read; {', '.join(given)} apply when it is read "
                "(tree --source snapshot:FILE ...)",
                file=err,
            )
    elif args.collapse and not args.all:
        print(f"{PROG}: --collapse hides intermediate images, which only --all shows: add --all", file=err)


def _tell_hidden(shown: PlatformSelection, *, given: str | None, err: TextIO) -> None:
    """One line when the default platform hides images (or a platform asked for shows none)."""
    note = shown.note()
    if note and (given is None or not shown.images):
        print(f"{PROG}: {inert(with_remedy(note, HINTS[Hint.ALL_PLATFORMS]))}", file=err)


def _tell_unmatched(result: pipeline.Shown, pattern: str | None, *, err: TextIO) -> None:
    """One line when ``--filter`` kept none of the images read: what it was matched against.

    The status stays 0, as ``docker images --filter`` and ``kubectl get -l`` leave it: an
    empty tree is an answer, and ``stale`` keeps its statuses for outdated bases.
    """
    if pattern and not len(result.filtered) and len(result.everything):
        print(f"{PROG}: {inert(views.filter_note(result.everything, pattern))}", file=err)


def _tell_notes(lineage: Lineage, *, listed: bool, err: TextIO) -> None:
    """Diagnostics go to stderr after the output: counted by default, one a line with ``--notes``."""
    notes = lineage.diagnostics
    if not notes:
        return
    if not listed:
        one = len(notes) == 1
        print(
            f"{len(notes)} {'note' if one else 'notes'} about these images: "
            f"add --notes to read {'it' if one else 'them'}",
            file=err,
        )
        return
    for note in notes:
        about = "" if note.image is None else f"{describe(lineage, note.image)}: "
        print(clean_text(about + note.message), file=err)


def _scan(args: argparse.Namespace, err: TextIO, listing: ImageListing | None = None) -> Scan:
    progress = _ProgressBar(err) if err.isatty() else None
    try:
        if listing is not None:
            return listing.scan(progress)
        specs = _specs(args)
        if specs == ["auto"] and not args.context:
            scan, fallback = scan_auto(
                include_intermediate=args.all,
                progress=progress,
                timeout=args.timeout,
                use_cache=not args.no_cache,
            )
            if fallback is not None:
                print(f"{PROG}: {one_line(fallback, {})}", file=err)
                print(f"{PROG}: showing the bundled sample images instead.", file=err)
            return scan
        if len(specs) == 1:
            return _open(args, specs[0]).scan(include_intermediate=args.all, progress=progress)
        return scan_sources(
            _with_contexts(specs, args.context),
            include_intermediate=args.all,
            progress=progress,
            timeout=args.timeout,
            use_cache=not args.no_cache,
        )
    finally:
        if progress:
            progress.close()


def _specs(args: argparse.Namespace) -> list[str]:
    """The ``--source`` specs given, each once, in order (``docker`` when none is)."""
    given: list[str] | None = args.source
    return list(dict.fromkeys(engine_spec(spec) for spec in given or ["docker"]))


def _open(args: argparse.Namespace, spec: str) -> Source:
    return open_source(_with_context(spec, args.context), timeout=args.timeout, use_cache=not args.no_cache)


def _with_contexts(specs: list[str], context: str | None) -> list[str]:
    """With several sources, ``--context`` is the address of the engine given without one (docker)."""
    if not context:
        return specs
    if "docker" not in specs:
        engines = [spec for spec in specs if spec.startswith("docker:")]
        _with_context((engines or specs)[0], context)  # raises: says why it fits none of them
    return [_with_context(spec, context) if spec == "docker" else spec for spec in specs]


def _with_context(spec: str, context: str | None) -> str:
    """``--context NAME`` as the docker source's address ``context:NAME``; like docker, not with a host."""
    if not context:
        return spec
    if spec == "docker":
        return f"docker:{CONTEXT_PREFIX}{context}"
    if spec.startswith("docker:"):
        raise LineageError(
            f"--context {context} and the engine address of --source {spec} name two engines: give one."
        )
    raise LineageError(f"--context names a Docker Engine; --source {spec} reads none: use --source docker.")


def _write(path: Path | None, content: str | bytes, out: TextIO) -> None:
    if path is None:
        if isinstance(content, str):
            out.write(content)
            return
        binary = getattr(out, "buffer", None)
        if binary is None:
            raise LineageError("This output stream takes no binary data.", hint=Hint.WRITE_TO_FILE)
        out.flush()
        binary.write(content)
        binary.flush()
        return
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise LineageError(f"Cannot write {path}: {error.strerror or error}.") from error


def _tolerant(stream: TextIO) -> TextIO:
    """``stream``, writing ``?`` for what its encoding lacks (an ASCII or Latin-1 terminal, a
    ``PYTHONIOENCODING=ascii`` pipe) instead of raising ``UnicodeEncodeError`` mid-output:
    image names, ``…`` and ``→`` are text any image may hold."""
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        stream.reconfigure(errors="replace")
    return stream


def _can_encode(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:  # an in-memory text stream takes any character
        return True
    try:
        "├└│".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@dataclass
class _ProgressBar:
    """``scanning images  412/1000`` on stderr, only once a scan has taken half a second."""

    stream: TextIO
    started: float = 0.0
    shown: bool = False
    delay: float = 0.5

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and time.monotonic() - self.started < self.delay:
            return
        self.shown = True
        width = 30
        filled = width * done // max(total, 1)
        self.stream.write(f"\rscanning images [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
