"""Secret masking on a corpus of realistic history lines, labels, and things to leave alone."""

from __future__ import annotations

import pytest

from image_lineage.lineage import build_lineage
from image_lineage.masking import MASK, mask_lineage, mask_scan, mask_text
from image_lineage.model import Scan
from tests.builders import BASE, SOURCE, image

MASKED = [
    # (history text, the secret that must disappear, what must remain)
    ("/bin/sh -c #(nop)  ENV API_TOKEN=abc123def", "abc123def", "ENV API_TOKEN=***"),
    ("ENV DB_PASSWORD=hunter2 MODE=prod", "hunter2", "MODE=prod"),
    ('ENV DB_PASSWORD="two words"', "two words", 'DB_PASSWORD="***"'),
    ("ENV db_password='quoted'", "quoted", "db_password='***'"),
    ("|2 NPM_TOKEN=npm_s3cr3t PASSWORD=pw1 /bin/sh -c npm ci", "npm_s3cr3t", "/bin/sh -c npm ci"),
    ("|2 NPM_TOKEN=npm_s3cr3t PASSWORD=pw1 /bin/sh -c npm ci", "pw1", "PASSWORD=***"),
    ("/bin/sh -c #(nop)  ARG GH_PAT_SECRET=ghsecret", "ghsecret", "ARG GH_PAT_SECRET=***"),
    (
        "ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUt",
        "AWS_SECRET_ACCESS_KEY=***",
    ),
    (
        "RUN aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id ***",
    ),
    ("/bin/sh -c curl -u deploy:Pa55word https://repo/x", "Pa55word", "-u deploy:***"),
    ("/bin/sh -c curl --user deploy:Pa55word https://repo/x", "Pa55word", "--user deploy:***"),
    ("/bin/sh -c git clone https://bob:tok3n@github.com/x.git", "tok3n", "https://bob:***@github.com"),
    (
        "/bin/sh -c pip install --index-url https://__token__:pypi-AgEI@pypi.internal/simple x",
        "pypi-AgEI",
        "__token__:***@",
    ),
    (
        '/bin/sh -c curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y" https://api',
        "eyJhbGci",
        "Bearer ***",
    ),
    ("/bin/sh -c mysql --password=rootpw -e 'select 1'", "rootpw", "--password=***"),
    ("/bin/sh -c vault login --token s.abcdef123", "s.abcdef123", "--token ***"),
    ("/bin/sh -c echo ghp_abcdefghijklmnopqrstuvwxyz0123456789 > ~/.token", "ghp_abcdef", "echo ***"),
    ("/bin/sh -c echo xoxb-123456789012-abcdefghij", "xoxb-1234", "echo ***"),
    (
        "/bin/sh -c printf '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk"
        "\\n-----END OPENSSH PRIVATE KEY-----'",
        "b3BlbnNzaC1rZXk",
        "-----BEGIN OPENSSH PRIVATE KEY-----***-----END OPENSSH PRIVATE KEY-----",
    ),
    ("LABEL api_key: 0123456789", "0123456789", "api_key: ***"),
]

LEFT_ALONE = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin",
    "ENV PASSWORD_FILE=/run/secrets/db_password",
    "ENV SECRET_KEY_PATH=/etc/app/key.pem",
    "ENV PWD=/home/jovyan",
    "ENV GITHUB_TOKEN=$CI_JOB_TOKEN",
    "ENV PASSENGER_VERSION=6.0.20",
    "ENV TOKEN_URL=https://auth.example.com/token",
    "/bin/sh -c pip install --no-cache-dir jupyterlab==4.3.1",
    "/bin/sh -c curl -fsSL https://example.com:8443/install.sh | sh",
    "/bin/sh -c useradd -m -s /bin/bash jovyan",
    "/bin/sh -c #(nop)  LABEL maintainer=Jupyter Project <jupyter@googlegroups.com>",
    "/bin/sh -c #(nop) COPY file:0123abcd in /etc/passwd",
    'HEALTHCHECK --interval=30s CMD ["curl", "-f", "http://localhost/"]',
]


@pytest.mark.parametrize(("text", "secret", "kept"), MASKED, ids=[f"mask-{n}" for n in range(len(MASKED))])
def test_secrets_are_masked(text: str, secret: str, kept: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert kept in masked
    assert MASK in masked


@pytest.mark.parametrize("text", LEFT_ALONE, ids=[f"keep-{n}" for n in range(len(LEFT_ALONE))])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_masking_the_lineage_keeps_its_shape_and_hides_history_and_labels() -> None:
    base = image(BASE, "base:1")
    child = image([*BASE, "ENV API_TOKEN=supersecret"], "app:1")
    child = type(child)(
        **{**{f: getattr(child, f) for f in child.__slots__}, "labels": (("db.password", "pw"),)}
    )
    lineage = build_lineage([base, child], SOURCE)
    masked = mask_lineage(lineage)
    assert [(n.id, n.parent, n.added_size) for n in masked.nodes()] == [
        (n.id, n.parent, n.added_size) for n in lineage.nodes()
    ]
    node = masked.node(child.id)
    assert "supersecret" not in repr(node)
    assert node.image.labels == (("db.password", MASK),)
    assert node.steps[-1].created_by.endswith("ENV API_TOKEN=***")
    assert node.steps[0] is masked.node(base.id).steps[0]  # shared steps stay shared


def test_mask_scan_for_snapshots() -> None:
    scan = Scan(source=SOURCE, images=(image([*BASE, "ENV SECRET=abc"], "x:1"),))
    assert "abc" not in repr(mask_scan(scan).images[0].history)
