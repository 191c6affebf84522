"""Flask hello world (the wheels were built in a separate builder stage)."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello from a multi-stage build!\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)  # noqa: S104 - inside a container
