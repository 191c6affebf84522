"""The offline package mirrors the two sample roots carry, and the tools that read them.

Nothing in the sample build touches the network, yet its Dockerfiles read like the real
ones (``apt-get install``, ``wget``, ``micromamba``/``mamba install``, ``pip install``).
Each root image therefore carries

* small shell stand-ins for ``apt-get`` and ``wget`` (``/usr/bin``), and ``useradd``
  (``/usr/sbin``) in the Jupyter root;
* an offline mirror in ``/var/cache/offline``: ``apt/`` (real ``.deb`` files, which
  busybox's own ``dpkg`` installs), ``conda/`` (``.tar.gz`` packages and an index),
  ``pypi/`` (real ``.whl`` zip files) and ``www/<host>/<path>`` (what ``wget`` serves).

``micromamba``, ``mamba``/``conda``, ``pip``, ``python``, ``jupyter``, ``julia`` and
``make`` are stand-ins too, shipped *inside* the packages that install them, as the real
ones are. Every package unpacks one data file, ``<name>-<version>.payload``, whose size
is the package's share of its layer: text, never random bytes under a program's name.
The archives are compressed, so the roots stay small (about 1 MB of mirror each).

Everything here is deterministic: building the mirror twice gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import re
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MIRROR = "/var/cache/offline"
#: The time stamp of every archive member (2026-11-01T00:00:00Z): the mirror is reproducible.
STAMP = 1_793_491_200
MB = 1_000_000
CONDA_PYTHON = "3.11"
CONDA_SITE = f"lib/python{CONDA_PYTHON}/site-packages"


@dataclass(frozen=True)
class Package:
    """One package of a mirror: its payload goes to ``where`` (relative to the install root)."""

    name: str
    version: str
    size: int
    where: str = ""
    scripts: Mapping[str, str] = field(default_factory=dict)  # path -> shell script (0755)
    files: Mapping[str, str] = field(default_factory=dict)  # path -> text (0644)

    @property
    def payload_path(self) -> str:
        return f"{self.where}/{self.name}-{self.version}.payload"


def payload(name: str, version: str, size: int) -> bytes:
    """``size`` bytes of text that say what they stand for."""
    head = (
        f"{name} {version}: stands in for this package's files in the sample images.\n"
        "Only its size is real (relative to the other packages); it is not a program.\n"
    )
    line = f"{name} {version}\n"
    count = max(0, size - len(head)) // len(line) + 1
    return (head + line * count).encode()[:size]


# --------------------------------------------------------------------------- stand-in tools

APT_GET = r"""#!/bin/sh
# apt-get for the sample images: installs .deb files from the offline mirror in
# /var/cache/offline/apt with dpkg. Nothing is downloaded.
set -e
mirror=/var/cache/offline/apt
lists=/var/lib/apt/lists
command=""
packages=""
while [ $# -gt 0 ]; do
    case "$1" in
        -o | -c | -t) shift ;;
        -*) ;;
        *) if [ -z "$command" ]; then command=$1; else packages="$packages $1"; fi ;;
    esac
    shift
