"""The lesson view's material, for a class in front of a projector: plain data, no Streamlit.

* ``families``: the trees of a lineage, one per root, to teach one at a time.
* ``tower``: one image's build steps, oldest first, each with the image (the base, an
  ancestor, the image itself) whose build made it and that image's colour
  (``render.lesson`` draws its layers as a stack, oldest at the bottom: "your code runs
  on layers", up to a step, so that stepping through the build grows it).
* ``pull_plan``: what ``docker pull`` downloads when the parent is already here.
* ``outside_world``: how a container of the image meets the outside world (ports,
  volumes, entrypoint and command, user, working directory), one sentence each, and the
  ``docker run`` line that uses them.

Every text from an image goes through ``clean_text``; in the ``docker run`` line every value
from the image is shell-quoted (``shlex.quote``). Nothing here draws.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from image_lineage import families as family_tree
from image_lineage.bases import outside_text, short_digest
from image_lineage.families import Family
from image_lineage.insights import instruction
from image_lineage.instructions import short_content_hashes
from image_lineage.lineage import Lineage, Node
from image_lineage.model import Image, SizeKind
from image_lineage.text import clean_text, unbroken_size

# Okabe-Ito: told apart with the common colour blindnesses, and on a washed-out projector.
ANCESTOR_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
ITSELF_COLOUR = "#D55E00"
family_of = family_tree.family_of  # one family type for every view (``families``)

NAME_LIMIT = 44


# --------------------------------------------------------------------------- families


def families(lineage: Lineage) -> list[Family]:
    """Smallest first (a lesson starts simple), then in the tree's order."""
    return sorted(family_tree.families(lineage), key=lambda family: len(family.members))


def family_label(lineage: Lineage, family: Family) -> str:
    """The family as the lesson's menu (labelled "Family") names it: its base and its count,
    short enough for a half-width menu at the lesson's type at 1280 px. On a base that is not
    here, its name, that it is not here and the count first, its digest (which tells two builds
    of one tag apart) last, where the menu may cut it."""
    count = f"{len(family.members)} image{'s' if len(family.members) != 1 else ''}"
    outside = lineage.node(family.root).outside
    if outside is None:
        return f"{family.name} · {count}"
    name = clean_text(outside.reference or "an image", 80)
    digest = f" · {short_digest(clean_text(outside.digest, 80))}" if outside.digest else ""
    return f"{name} (not here) · {count}{digest}"


def default_image(lineage: Lineage, family: Family) -> str:
    """The deepest tagged image of the family (the longest tower to teach from)."""
    nodes = [lineage.node(i) for i in family.members]
    return max(nodes, key=lambda n: (bool(n.image.tags), len(lineage.ancestors(n.id)))).id


# --------------------------------------------------------------------------- the layer tower


@dataclass(frozen=True, slots=True)
class Contributor:
    """An image of the chain (base first, the image itself last) and what it adds."""

    image_id: str
    name: str
    role: str  # "base", "ancestor" or "itself"
    colour: str
    layers: int
    size: int


@dataclass(frozen=True, slots=True)
class TowerStep:
    """One build step: ``layer`` is False for a step that changed only the settings."""

    number: int
    instruction: str
    size: int
    layer: bool
    contributor: int  # index into Tower.contributors


@dataclass(frozen=True, slots=True)
class Tower:
    image_id: str
    name: str
    contributors: tuple[Contributor, ...]
    steps: tuple[TowerStep, ...]
    size_kind: SizeKind
    # The base the chain's first image was built on, not here (``bases.outside_text``): that
    # image's steps include the base's, and which of them the base ran is not known here.
    base_not_here: str = ""

    def layers(self, upto: int | None = None) -> list[TowerStep]:
        """The steps that made a layer, oldest first, up to step ``upto`` (all when None)."""
        last = len(self.steps) if upto is None else upto
        return [s for s in self.steps if s.layer and s.number <= last]

    def step_title(self, number: int) -> str:
        """``Step 7 of 20 adds 24.0 MB``: what step ``number`` does to the tower."""
        step = self.steps[number - 1]
        head = f"Step {number} of {len(self.steps)}"
        if not step.layer:
            return f"{head} adds no layer"
        if step.size == 0:
            return f"{head} adds an empty layer"
        return f"{head} adds {unbroken_size(step.size)}"

    def so_far(self, number: int) -> str:
        """``The tower so far: 8 layers, 34.3 MB``: what steps 1 to ``number`` built."""
        built = self.layers(number)
        count = f"{len(built)} layer{'s' if len(built) != 1 else ''}"
        return f"The tower so far: {count}, {unbroken_size(sum(s.size for s in built))}"

    def step_detail(self, number: int) -> str:
        """Why, and whose build ran the step."""
        step = self.steps[number - 1]
        who = self.contributors[step.contributor].name
        what = (
            "It only changes the image's settings (0\u00a0B)."
            if not step.layer
            else "A layer with no files in it (0\u00a0B)."
            if step.size == 0
            else f"A layer of {unbroken_size(step.size)}: the files this step wrote."
        )
        if step.contributor == 0 and self.base_not_here:
            return f"{what} It comes from the build of {who} or of its base, {self.base_not_here}."
        return f"{what} It comes from the build of {who}."


