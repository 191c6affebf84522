"""A scan of a local engine imports only what it uses: no tarfile, urllib.request, docker-py or gRPC.

docker-py alone costs ~0.3 s to import (``bench/scan.py``); the archive and registry
readers, and the OCI core (``sources/oci/``, which only an engine on the containerd image
store needs, for its export), are imported on use.
Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {"/version": {"ApiVersion": "1.41", "Version": "20.10.24"}, "/v1.41/images/json?all=0": []}

class Engine(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = json.dumps(ANSWERS[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Engine)
threading.Thread(target=server.serve_forever, daemon=True).start()
before = set(sys.modules)
from image_lineage.sources import open_source
scan = open_source(f"docker:tcp://127.0.0.1:{server.server_address[1]}", use_cache=False).scan()
heavy = {"tarfile", "urllib.request", "docker", "requests", "zipfile", "lzma", "bz2"}
heavy.update({"image_lineage.sources.oci", "grpc", "google.protobuf"})  # gRPC: containerd's only
print(json.dumps({"images": len(scan.images), "imported": sorted(heavy & (set(sys.modules) - before))}))
"""


def test_an_engine_scan_imports_no_archive_registry_or_docker_py_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == {"images": 0, "imported": []}