done
case "$command" in
    update)
        mkdir -p "$lists"
        cp "$mirror/Packages" "$lists/offline_stable_main_binary-amd64_Packages"
        echo "Get:1 file:$mirror stable InRelease"
        echo "Reading package lists... Done"
        ;;
    upgrade | dist-upgrade)
        echo "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded."
        ;;
    install)
        for package in $packages; do
            file=$(cat "$lists"/*_Packages 2>/dev/null | awk -v p="$package" \
                '$1 == "Package:" { found = ($2 == p) } found && $1 == "Filename:" { print $2; exit }')
            if [ -z "$file" ]; then
                echo "E: Unable to locate package $package" >&2
                exit 100
            fi
            dpkg -i "$mirror/$file"
        done
        ;;
    remove | purge | autoremove)
        for package in $packages; do dpkg -P "$package"; done
        ;;
    clean)
        rm -f /var/cache/apt/archives/*.deb
        ;;
    *)
        echo "E: Invalid operation $command" >&2
        exit 100
        ;;
esac
"""

WGET = r"""#!/bin/sh
# wget for the sample images: serves URLs from the offline mirror in
# /var/cache/offline/www/<host>/<path>. Nothing leaves the machine.
set -e
mirror=/var/cache/offline/www
output=""
url=""
while [ $# -gt 0 ]; do
    case "$1" in
        -O) output=$2; shift ;;
        --output-document=*) output=${1#*=} ;;
        -*) ;;
        *) url=$1 ;;
    esac
    shift
done
path=${url#*://}
if [ -z "$url" ] || [ ! -f "$mirror/$path" ]; then
    echo "wget: unable to resolve host address '${path%%/*}'" >&2
    exit 4
fi
if [ -z "$output" ]; then output=$(basename "$path"); fi
if [ "$output" = "-" ]; then cat "$mirror/$path"; else cp "$mirror/$path" "$output"; fi
"""

USERADD = r"""#!/bin/sh
# useradd for the sample images (busybox has none): the options the Dockerfiles use.
set -e
uid=1000
shell=/bin/sh
group=""
home=""
while [ $# -gt 1 ]; do
    case "$1" in
        --uid | -u) uid=$2; shift ;;
        --shell | -s) shell=$2; shift ;;
        --no-user-group | -N) group=users ;;
        --create-home | -m) home=yes ;;
    esac
    shift
done
name=$1
if [ -n "$group" ]; then
    gid=$(awk -F: -v g="$group" '$1 == g { print $3 }' /etc/group)
else
    gid=$uid
    echo "$name:x:$gid:" >> /etc/group
fi
echo "$name:x:$uid:$gid::/home/$name:$shell" >> /etc/passwd
echo "$name:!:20000:0:99999:7:::" >> /etc/shadow
if [ -n "$home" ]; then
    mkdir -p "/home/$name"
    cp -a /etc/skel/. "/home/$name/"
    chown -R "$uid:$gid" "/home/$name"
fi
"""

CONDA = r"""#!/bin/sh
# micromamba / mamba / conda for the sample images: installs packages by unpacking them
# from the offline channel in /var/cache/offline/conda. Nothing is downloaded.
set -e
channel=/var/cache/offline/conda
prefix=${CONDA_DIR:-/opt/conda}
command=""
specs=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix=*) prefix=${1#*=} ;;
        -p | --prefix) prefix=$2; shift ;;
        -c | --channel | -r | --root-prefix) shift ;;
        -*) ;;
        *) if [ -z "$command" ]; then command=$1; else specs="$specs $1"; fi ;;
    esac
    shift
done
case "$command" in
    install)
        mkdir -p "$prefix/conda-meta" "$prefix/pkgs"
        for spec in $specs; do
            name=${spec%%[=<>]*}
            want=$(echo "${spec#"$name"}" | sed 's/^[=<>]*//; s/[*,].*//')
            line=$(awk -v n="$name" -v v="$want" \
                '$1 == n && (v == "" || index($2, v) == 1) { l = $0 } END { print l }' "$channel/index")
            if [ -z "$line" ]; then
                echo "error: nothing provides requested $spec" >&2
                exit 1
            fi
            set -- $line
            echo "  + $1 $2 (conda-forge)"
            cp "$channel/$3" "$prefix/pkgs/"
            tar -xzf "$channel/$3" -C "$prefix"
            printf '{\n  "name": "%s",\n  "version": "%s",\n  "channel": "conda-forge"\n}\n' "$1" "$2" \
                > "$prefix/conda-meta/$1-$2.json"
        done
        ;;
    list)
        echo "# packages in environment at $prefix:"
        for meta in "$prefix"/conda-meta/*.json; do
            name=$(sed -n 's/.*"name": "\(.*\)".*/\1/p' "$meta")
            version=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$meta")
            case " $specs " in "  " | *" $name "*) echo "$name $version conda-forge" ;; esac
        done
        ;;
    clean)
        rm -rf "$prefix/pkgs"
        echo "Removed the package cache"
        ;;
    *)
        echo "$0: '$command' is not part of this offline stand-in" >&2
        exit 1
        ;;
esac
"""

PIP = r"""#!/bin/sh
# pip for the sample images: installs wheels from the offline index in
# /var/cache/offline/pypi (or the wheel files named). Nothing is downloaded.
set -e
index=/var/cache/offline/pypi
site=@SITE@
command=""
wanted=""
wheel_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        -r | --requirement) wanted="$wanted $(sed 's/#.*//' "$2")"; shift ;;
        -w | --wheel-dir) wheel_dir=$2; shift ;;
        --wheel-dir=*) wheel_dir=${1#*=} ;;
        -i | --index-url | --extra-index-url | -f | --find-links) shift ;;
        --version) echo "pip @VERSION@ from $site/pip"; exit 0 ;;
        -*) ;;
        *) if [ -z "$command" ]; then command=$1; else wanted="$wanted $1"; fi ;;
    esac
    shift