def tower(lineage: Lineage, image_id: str) -> Tower:
    node = lineage.node(image_id)
    chain = [*reversed(lineage.ancestors(image_id)), node]
    index = {n.id: i for i, n in enumerate(chain)}
    steps = tuple(
        TowerStep(
            number=number,
            instruction=instruction(step.created_by, step.comment),
            size=step.size,
            layer=step.diff_id is not None,
            # A step of an image not in the chain (hidden): the oldest image that shows it.
            contributor=index.get(step.introduced_by, 0),
        )
        for number, step in enumerate(node.steps, start=1)
    )
    contributors = tuple(
        _contributor(n, i, len(chain), [s for s in steps if s.contributor == i]) for i, n in enumerate(chain)
    )
    first = chain[0]
    return Tower(
        image_id,
        clean_text(node.image.display_name, NAME_LIMIT),
        contributors,
        steps,
        node.image.size_kind,
        clean_text(outside_text(first.outside), NAME_LIMIT * 2) if first.outside and not first.parent else "",
    )


def _contributor(node: Node, index: int, count: int, steps: list[TowerStep]) -> Contributor:
    itself = index == count - 1
    return Contributor(
        image_id=node.id,
        name=clean_text(node.image.display_name, NAME_LIMIT),
        role="itself" if itself else "base" if index == 0 else "ancestor",
        colour=ITSELF_COLOUR if itself else ANCESTOR_COLOURS[index % len(ANCESTOR_COLOURS)],
        layers=sum(s.layer for s in steps),
        size=sum(s.size for s in steps),
    )


TOWER_NOTE = (
    "Each block is a layer: the files one step added, oldest at the bottom. Its colour says whose "
    "build made it; the outlined block is the current step's. Steps such as ENV, LABEL or CMD change "
    "only the settings and add no layer."
)


def tower_label(text: str) -> str:
    """An instruction short enough for a layer: content hashes cut to their first digits, and
    runs of spaces (a RUN's continued lines) made one."""
    return short_content_hashes(" ".join(text.split()))


# --------------------------------------------------------------------------- docker pull

SIZE_KIND_TEXT = {
    "unpacked": "Sizes are unpacked, as docker history shows them: the download itself is compressed, "
    "so it is usually smaller.",
    "tar": "Sizes are the layers' uncompressed tar files (from a saved archive): the download itself is "
    "compressed, so it is usually smaller.",
    "compressed": "Sizes are compressed, as the registry stores the layers: what the pull downloads.",
}


@dataclass(frozen=True, slots=True)
class PullPlan:
    """What ``docker pull IMAGE`` fetches when ``parent`` (None: a root) is already here."""

    image: str
    parent: str | None
    present: tuple[TowerStep, ...]
    download: tuple[TowerStep, ...]
    size_kind: SizeKind
    outside: str = ""  # the base its build recorded, not here (``bases.outside_text``), for a root

    @property
    def download_size(self) -> int:
        return sum(s.size for s in self.download)

    @property
    def present_size(self) -> int:
        return sum(s.size for s in self.present)

    def summary(self) -> str:
        count = len(self.download)
        layers = f"{count} layer{'s' if count != 1 else ''}"
        if self.parent is None:
            on = f"on {self.outside}" if self.outside else "on nothing here"
            return (
                f"{self.image} is built {on}: docker pull downloads all of it, "
                f"{layers} ({unbroken_size(self.download_size)})."
            )
        if not count:
            return (
                f"With {self.parent} already here, docker pull downloads no layer: only the image's settings."
            )
        return (
            f"With {self.parent} already here, docker pull downloads {layers} "
            f"({unbroken_size(self.download_size)}); "
            f"the other {len(self.present)} ({unbroken_size(self.present_size)}) already exist."
        )


