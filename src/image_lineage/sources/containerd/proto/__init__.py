"""containerd's API as this tool uses it: its own ``.proto`` files (containerd's field names and
numbers, only the read calls and the fields read) and the code ``make protos`` generated from
them with grpcio-tools (``*_pb2.py``) and mypy-protobuf (``*_pb2.pyi``), committed: edit a
``.proto`` file, run ``make protos``, commit both (tests/unit/test_containerd_protos.py checks
that they match)."""