done
find_wheel() {
    if [ -f "$1" ]; then echo "$1"; return; fi
    name=$(echo "${1%%[=<>~!]*}" | tr 'A-Z.-' 'a-z__')
    version=$(echo "${1#"${1%%[=<>~!]*}"}" | sed 's/^[=<>~!]*//')
    wheel=$(ls "$index" | awk -v n="$name" -v v="$version" '{ split($0, f, "-") }
        tolower(f[1]) == n && (v == "" || index(f[2], v) == 1) { w = $0 } END { print w }')
    if [ -z "$wheel" ]; then
        echo "ERROR: No matching distribution found for $1" >&2
        exit 1
    fi
    echo "$index/$wheel"
}
for requirement in $wanted; do
    wheel=$(find_wheel "$requirement")
    case "$command" in
        install)
            echo "Installing $(basename "$wheel")"
            mkdir -p "$site"
            unzip -qo "$wheel" -d "$site"
            ;;
        wheel | download)
            mkdir -p "${wheel_dir:-.}"
            echo "Saved ${wheel_dir:-.}/$(basename "$wheel")"
            cp "$wheel" "${wheel_dir:-.}/"
            ;;
        *)
            echo "ERROR: unknown command \"$command\"" >&2
            exit 1
            ;;
    esac
done
"""

PYTHON = r"""#!/bin/sh
# python@VERSION_SHORT@ for the sample images: a stand-in that runs no Python code. It
# answers --version, runs "-m pip", checks that "-c 'import x'" names an installed module,
# and runs script files that are shell scripts (the sample's get-pip.py is one).
site=@SITE@
case "$1" in
    --version | -V) echo "Python @VERSION@" ;;
    -m) shift; module=$1; shift; exec "$(dirname "$0")/$module" "$@" ;;
    -c)
        for module in $(echo "$2" | sed -n 's/.*import \([A-Za-z0-9_.]*\).*/\1/p'); do
            if [ ! -e "$site/${module%%.*}" ]; then
                echo "ModuleNotFoundError: No module named '${module%%.*}'" >&2
                exit 1
            fi
        done
        ;;
    "") echo "Python @VERSION@ (a stand-in of the sample images: no interpreter inside)" ;;
    *) script=$1; shift; exec sh "$script" "$@" ;;
esac
"""

JUPYTER = r"""#!/bin/sh
# jupyter for the sample images: a stand-in for the subcommands the Dockerfiles run.
case "$1 $2" in
    "server --generate-config")
        mkdir -p "$HOME/.jupyter"
        echo "# Configuration file for jupyter-server." > "$HOME/.jupyter/jupyter_server_config.py"
        echo "Writing default config to: $HOME/.jupyter/jupyter_server_config.py"
        ;;
    "lab clean") echo "[LabCleanApp] Cleaning $CONDA_DIR/share/jupyter/lab..." ;;
    *) echo "jupyter: '$*' is not part of this offline stand-in" >&2; exit 1 ;;
esac
"""

JULIA_SCRIPT = r"""#!/bin/sh
# julia for the sample images: "Pkg.add" unpacks the named packages from the offline
# registry in /var/cache/offline/julia into $JULIA_DEPOT_PATH. No Julia code runs.
set -e
registry=/var/cache/offline/julia
depot=${JULIA_DEPOT_PATH:-$HOME/.julia}
case "$1" in
    --version) echo "julia version @VERSION@" ;;
    -e)
        mkdir -p "$depot/packages"
        for name in $(echo "$2" | sed -n 's/.*Pkg\.add(\[\([^]]*\)\]).*/\1/p' | tr -d '",'); do
            echo "   Installed $name"
            tar -xzf "$registry/$name.tar.gz" -C "$depot/packages"
        done
        ;;
    *) echo "julia: only --version and -e 'Pkg.add([...])' are part of this offline stand-in" >&2; exit 1 ;;