def pull_plan(lineage: Lineage, image_id: str) -> PullPlan:
    """The image's layers that are not in its parent's, each once (a layer is fetched once)."""
    node = lineage.node(image_id)
    data = tower(lineage, image_id)
    parent = lineage.node(node.parent) if node.parent is not None and node.parent in lineage else None
    have = set(parent.image.layers) if parent else set()
    present, download = [], []
    for step, lineage_step in zip(data.steps, node.steps, strict=True):
        if lineage_step.diff_id is None:
            continue
        if lineage_step.diff_id in have:
            present.append(step)
        else:
            download.append(step)
            have.add(lineage_step.diff_id)
    return PullPlan(
        image=data.name,
        parent=clean_text(parent.image.display_name, NAME_LIMIT) if parent else None,
        present=tuple(present),
        download=tuple(download),
        size_kind=data.size_kind,
        outside=clean_text(outside_text(node.outside), NAME_LIMIT * 2) if node.outside and not parent else "",
    )


# --------------------------------------------------------------------------- the outside world


@dataclass(frozen=True, slots=True)
class Setting:
    """One thing the image's config says about running it: what it is, its value, what it means."""

    name: str
    value: str
    meaning: str
    literal: bool = True  # the value is the image's own (shown as code); False: words of ours


@dataclass(frozen=True, slots=True)
class RunPart:
    """A piece of the ``docker run`` line and what it does."""

    text: str
    meaning: str


@dataclass(frozen=True, slots=True)
class OutsideWorld:
    settings: tuple[Setting, ...]
    run_line: str
    parts: tuple[RunPart, ...]
    note: str | None = None  # why the settings are not known, when they are not


_PORT = re.compile(r"^(?P<port>\d{1,5}(?:-\d{1,5})?)(?:/(?P<protocol>tcp|udp|sctp))?$")
_VOLUME_NAME = re.compile(r"[^A-Za-z0-9_.-]")
NO_RUN_CONFIG = (
    "This source did not record how a container of the image starts (a snapshot made "
    "before image-lineage read it): make the snapshot again to see its ports, volumes and command."
)


def reference(image: Image) -> str:
    """How ``docker run`` names the image: its first tag, else its short id."""
    return clean_text(image.tags[0], 300) if image.tags else image.short_id


def _words(arguments: tuple[str, ...]) -> str:
    return clean_text(shlex.join(arguments), 300)


def outside_world(image: Image) -> OutsideWorld:
    config = image.run_config
    name = reference(image)
    if config is None:
        return OutsideWorld((), run_line(image), (), NO_RUN_CONFIG)
    ports = [clean_text(p, 40) for p in config.exposed_ports]
    volumes = [clean_text(v, 200) for v in config.volumes]
    settings = [
        _setting(
            "Exposed ports",
            ", ".join(ports),
            "none",
            "The ports its program listens on (EXPOSE). Exposing only documents them: "
            "-p in docker run is what connects one to this machine."
            if ports
            else "It declares no port: it is not a server you reach from outside.",
        ),
        _setting(
            "Volumes",
            ", ".join(volumes),
            "none",
            "Folders whose contents outlive the container (VOLUME): Docker keeps them outside its layers."
            if volumes
            else "It declares none: what a container writes is lost with it, unless you mount a folder (-v).",
        ),
        _setting(
            "Entrypoint",
            _words(config.entrypoint),
            "none",
            "The program every container starts with (ENTRYPOINT); the command is handed to it as arguments."
            if config.entrypoint
            else "None: the command runs on its own.",
        ),
        _setting(
            "Command",
            _words(config.cmd),
            "none",
            "What a container runs by default (CMD); words after the image name in docker run replace it."
            if config.cmd
            else "None set: docker run needs one after the image name.",
        ),
        _setting(
            "User",
            clean_text(config.user, 80),
            "root (none set)",
            "Who the program runs as inside the container (USER); --user in docker run changes it.",
        ),
        _setting(
            "Working directory",
            clean_text(config.working_dir, 200),
            "/ (none set)",
            "Where the program starts (WORKDIR): relative paths begin there; -w in docker run changes it.",
        ),
    ]
    if config.env_names:
        settings.append(
            Setting(
                "Environment",
                clean_text(", ".join(config.env_names), 300),
                "Settings the program reads (ENV); -e NAME=value in docker run changes one. "
                "Values are not shown.",
            )
        )
    if config.stop_signal:
        settings.append(
            Setting(
                "Stop signal",
                clean_text(config.stop_signal, 40),
                "What docker stop sends the program to ask it to finish (STOPSIGNAL; SIGTERM otherwise).",
            )
        )
    return OutsideWorld(tuple(settings), run_line(image), _run_parts(image, name))


