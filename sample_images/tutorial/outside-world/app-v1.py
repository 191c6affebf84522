"""First version of the web app (built, then replaced: its image is left dangling)."""

from http.server import HTTPServer, SimpleHTTPRequestHandler

if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8080), SimpleHTTPRequestHandler).serve_forever()  # noqa: S104 - inside a container
