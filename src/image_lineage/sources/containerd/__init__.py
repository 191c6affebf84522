"""``--source containerd``: containerd's own images through its gRPC API (``source.py``: the
source and its listing; ``reading.py``: the walk to records, loaded only when a scan runs).

``address`` reads the spec, ``client`` makes the read-only calls (the only ``grpc`` import),
``blobs`` is the content store as a blob source of the OCI core, ``errors`` words failures,
``proto`` holds the project's own ``.proto`` files and the code generated from them. Nothing
here is imported until a containerd source is opened (``sources.open_source``).
"""