def _setting(name: str, value: str, unset: str, meaning: str) -> Setting:
    """What the image did not set is said in words (``unset``), not shown as a value of its own."""
    return Setting(name, value or unset, meaning, literal=bool(value))


def _port_arguments(image: Image) -> list[tuple[str, str]]:
    """``("-p", "8888:8888")`` per exposed port, with what it means (values shell-quoted)."""
    found = []
    for exposed in image.run_config.exposed_ports if image.run_config else ():
        match = _PORT.match(exposed)
        if match is None:  # not a port an engine accepts: shown as written, quoted
            spec = f"{exposed}:{exposed}"
            meaning = f"Connects {clean_text(exposed, 40)} of this machine to the same inside the container."
        else:
            port, protocol = match["port"], match["protocol"] or "tcp"
            spec = f"{port}:{port}" + ("" if protocol == "tcp" else f"/{protocol}")
            meaning = (
                f"Connects port {port} of this machine to port {port} inside the container, where the "
                f"program listens"
                + (
                    f": open http://localhost:{port} in a browser."
                    if protocol == "tcp" and "-" not in port
                    else "."
                )
            )
        found.append((f"-p {shlex.quote(clean_text(spec, 90))}", meaning))
    return found


def _volume_arguments(image: Image) -> list[tuple[str, str]]:
    """``-v "$PWD":PATH``: the folder the command runs in, mounted where the image keeps data."""
    config = image.run_config
    if config is None:
        return []
    here = '"$PWD"'
    if len(config.volumes) == 1:
        path = clean_text(config.volumes[0], 200)
        return [(f"-v {here}:{shlex.quote(path)}", _mount_meaning("the folder you run this in", path))]
    if config.volumes:
        found = []
        for number, volume in enumerate(config.volumes, start=1):
            path = clean_text(volume, 200)
            folder = _VOLUME_NAME.sub("", posixpath.basename(path.rstrip("/"))) or f"volume{number}"
            found.append(
                (
                    f"-v {here}/{shlex.quote(folder)}:{shlex.quote(path)}",
                    _mount_meaning(f"the folder ./{folder}", path),
                )
            )
        return found
    home = clean_text(config.working_dir, 200)
    if home.startswith("/home/"):
        # No volume declared, but it starts in a user's home (a notebook server): a folder
        # of yours there keeps what is saved, as the Jupyter docker-stacks docs do.
        path = posixpath.join(home, "work")
        return [(f"-v {here}:{shlex.quote(path)}", _mount_meaning("the folder you run this in", path))]
    return []


def _mount_meaning(folder: str, path: str) -> str:
    return (
        f"Puts {folder} at {path} inside the container: what the program saves there stays on your "
        "machine after the container is gone."
    )


def run_line(image: Image) -> str:
    """``docker run --rm -p 8888:8888 -v "$PWD":/home/jovyan/work IMAGE``: every image value quoted."""
    words = ["docker run --rm"]
    words += [text for text, _ in _port_arguments(image)]
    words += [text for text, _ in _volume_arguments(image)]
    words.append(shlex.quote(reference(image)))
    return " ".join(words)


def _run_parts(image: Image, name: str) -> tuple[RunPart, ...]:
    parts = [RunPart("--rm", "Removes the container when it stops; the image stays.")]
    parts += [RunPart(text, meaning) for text, meaning in _port_arguments(image)]
    parts += [RunPart(text, meaning) for text, meaning in _volume_arguments(image)]
    parts.append(
        RunPart(
            shlex.quote(name),
            "The image to start. Its command runs, as its user, in its working directory; "
            "words after the name would replace the command.",
        )
    )
    return tuple(parts)
