"""``containerd[:ADDRESS][?namespace=NS]``: the images of a containerd, read through its gRPC API.

Kubernetes nodes (namespace ``k8s.io``), nerdctl, Rancher Desktop, Finch, colima and Docker
Engine's own containerd store keep their images in containerd. A scan:

* asks containerd's version (a daemon too old to have the v1 services says so), its
  namespaces, and chooses which to read (``address.py``);
* lists each namespace's images: their names and the descriptor each points at (an index
  or a manifest) (``ContainerdList``: the listing; when ``cli_memo`` asks for its
  fingerprint, also the blobs each namespace holds); then (``reading.py``) the images are the
  roots of the OCI walker (``sources/oci/walk.py``), which reads indexes, manifests and
  configs from the content store through ``ContainerdBlobs`` (``blobs.py``), one more
  backend of the blob-source interface;
* makes one record per present platform, keyed by its config digest (a platform an index
  lists but the node never pulled is named, not a record); history from the config; sizes
  are the compressed layer blobs the manifest lists (``size_kind`` "compressed": unpacked
  sizes would need the snapshotter's usage, which is not read); attestations and other
  artifacts are counted on the image they refer to, never records.

Layer contents (``read_layers``, for ``files``): the image's manifest walked in the namespace it
was found in, each layer streamed from the content store (``layers.py``).

Read-only: version, namespaces ``List``, images ``List``, content ``List`` and ``Read`` (``client.py``).
With ``?namespace=all`` each record's ``found_in`` names the namespaces it was found in.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from image_lineage.cache import holds_secret
from image_lineage.model import Image, Scan
from image_lineage.sources.base import DEFAULT_TIMEOUT, Progress
from image_lineage.sources.containerd import errors
from image_lineage.sources.containerd.address import ALL, KUBERNETES, Spec, find_socket
from image_lineage.sources.containerd.client import Client, ListedImage

if TYPE_CHECKING:
    from image_lineage.sources.containerd.blobs import ContainerdBlobs
    from image_lineage.sources.layers import Listings
    from image_lineage.sources.oci.layer_tar import Listing


@dataclass(kw_only=True)
class ContainerdList:
    """A containerd's image lists as read (``ContainerdSource.image_list``), its connection open.

    ``fingerprint`` (``sources.base.ImageListing``) names what a scan of it gives before the
    rest is read: the containerd (its address and version), the namespaces read and whether
    every one was asked for, each image as the images service lists it (name, target
    descriptor, labels, made and updated times) and every blob each namespace's content
    store holds (content ``List``: a platform of an index pulled, or a blob removed, changes
    what a scan finds without changing any image). The rest is read by digest, which fixes
    its bytes. None without the cache or when first asked after ``scan``; and, once ``scan``
    ran, when a blob the content list named was gone when read (removed meanwhile), the
    cache held back a blob for a secret, or the image list itself holds one.
    """

    source: ContainerdSource
    client: Client
    version: str
    images: dict[str, list[ListedImage]]  # by namespace, in the order read
    namespace: str = field(init=False)
    content: dict[str, list[str]] = field(init=False, default_factory=dict)  # by namespace
    _fingerprint: str | None = field(init=False, default=None)
    _named: bool = field(init=False, default=False)  # the fingerprint was asked for
    _ran: bool = field(init=False, default=False)  # scan() ran
    _unjudged: ContainerdBlobs | None = field(init=False, default=None)  # what scan() read

    def __post_init__(self) -> None:
        self.namespace = f"containerd {self.client.address}"

    @property
    def fingerprint(self) -> str | None:
        """Named when first asked before ``scan`` (the content lists are read then: a scan on
        its own needs none); None when first asked after it, or without the cache."""
        if not self._named:
            self._named = True
            if self.source.use_cache and not self._ran:
                listed = {ns: self.client.content(ns) for ns in self.images}
                content = {ns: digests for ns, digests in listed.items() if digests is not None}
                if len(content) == len(listed):  # else a store too big to key on: nothing is kept
                    self.content = content
                    named = [self.namespace, self.version, self.every, self._listed(), self.content]
                    self._fingerprint = hashlib.sha256(json.dumps(named).encode()).hexdigest()
        if self._unjudged is not None:  # judged on asking: a scan alone pays nothing for it
            blobs, self._unjudged = self._unjudged, None
            if not self._whole(blobs):
                self._fingerprint = None
        return self._fingerprint

    @property
    def every(self) -> bool:
        return self.source.spec.namespace == ALL

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def scan(self, progress: Progress | None = None) -> Scan:
        # Imported here: an answer kept for this listing (cli_memo) needs no walk and no records.
        from image_lineage.sources.containerd import reading  # noqa: PLC0415

        self._ran = True
        scan, blobs = reading.read(
            self.client,
            self.images,
            every=self.every,
            version=self.version,
            use_cache=self.source.use_cache,
            progress=progress,
        )
        if self._fingerprint is not None:
            self._unjudged = blobs
        return scan

    def _listed(self) -> list[object]:
        """Each namespace's images as listed, as JSON (labels and annotations as objects: the
        secret rule reads their members as ``key=value``)."""
        return [[ns, [_listed(image) for image in images]] for ns, images in self.images.items()]

    def _whole(self, blobs: ContainerdBlobs) -> bool:
        """Whether the scan read what was listed (nothing listed was gone when read) and every
        blob was kept by the cache, and the list holds no secret (the cache's rule)."""
        listed = {ns: set(digests) for ns, digests in self.content.items()}
        vanished = any(digest in listed.get(scope, ()) for scope, digest in blobs.absent)
        return not vanished and not blobs.held_back and not holds_secret(self._listed())


@dataclass(frozen=True, slots=True)
class ContainerdSource:
    spec: Spec
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        with self.image_list(include_intermediate=include_intermediate) as listing:
            return listing.scan(progress)

    def image_list(self, *, include_intermediate: bool = False) -> ContainerdList:
        """The namespaces' image lists, read: ``scan()`` reads the rest. Close it (a context
        manager). containerd has no intermediate images."""
        client = Client(find_socket(self.spec), self.timeout)
        try:
            version = client.version()
            if _too_old(version):
                raise errors.too_old(client.address, "the v1 images and content services", version)
            images = {ns: client.images(ns) for ns in self.namespaces(client)}
        except BaseException:
            client.close()
            raise
        return ContainerdList(source=self, client=client, version=version, images=images)

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        """The image's manifest walked in the content store, its layers streamed by ``Read``.

        With ``?namespace=all``, the first namespace the scan found the image in (``found_in``).
        """
        from image_lineage.sources.containerd.blobs import ContainerdBlobs  # noqa: PLC0415 - see scan
        from image_lineage.sources.layers import manifest_layers  # noqa: PLC0415

        with Client(find_socket(self.spec), self.timeout) as client:
            namespaces = self.namespaces(client)
            found = [label.rpartition("?namespace=")[2] for label in image.found_in]
            scope = next((ns for ns in found if ns in namespaces), namespaces[0] if namespaces else "")
            blobs = ContainerdBlobs(client)
            origin = f"The containerd at {client.address} (namespace {scope})"
            layers = manifest_layers(blobs, image, scope, origin)
            return listings.list_blobs(blobs, layers, scope, origin)

    def namespaces(self, client: Client) -> list[str]:
        """The namespaces to read: the one named, every one, ``k8s.io``, or the only one with images."""
        known = client.namespaces()
        wanted = self.spec.namespace
        if wanted == ALL:
            return known
        if wanted:
            if wanted not in known:
                raise errors.unknown_namespace(client.address, wanted, known)
            return [wanted]
        if KUBERNETES in known:
            return [KUBERNETES]
        with_images = [ns for ns in known if client.images(ns)]
        if len(with_images) > 1:
            raise errors.several_namespaces(client.address, with_images)
        return with_images


def _listed(image: ListedImage) -> list[object]:
    target = image.target
    annotations = dict(target.annotations)
    return [
        image.name,
        target.media_type,
        target.digest,
        target.size,
        annotations,
        dict(image.labels),
        image.created,
        image.updated,
    ]


def _too_old(version: str) -> bool:
    """Whether a version containerd gave (``v1.6.20``, ``1.6.20~ds1``, ``2.1.4``) is older than
    ``errors.OLDEST``; one that does not say is given the benefit of the doubt."""
    found = re.match(r"v?(\d+)\.(\d+)", version)
    return found is not None and (int(found[1]), int(found[2])) < errors.OLDEST