esac
"""

TINI = r"""#!/bin/sh
# tini for the sample images: skips its options and runs the command (reaps nothing).
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; break ;;
        -*) shift ;;
        *) break ;;
    esac
done
exec "$@"
"""

MAKE = r"""#!/bin/sh
# make for the sample images: runs the tab-indented lines of one target of ./Makefile.
set -e
target=""
for arg in "$@"; do
    case "$arg" in -* | *=* | [0-9]*) ;; *) target=$arg ;; esac
done
awk -v t="$target" '
    /^[A-Za-z_.-]+:/ { name = $1; sub(":.*", "", name); if (t == "") t = name; inside = (name == t); next }
    inside && /^\t/ { sub("^\t", ""); print }
' Makefile | sh -ex
"""

DPKG_ARCHITECTURE = """#!/bin/sh
# dpkg-architecture for the sample images: the one query the Python build asks.
echo "$(uname -m)-linux-gnu"
"""

LOCALE_GEN = r"""#!/bin/sh
# locale-gen for the sample images: one data file per locale listed in /etc/locale.gen.
set -e
mkdir -p /usr/lib/locale
echo "Generating locales (this might take a while)..."
grep -v '^#' /etc/locale.gen | while read -r locale charset; do
    [ -n "$locale" ] || continue
    echo "  $locale... done"
    yes "$locale $charset" | head -c 750000 > "/usr/lib/locale/$locale.payload"
done
echo "Generation complete."
"""


def _fill(text: str, **values: str) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


# --------------------------------------------------------------------------- archives


def _tar(members: Iterable[tuple[str, bytes, int]], *, dirs: bool = False, dot: bool = False) -> bytes:
    """A tar of ``(path, data, mode)``; with ``dirs``, every parent directory first.

    ``dot`` names the members ``./path``, as Debian packages do (busybox dpkg wants
    the directories too).
    """
    prefix = "./" if dot else ""
    buf = io.BytesIO()
    members = list(members)
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if dirs:
            parents: set[str] = set()
            for path, _, _ in members:
                parts = path.split("/")[:-1]
                parents.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
            for parent in [*([""] if dot else []), *sorted(parents)]:
                info = tarfile.TarInfo(f"{prefix}{parent}/" if parent else prefix)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                info.mtime = STAMP
                tar.addfile(info)
        for path, data, mode in members:
            info = tarfile.TarInfo(f"{prefix}{path}")
            info.size = len(data)
            info.mode = mode
            info.mtime = STAMP
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=STAMP)


def _members(package: Package, root: str = "") -> list[tuple[str, bytes, int]]:
    def at(path: str) -> str:
        return f"{root}/{path}".strip("/")

    members = [(at(package.payload_path), payload(package.name, package.version, package.size), 0o644)]
    members += [(at(p), text.encode(), 0o644) for p, text in package.files.items()]
    members += [(at(p), text.encode(), 0o755) for p, text in package.scripts.items()]
    return members


def deb(package: Package) -> bytes:
    """A real Debian package (``ar`` of control and data tarballs) that busybox dpkg installs."""
    control = (
        f"Package: {package.name}\nVersion: {package.version}\nArchitecture: amd64\n"
        f"Maintainer: Debian sample maintainers <sample@offline.invalid>\n"
        f"Installed-Size: {package.size // 1024}\n"
        f"Description: {package.name} (offline stand-in of the sample images)\n"
    ).encode()
    parts = [
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", _gzip(_tar([("control", control, 0o644)], dirs=True, dot=True))),
        ("data.tar.gz", _gzip(_tar(_members(package), dirs=True, dot=True))),
    ]
    out = b"!<arch>\n"
    for name, data in parts:
        out += f"{name:<16}{STAMP:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data
        out += b"\n" if len(data) % 2 else b""
    return out


def deb_filename(package: Package) -> str:
    return f"{package.name}_{package.version}_amd64.deb"


def conda_filename(package: Package) -> str:
    return f"{package.name}-{package.version}-0.tar.gz"


def wheel(package: Package) -> bytes:
    """A real wheel (zip): the payload, a dist-info and any scripts in ``<name>.data/scripts``."""
    dist = f"{package.name.replace('-', '_')}-{package.version}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        metadata = f"Metadata-Version: 2.1\nName: {package.name}\nVersion: {package.version}\n"
        tags = "Wheel-Version: 1.0\nGenerator: sample-images\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        members = [
            *((path, data) for path, data, _mode in _members(package)),
            (f"{dist}.dist-info/METADATA", metadata.encode()),
            (f"{dist}.dist-info/WHEEL", tags.encode()),
        ]
        for path, data in members:
            info = zipfile.ZipInfo(path, (2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def wheel_filename(package: Package) -> str:
    return f"{package.name.replace('-', '_')}-{package.version}-py3-none-any.whl"


# --------------------------------------------------------------------------- catalogues


def apt(name: str, version: str, mb: float, **extra: Mapping[str, str]) -> Package:
    return Package(name, version, int(mb * MB), f"usr/share/{name}", **extra)


def conda(
    name: str, version: str, mb: float, where: str | None = None, **extra: Mapping[str, str]
) -> Package:
    module = name.replace("-", "_")
    return Package(name, version, int(mb * MB), where or f"{CONDA_SITE}/{module}", **extra)


def r_package(name: str, version: str, mb: float) -> Package:
    return conda(name, version, mb, f"lib/R/library/{name.removeprefix('r-')}")


def pypi(name: str, version: str, mb: float, **extra: Mapping[str, str]) -> Package:
    return Package(name, version, int(mb * MB), name.replace("-", "_").lower(), **extra)


SUDOERS = "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n%admin ALL=(ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n"

JUPYTER_APT = (
    # docker-stacks-foundation (~5.5 MB with the locales locale-gen writes)
    apt("bzip2", "1.0.8", 0.1),
    apt("ca-certificates", "20240203", 0.4),
    apt("locales", "2.39", 2.0, scripts={"usr/sbin/locale-gen": LOCALE_GEN}),
    apt("netbase", "6.4", 0.05),
    apt("sudo", "1.9.15", 1.2, files={"etc/sudoers": SUDOERS}),
    apt("tini", "0.19.0", 0.25, scripts={"usr/bin/tini": TINI}),
    apt("wget", "1.21.4", 0.5),
    # base-notebook (~2.5 MB)
    apt("fonts-liberation", "1.07.4", 0.45),
    apt("pandoc", "3.1.3", 2.0),
    apt("run-one", "1.17", 0.05),
    # minimal-notebook (~7.5 MB)
    apt("curl", "8.5.0", 0.3),
    apt("git", "2.43.0", 1.5),
    apt("nano-tiny", "7.2", 0.1),
    apt("tzdata", "2024a", 0.4),
    apt("unzip", "6.0", 0.1),
    apt("vim-tiny", "9.1.0016", 0.5),
    apt("openssh-client", "9.6p1", 0.4),
    apt("less", "590", 0.1),
    apt("texlive-xetex", "2023.20240207", 2.2),
    apt("texlive-fonts-recommended", "2023.20240207", 1.4),
    apt("texlive-plain-generic", "2023.20240207", 0.5),
    # scipy-notebook (~6 MB)
    apt("build-essential", "12.10", 2.5),
    apt("cm-super-minimal", "0.3.4", 1.0),
    apt("dvipng", "1.15", 0.5),
    apt("ffmpeg", "6.1.1", 2.0),
    # r-notebook and datascience-notebook (~4 MB and ~3 MB)
    apt("fonts-dejavu", "2.37", 1.0),
    apt("unixodbc", "2.3.12", 0.3),
    apt("unixodbc-dev", "2.3.12", 0.4),
    apt("r-cran-rodbc", "1.3-23", 0.3),
    apt("gfortran", "13.2.0", 1.2),
    apt("gcc", "13.2.0", 0.8),
)

CONDA_SITE_PATH = f"/opt/conda/{CONDA_SITE}"
PYTHON_311 = conda(
    "python",
    "3.11.10",
    8.5,
    "lib/python3.11",
    scripts={
        "bin/python3.11": _fill(PYTHON, VERSION="3.11.10", VERSION_SHORT="3.11", SITE=CONDA_SITE_PATH),
        "bin/python": _fill(PYTHON, VERSION="3.11.10", VERSION_SHORT="", SITE=CONDA_SITE_PATH),
        "bin/pip": _fill(PIP, VERSION="24.3.1", SITE=CONDA_SITE_PATH),
    },
)

JUPYTER_CONDA = (
    # docker-stacks-foundation (~14.5 MB)
    PYTHON_311,
    conda("conda", "24.9.2", 2.5, scripts={"bin/conda": CONDA}),
    conda("mamba", "2.0.2", 2.0, "lib/mamba", scripts={"bin/mamba": CONDA}),
    conda("jupyter_core", "5.7.2", 1.5, scripts={"bin/jupyter": JUPYTER}),
    # base-notebook (~12.5 MB; two JupyterLabs for the rebuild)
    conda("jupyterlab", "4.2.5", 6.0),
    conda("jupyterlab", "4.3.1", 6.0),
    conda("notebook", "7.2.2", 3.5),
    conda("jupyterhub-singleuser", "5.2.1", 1.5),
    conda("nbclassic", "1.1.0", 1.5),
    # minimal-notebook (~2.5 MB)
    conda("jupyterlab-git", "0.50.2", 1.0),
    conda("nbconvert", "7.16.4", 1.5),
    # scipy-notebook (~24 MB)
    conda("altair", "5.4.1", 1.2),
    conda("bokeh", "3.6.1", 1.8),
    conda("cython", "3.0.11", 1.0),
    conda("h5py", "3.12.1", 1.0),
    conda("matplotlib-base", "3.9.2", 3.0, f"{CONDA_SITE}/matplotlib"),
    conda("numpy", "2.1.3", 3.5),
    conda("pandas", "2.2.3", 4.0),
    conda("scikit-learn", "1.5.2", 3.5, f"{CONDA_SITE}/sklearn"),
    conda("scipy", "1.14.1", 4.0),
    conda("sympy", "1.13.3", 1.0),
    # r-notebook (~16 MB) and datascience-notebook's R (~8 MB)
    r_package("r-base", "4.4.2", 8.0),
    r_package("r-caret", "6.0_94", 2.0),
    r_package("r-irkernel", "1.3.2", 0.5),
    r_package("r-tidyverse", "2.0.0", 4.5),
    conda("rpy2", "3.5.11", 1.0),
    r_package("r-devtools", "2.4.5", 1.0),
    r_package("r-shiny", "1.9.1", 1.0),
)

JUPYTER_PYPI = (
    # tensorflow-notebook (~40 MB)
    pypi("tensorflow-cpu", "2.18.0", 36.0),
    pypi("tensorboard", "2.18.0", 2.5),
    pypi("keras", "3.6.0", 1.0),
    pypi("jupyter-server-proxy", "4.4.0", 0.5),
    # pytorch-notebook (~30 MB)
    pypi("torch", "2.5.1+cpu", 24.0),
    pypi("torchvision", "0.20.1+cpu", 4.0),
    pypi("torchaudio", "2.5.1+cpu", 2.0),
)

JULIA_VERSION = "1.11.1"
JULIA_PACKAGES = (
    Package("HDF5", "0.17.2", int(1.0 * MB), "HDF5"),
    Package("IJulia", "1.26.0", int(0.5 * MB), "IJulia"),
    Package("Pluto", "0.20.3", int(1.5 * MB), "Pluto"),
)

MICROMAMBA = Package("micromamba", "2.0.2", 50_000, "info", scripts={"bin/micromamba": CONDA})
JULIA = Package(
    "julia",
    JULIA_VERSION,
    11 * MB,
    f"julia-{JULIA_VERSION}/lib/julia",
    scripts={f"julia-{JULIA_VERSION}/bin/julia": _fill(JULIA_SCRIPT, VERSION=JULIA_VERSION)},
)


def jupyter_www() -> dict[str, bytes]:
    """What ``wget`` serves to the Jupyter Dockerfiles: micromamba and Julia."""
    micromamba = io.BytesIO()
    with tarfile.open(fileobj=micromamba, mode="w:bz2") as tar:
        for path, data, mode in _members(MICROMAMBA):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, STAMP
            tar.addfile(info, io.BytesIO(data))
    julia = _gzip(_tar(_members(JULIA)))
    return {
        "micro.mamba.pm/api/micromamba/linux-64/latest": micromamba.getvalue(),
        f"julialang-s3.julialang.org/bin/linux/x64/1.11/julia-{JULIA_VERSION}-linux-x86_64.tar.gz": julia,
    }


# --------------------------------------------------------------------------- tutorial

PYTHON_37 = "3.7.9"
PYTHON_37_SITE = "/usr/local/lib/python3.7/site-packages"

TUTORIAL_APT = (
    apt("ca-certificates", "20200601", 0.4),
    apt("netbase", "5.6", 0.05),
    apt("tzdata", "2021a", 1.5),
    # build dependencies of the Python build, purged in the same RUN
    apt("dpkg-dev", "1.19.7", 1.0, scripts={"usr/bin/dpkg-architecture": DPKG_ARCHITECTURE}),
    apt("gcc", "8.3.0", 3.0),
    apt("libc6-dev", "2.28", 2.0),
    apt("libssl-dev", "1.1.1d", 1.5),
    apt("make", "4.2.1", 0.2, scripts={"usr/bin/make": MAKE}),
    apt("zlib1g-dev", "1.2.11", 0.2),
)

TUTORIAL_PYPI = (
    pypi(
        "pip",
        "20.2.3",
        4.0,
        scripts={"pip-20.2.3.data/scripts/pip": _fill(PIP, VERSION="20.2.3", SITE=PYTHON_37_SITE)},
    ),
    pypi("Flask", "1.1.2", 2.5),
    pypi("Werkzeug", "1.0.1", 1.5),
)

#: The sample's get-pip.py: a shell script (the stand-in python runs script files with sh).
GET_PIP = f"""#!/bin/sh
# get-pip.py of the sample images: installs pip from the offline wheel, as get-pip.py
# installs it from PyPI. (A shell script: the sample's python runs no Python code.)
set -e
site={PYTHON_37_SITE}
mkdir -p "$site"
unzip -qo /var/cache/offline/pypi/pip-20.2.3-py3-none-any.whl -d "$site"
mv "$site/pip-20.2.3.data/scripts/pip" /usr/local/bin/pip
rm -r "$site/pip-20.2.3.data"
chmod 755 /usr/local/bin/pip
ln -s pip /usr/local/bin/pip3
echo "Successfully installed pip-20.2.3"
"""

PYTHON_CONFIGURE = """#!/bin/sh
# configure of the sample images' Python source: writes the Makefile. Nothing is compiled.
prefix=/usr/local
for arg in "$@"; do
    case "$arg" in --prefix=*) prefix=${arg#*=} ;; esac
done
echo "checking build system type... $(uname -m)-pc-linux-gnu"
sed "s|@prefix@|$prefix|g" Makefile.pre.in > Makefile
echo "configure: creating Makefile"
"""

PYTHON_MAKEFILE = f"""all:
\techo "Python {PYTHON_37}: nothing to compile in the sample's stand-in source"
install:
\tmkdir -p @prefix@/bin @prefix@/lib/python3.7/site-packages
\tcp Lib/python-{PYTHON_37}.payload @prefix@/lib/python3.7/
\tcp python @prefix@/bin/python3.7
\tchmod 755 @prefix@/bin/python3.7
\tln -s python3.7 @prefix@/bin/python3
"""


def tutorial_www() -> dict[str, bytes]:
    """What ``wget`` serves to the tutorial's python Dockerfile: the source and get-pip.py."""
    source = f"Python-{PYTHON_37}"
    members = [
        (f"{source}/configure", PYTHON_CONFIGURE.encode(), 0o755),
        (f"{source}/Makefile.pre.in", PYTHON_MAKEFILE.encode(), 0o644),
        (
            f"{source}/python",
            _fill(PYTHON, VERSION=PYTHON_37, VERSION_SHORT="3.7", SITE=PYTHON_37_SITE).encode(),
            0o755,
        ),
        (f"{source}/Lib/python-{PYTHON_37}.payload", payload("python", PYTHON_37, 24 * MB), 0o644),
    ]
    return {
        f"www.python.org/ftp/python/{PYTHON_37}/Python-{PYTHON_37}.tar.xz": lzma.compress(
            _tar(members, dirs=True), preset=6
        ),
        GET_PIP_URL.split("://", 1)[1]: GET_PIP.encode(),
    }


GET_PIP_URL = "https://github.com/pypa/get-pip/raw/fa7dc83944936bf09a0e4cb5d5ec852c0d256599/get-pip.py"


# --------------------------------------------------------------------------- the roots

README = """Offline package mirror of the sample images (image-lineage's sample_images/).

Nothing in these images was downloaded. apt-get, wget, micromamba/mamba/conda, pip,
python, jupyter, julia and make are small shell stand-ins that "install" a package by
unpacking it from here:

  apt/     .deb files and their Packages index (busybox dpkg installs them)
  conda/   conda packages (.tar.gz) and their index
  pypi/    wheels
  julia/   Julia packages
  www/     what wget serves, one directory per host

Each package holds one <name>-<version>.payload file of text whose size stands for the
package's real size, relative to the others.
"""


def _apt_files(packages: Iterable[Package]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    index = []
    for package in packages:
        name = deb_filename(package)
        files[f"apt/{name}"] = deb(package)
        index.append(
            f"Package: {package.name}\nVersion: {package.version}\nArchitecture: amd64\n"
            f"Installed-Size: {package.size // 1024}\nFilename: {name}\n"
        )
    files["apt/Packages"] = "\n".join(index).encode()
    return files


def _conda_files(packages: Iterable[Package]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    index = []
    for package in packages:
        name = conda_filename(package)
        files[f"conda/{name}"] = _gzip(_tar(_members(package)))
        index.append(f"{package.name} {package.version} {name}\n")
    files["conda/index"] = "".join(index).encode()
    return files


def _mirror(files: Mapping[str, bytes]) -> dict[str, bytes]:
    return {f"{MIRROR.lstrip('/')}/{path}": data for path, data in files.items()}


def dash_files() -> dict[str, bytes]:
    """The host's dash as ``/bin/sh``, with the libraries it loads, as Debian has it.

    busybox's own sh runs its applets before anything on PATH, so ``wget`` in a RUN
    line would be busybox's (which goes to the network) instead of the mirror's.
    """
    dash = shutil.which("dash")
    if dash is None:
        raise FileNotFoundError("the sample roots use the host's dash as /bin/sh: apt-get install dash")
    files = {"bin/sh": Path(dash).read_bytes()}
    out = subprocess.run(["ldd", dash], check=True, capture_output=True, text=True).stdout
    for lib in re.findall(r"(/\S+) \(0x", out):
        files[lib.lstrip("/")] = Path(lib).resolve().read_bytes()
    return files


def _base_files(group: str) -> dict[str, bytes]:
    return {
        **dash_files(),
        "usr/bin/apt-get": APT_GET.encode(),
        "usr/bin/wget": WGET.encode(),
        "var/lib/dpkg/status": b"",
        "var/lib/dpkg/info/format": b"1\n",
        "etc/group": group.encode(),
        **_mirror({"README": README.encode()}),
    }


def jupyter_root_files() -> dict[str, bytes]:
    """Extra files of the Jupyter family's root: the stand-ins and the whole mirror."""
    files = _base_files("root:x:0:\nusers:x:100:\nnogroup:x:65534:\n")
    files["usr/sbin/useradd"] = USERADD.encode()
    files["etc/skel/.bashrc"] = b"# ~/.bashrc\n#force_color_prompt=yes\n"
    files["etc/pam.d/su"] = b"auth sufficient pam_rootok.so\n"
    mirror = {
        **_apt_files(JUPYTER_APT),
        **_conda_files(JUPYTER_CONDA),
        **{f"pypi/{wheel_filename(p)}": wheel(p) for p in JUPYTER_PYPI},
        **{f"julia/{p.name}.tar.gz": _gzip(_tar(_members(p))) for p in JULIA_PACKAGES},
        **{f"www/{path}": data for path, data in jupyter_www().items()},
    }
    files.update(_mirror(mirror))
    return files


def tutorial_root_files(os_release: str, debian_version: str) -> dict[str, bytes]:
    """Extra files of the tutorial's root: a Debian-like /etc, the stand-ins, the mirror."""
    files = _base_files("root:x:0:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\n")
    files["etc/os-release"] = os_release.encode()
    files["etc/debian_version"] = debian_version.encode()
    mirror = {
        **_apt_files(TUTORIAL_APT),
        **{f"pypi/{wheel_filename(p)}": wheel(p) for p in TUTORIAL_PYPI},
        **{f"www/{path}": data for path, data in tutorial_www().items()},
    }
    files.update(_mirror(mirror))
    return files


def sha256_of_get_pip() -> str:
    """What the tutorial's python Dockerfile pins as ``PYTHON_GET_PIP_SHA256``."""
    return hashlib.sha256(GET_PIP.encode()).hexdigest()
