"""Secret masking on a corpus of realistic history lines, labels, and things to leave alone.

The fake secrets are generated (``_fake``) rather than written out, so that no
secret scanner mistakes this file for a leak; each has the exact shape of the real thing.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_lineage import secret_text
from image_lineage.lineage import build_lineage
from image_lineage.masking import MASK, mask_lineage, mask_scan, mask_text
from image_lineage.model import Scan
from tests.builders import BASE, SOURCE, image

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def _fake(prefix: str, length: int, alphabet: str = ALNUM, suffix: str = "") -> str:
    """``prefix`` + ``length`` characters drawn from ``alphabet`` (seeded: stable across runs)."""
    rng = random.Random(f"{prefix}{length}{alphabet}")
    return prefix + "".join(rng.choice(alphabet) for _ in range(length)) + suffix


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join(
    (
        _b64url({"alg": "HS256", "typ": "JWT"}),
        _b64url({"sub": "ci-deployer", "iat": 1716239022}),
        _fake("", 43, URLSAFE),
    )
)
AZURE_KEY = _fake("", 86, B64, "==")
AWS_SECRET = _fake("", 40, B64)
STRIPE = _fake("sk_" + "live_", 24)
HF = _fake("hf_", 34, string.ascii_letters)
GHP = _fake("ghp_", 36)
UUID = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"
SHA256 = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

# (id, history text, the secret that must disappear, what must remain)
MASKED_CASES: list[tuple[str, str, str, str]] = [
    # --- the cases masking started with -------------------------------------------------
    ("env-api-token", "/bin/sh -c #(nop)  ENV API_TOKEN=abc123def", "abc123def", "ENV API_TOKEN=***"),
    ("env-db-password-then-other", "ENV DB_PASSWORD=hunter2 MODE=prod", "hunter2", "MODE=prod"),
    ("env-double-quoted", 'ENV DB_PASSWORD="two words"', "two words", 'DB_PASSWORD="***"'),
    ("env-single-quoted-lowercase", "ENV db_password='quoted'", "quoted", "db_password='***'"),
    ("arg-npm-token", "|2 NPM_TOKEN=npm_s3cr3t PASSWORD=pw1 /bin/sh -c npm ci", "npm_s3cr3t", "-c npm ci"),
    ("arg-password", "|2 NPM_TOKEN=npm_s3cr3t PASSWORD=pw1 /bin/sh -c npm ci", "pw1", "PASSWORD=***"),
    ("arg-secret-name", "/bin/sh -c #(nop)  ARG GH_PAT_SECRET=ghsecret", "ghsecret", "ARG GH_PAT_SECRET=***"),
    (
        "env-aws-secret-access-key",
        "ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUt",
        "AWS_SECRET_ACCESS_KEY=***",
    ),
    (
        "aws-access-key-id",
        "RUN aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id ***",
    ),
    ("curl-u", "/bin/sh -c curl -u deploy:Pa55word https://repo/x", "Pa55word", "-u deploy:***"),
    ("curl-user", "/bin/sh -c curl --user deploy:Pa55word https://repo/x", "Pa55word", "--user deploy:***"),
    (
        "git-clone-url",
        "/bin/sh -c git clone https://bob:tok3n@github.com/x.git",
        "tok3n",
        "https://bob:***@github.com",
    ),
    (
        "pip-index-url-pypi-token",
        "/bin/sh -c pip install --index-url https://__token__:pypi-AgEI@pypi.internal/simple x",
        "pypi-AgEI",
        "__token__:***@",
    ),
    (
        "curl-bearer-jwt-header",
        '/bin/sh -c curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y" https://api',
        "eyJhbGci",
        "Bearer ***",
    ),
    ("mysql-password-flag", "/bin/sh -c mysql --password=rootpw -e 'select 1'", "rootpw", "--password=***"),
    ("vault-token-flag", "/bin/sh -c vault login --token s.abcdef123", "s.abcdef123", "--token ***"),
    ("github-pat-bare", f"/bin/sh -c echo {GHP} > ~/.token", "ghp_", "echo ***"),
    ("slack-bot-bare", "/bin/sh -c echo xoxb-123456789012-abcdefghij", "xoxb-1234", "echo ***"),
    (
        "openssh-private-key",
        "/bin/sh -c printf '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk"
        "\\n-----END OPENSSH PRIVATE KEY-----'",
        "b3BlbnNzaC1rZXk",
        "-----BEGIN OPENSSH PRIVATE KEY-----***-----END OPENSSH PRIVATE KEY-----",
    ),
    ("label-yaml-api-key", "LABEL api_key: 0123456789", "0123456789", "api_key: ***"),
    # --- what the review found unmasked (issue 7) ------------------------------------------
    ("stripe-sk-live-bare", f"/bin/sh -c echo {STRIPE} > /app/.stripe", STRIPE, "echo *** > /app/.stripe"),
    ("stripe-sk-live-env", f"ENV STRIPE={STRIPE}", STRIPE, "ENV STRIPE=***"),
    (
        "stripe-rk-live-label",
        f"LABEL billing.key={_fake('rk_' + 'live_', 24)}",
        "rk_live_",
        "billing.key=***",
    ),
    ("stripe-sk-test", f"ENV STRIPE={_fake('sk_' + 'test_', 24)}", "sk_test_", "ENV STRIPE=***"),
    ("stripe-webhook-secret", f"ENV STRIPE_WEBHOOK={_fake('whsec_', 32)}", "whsec_", "STRIPE_WEBHOOK=***"),
    (
        "huggingface-bare-python",
        f"/bin/sh -c python -c \"from huggingface_hub import login; login('{HF}')\"",
        HF,
        "login('***')",
    ),
    ("huggingface-env-other-name", f"ENV HF_HUB={HF}", HF, "ENV HF_HUB=***"),
    ("huggingface-cli-token", f"/bin/sh -c huggingface-cli login --token {HF}", HF, "--token ***"),
    ("jwt-bare-echo", f"/bin/sh -c echo {JWT} > /etc/app/service.jwt", JWT[:20], "echo *** > /etc/app"),
    ("jwt-in-label", f"LABEL io.example.deploy={JWT}", JWT[:20], "io.example.deploy=***"),
    ("jwt-unsigned", f"ENV SESSION={JWT.rsplit('.', 1)[0]}.", JWT[:20], "ENV SESSION=***"),
    (
        "azure-connection-string-env",
        'ENV AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acme;'
        f'AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net"',
        AZURE_KEY[:30],
        "AccountName=acme;AccountKey=***;EndpointSuffix=core.windows.net",
    ),
    (
        "azure-connection-string-cli",
        "/bin/sh -c az storage blob upload --connection-string "
        f"'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURE_KEY}' -f x -c y",
        AZURE_KEY[:30],
        "AccountKey=***'",
    ),
    (
        "azure-sas-in-connection-string",
        "ENV AZ_CONN='BlobEndpoint=https://acme.blob.core.windows.net/;"
        "SharedAccessSignature=sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=Zm9vYmFy%2Bqux%3D'",
        "Zm9vYmFy",
        "SharedAccessSignature=***'",
    ),
    (
        "azure-service-bus-key",
        "ENV SB='Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        f"SharedAccessKey={_fake('', 43, B64, '=')}'",
        _fake("", 43, B64, "=")[:20],
        "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=***",
    ),
    (
        "azure-sas-url-sig",
        "/bin/sh -c curl -fsSLo model.bin 'https://acme.blob.core.windows.net/models/m.bin"
        "?sv=2022-11-02&se=2030-01-01&sr=b&sp=r&sig=Xq9%2FwLk2bC3d%3D'",
        "Xq9%2FwLk2",
        "&sp=r&sig=***'",
    ),
    (
        "azure-account-key-flag",
        f"/bin/sh -c az storage container create -n c --account-name acme --account-key {AZURE_KEY}",
        AZURE_KEY[:30],
        "--account-key ***",
    ),
    (
        "azure-bare-key-near-azure",
        f"/bin/sh -c echo {AZURE_KEY} > /etc/azure/storage.key",
        AZURE_KEY[:30],
        "echo *** > /etc/azure",
    ),
    (
        "header-x-api-key-curl",
        '/bin/sh -c curl -H "X-API-Key: abc123secret" https://api',
        "abc123",
        "X-API-Key: ***",
    ),
    (
        "header-x-api-key-wget",
        "/bin/sh -c wget --header='x-api-key: abc123secret' https://api/x.tgz",
        "abc123",
        "x-api-key: ***'",
    ),
    (
        "header-apim-subscription-key",
        '/bin/sh -c curl -H "Ocp-Apim-Subscription-Key: 9f8e7d6c5b4a" https://api',
        "9f8e7d6c5b4a",
        "Ocp-Apim-Subscription-Key: ***",
    ),
    (
        "header-gitlab-private-token",
        f"/bin/sh -c curl --header 'PRIVATE-TOKEN: {_fake('glpat-', 20, URLSAFE)}' https://gitlab/api",
        "glpat-",
        "PRIVATE-TOKEN: ***'",
    ),
    (
        "header-jfrog-art-api",
        f'/bin/sh -c curl -H "X-JFrog-Art-Api: {_fake("AKCp", 69)}" -T f https://acme.jfrog.io/x',
        "AKCp",
        "X-JFrog-Art-Api: ***",
    ),
    (
        "header-vault-token",
        '/bin/sh -c curl -H "X-Vault-Token: root-tok-9" http://vault:8200',
        "root-tok-9",
        ": ***",
    ),
    (
        "header-bearer-wget-opaque",
        '/bin/sh -c wget --header "Authorization: Bearer opaque~token.value/1" https://x',
        "opaque~token",
        "Bearer ***",
    ),
    (
        "header-authorization-no-space",
        'curl -H "Authorization:Bearer abc123"',
        "abc123",
        "Authorization:Bearer ***",
    ),
    (
        "header-authorization-basic",
        "curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x",
        "dXNlcjpw",
        "Basic ***",
    ),
    ("header-authorization-token", 'curl -H "Authorization: token s3cr3t"', "s3cr3t", "token ***"),
    ("header-authorization-apikey", 'curl -H "Authorization: ApiKey abc:def"', "abc:def", "ApiKey ***"),
    (
        "header-authorization-bare",
        'curl -H "Authorization: 0123456789abcdef"',
        "0123456789",
        "Authorization: ***",
    ),
    (
        "git-extraheader",
        'git -c http.extraHeader="Authorization: Basic Zm9vOmJhcg==" clone https://x',
        "Zm9v",
        "***",
    ),
    (
        "docker-login-p",
        "/bin/sh -c docker login -u deploy -p s3cret registry.example.com",
        "s3cret",
        "-p *** reg",
    ),
    (
        "docker-login-p-attached",
        "/bin/sh -c docker login -u deploy -ps3cret reg.example.com",
        "s3cret",
        "-p***",
    ),
    (
        "docker-login-password",
        "/bin/sh -c docker login --password s3cret reg",
        "s3cret",
        "--password *** reg",
    ),
    (
        "docker-login-password-eq",
        "/bin/sh -c docker login --username=u --password=s3cret reg",
        "s3cret",
        "=***",
    ),
    ("podman-login-p", "/bin/sh -c podman login -p s3cret -u bot quay.io", "s3cret", "-p *** -u bot quay.io"),
    ("helm-registry-login-p", "/bin/sh -c helm registry login reg -u bot -p s3cret", "s3cret", "-p ***"),
    (
        "echo-into-docker-login",
        "/bin/sh -c echo s3cret | docker login -u bot --password-stdin reg",
        "s3cret",
        "echo *** | docker login -u bot --password-stdin",
    ),
    (
        "npm-config-set-authtoken-eq",
        f"/bin/sh -c npm config set //registry.example.com/:_authToken={UUID}",
        UUID,
        "//registry.example.com/:_authToken=***",
    ),
    (
        "npm-config-set-authtoken-space",
        f"/bin/sh -c npm config set //registry.example.com/:_authToken {UUID} && npm ci",
        UUID,
        "_authToken *** && npm ci",
    ),
    (
        "npmrc-auth-base64",
        "/bin/sh -c echo '//registry.example.com/:_auth=dXNlcjpwYXNz' >> ~/.npmrc",
        "dXNlcjpw",
        ":_auth=***'",
    ),
    ("npmrc-password", "/bin/sh -c echo '//reg/:_password=cGFzcw==' >> .npmrc", "cGFzcw", ":_password=***"),
    (
        "yarn-npm-auth-token",
        "/bin/sh -c yarn config set npmAuthToken abc-123-def",
        "abc-123",
        "npmAuthToken ***",
    ),
    ("npm-token-bare", f"/bin/sh -c echo {_fake('npm_', 36)} > /root/.npm-token", "npm_", "echo ***"),
    (
        "pip-index-url",
        "/bin/sh -c pip install --index-url https://ci:pa55word@pypi.example.com/simple app",
        "pa55word",
        "https://ci:***@pypi.example.com/simple",
    ),
    (
        "pip-extra-index-url-eq",
        "/bin/sh -c pip install --extra-index-url=https://ci:pa55word@pypi.example.com/simple app",
        "pa55word",
        "=https://ci:***@pypi.example.com",
    ),
    (
        "pip-index-url-at-in-password",
        "/bin/sh -c pip install -i https://ci:p@ss@pypi.example.com/simple app",
        "p@ss",
        "https://ci:***@pypi.example.com/simple",
    ),
    (
        "pip-index-url-env",
        "ENV PIP_EXTRA_INDEX_URL=https://ci:pa55word@pypi.example.com/simple",
        "pa55word",
        "PIP_EXTRA_INDEX_URL=https://ci:***@pypi.example.com/simple",
    ),
    (
        "git-token-as-user",
        f"/bin/sh -c git clone https://{_fake('', 40, HEX)}@github.com/acme/private.git",
        _fake("", 40, HEX),
        "https://***@github.com/acme",
    ),
    (
        "git-token-user-x-oauth-basic",
        f"/bin/sh -c git clone https://{_fake('', 40, HEX)}:x-oauth-basic@github.com/acme/p.git",
        _fake("", 40, HEX),
        "@github.com/acme/p.git",
    ),
    # --- detect-secrets' detectors, one or more shapes each ---------------------------------
    ("aws-asia-key-id", f"ENV AWS_ID={_fake('ASIA', 16, string.ascii_uppercase)}", "ASIA", "AWS_ID=***"),
    ("aws-a3t-key-id", f"LABEL k={_fake('A3TX', 16, string.ascii_uppercase)}", "A3TX", "k=***"),
    (
        "aws-configure-set-secret",
        f"/bin/sh -c aws configure set aws_secret_access_key {AWS_SECRET}",
        AWS_SECRET,
        "aws_secret_access_key ***",
    ),
    (
        "aws-credentials-ini",
        f"/bin/sh -c printf '[default]\\naws_secret_access_key = {AWS_SECRET}\\n' > ~/.aws/credentials",
        AWS_SECRET,
        "aws_secret_access_key = ***",
    ),
    (
        "aws-secret-quoted-context",
        "/bin/sh -c python -c \"boto3.client('s3', region_name='eu-west-1', "
        f"aws_secret_access_key='{AWS_SECRET}')\"",
        AWS_SECRET,
        "aws_secret_access_key='***'",
    ),
    (
        "aws-secret-other-name-quoted",
        f"/bin/sh -c echo \"aws_key: '{AWS_SECRET}'\" > /etc/app.yml",
        AWS_SECRET,
        "aws_key: '***'",
    ),
    ("artifactory-akc-bare", f"ENV ARTIFACTORY={_fake('AKCp', 69)}", "AKCp", "ENV ARTIFACTORY=***"),
    (
        "artifactory-ap-password",
        f"/bin/sh -c jfrog rt config --url https://acme.jfrog.io --user ci --pwd-enc {_fake('AP6', 20)}",
        _fake("AP6", 20),
        "--user ci --pwd-enc ***",
    ),
    (
        "cloudant-url",
        f"ENV DB_URL=https://acme:{_fake('', 64, HEX)}@acme.cloudant.com",
        _fake("", 64, HEX),
        "https://acme:***@acme.cloudant.com",
    ),
    (
        "cloudant-key-name",
        f"ENV CLOUDANT_KEY={_fake('', 24, string.ascii_lowercase)}",
        _fake("", 24, string.ascii_lowercase),
        "CLOUDANT_KEY=***",
    ),
    (
        "discord-bot-token",
        f"/bin/sh -c echo {_fake('MT', 22, URLSAFE)}.{_fake('', 6, URLSAFE)}.{_fake('', 27, URLSAFE)} > bot",
        _fake("MT", 22, URLSAFE),
        "echo *** > bot",
    ),
    (
        "discord-webhook-url",
        f"ENV ALERTS=https://discord.com/api/webhooks/123456789012345678/{_fake('', 68, URLSAFE)}",
        _fake("", 68, URLSAFE),
        "https://discord.com/api/webhooks/***",
    ),
    ("github-oauth-gho", f"ENV GH={_fake('gho_', 36)}", "gho_", "ENV GH=***"),
    (
        "github-server-ghs",
        f"/bin/sh -c gh auth login --with-token <<< {_fake('ghs_', 36)}",
        "ghs_",
        "<<< ***",
    ),
    ("github-fine-grained", f"ENV GH={_fake('github_pat_', 82, ALNUM + '_')}", "github_pat_", "ENV GH=***"),
    ("gitlab-deploy-token", f"ENV GL={_fake('gldt-', 20, URLSAFE)}", "gldt-", "ENV GL=***"),
    (
        "gitlab-runner-token",
        f"/bin/sh -c gitlab-runner register -r {_fake('glrt-', 20, URLSAFE)}",
        "glrt-",
        "-r ***",
    ),
    ("gitlab-runner-registration", f"ENV RR={_fake('GR1348941', 20, URLSAFE)}", "GR1348941", "ENV RR=***"),
    (
        "ibm-cloud-apikey-flag",
        f"/bin/sh -c ibmcloud login --apikey {_fake('', 44, URLSAFE)}",
        _fake("", 44, URLSAFE),
        "ibmcloud login --apikey ***",
    ),
    (
        "ibm-cloud-iam-key-name",
        f"ENV IBM_CLOUD_IAM_KEY={_fake('', 44, URLSAFE)}",
        _fake("", 44, URLSAFE),
        "IBM_CLOUD_IAM_KEY=***",
    ),
    (
        "ibm-cos-hmac",
        f"ENV COS_HMAC_SECRET_ACCESS_KEY={_fake('', 48, HEX)}",
        _fake("", 48, HEX),
        "COS_HMAC_SECRET_ACCESS_KEY=***",
    ),
    ("jwt-json-field", f'/bin/sh -c echo \'{{"jwt": "{JWT}"}}\' > /app/c.json', JWT[:20], '"jwt": "***"'),
    ("mailchimp", f"ENV MC={_fake('', 32, HEX)}-us14", _fake("", 32, HEX), "ENV MC=***"),
    ("openai-legacy", f"ENV LLM={_fake('sk-', 20)}T3BlbkFJ{_fake('', 20)}", "T3BlbkFJ", "ENV LLM=***"),
    ("openai-project", f"ENV LLM={_fake('sk-proj-', 120, URLSAFE)}", "sk-proj-", "ENV LLM=***"),
    ("anthropic", f"ENV LLM={_fake('sk-ant-api03-', 93, URLSAFE)}", "sk-ant-", "ENV LLM=***"),
    (
        "rsa-private-key",
        "/bin/sh -c echo '-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA"
        "\\n-----END RSA PRIVATE KEY-----'",
        "MIIEowIBAAKCAQEA",
        "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----",
    ),
    (
        "ec-private-key-unterminated",
        "/bin/sh -c echo '-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIBkg' > k",
        "MHcCAQEEIBkg",
        "-----BEGIN EC PRIVATE KEY-----***",
    ),
    (
        "pkcs8-encrypted-private-key",
        "/bin/sh -c echo '-----BEGIN ENCRYPTED PRIVATE KEY-----\\nMIIFHzBJBgkq"
        "\\n-----END ENCRYPTED PRIVATE KEY-----'",
        "MIIFHzBJBgkq",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----***-----END",
    ),
    (
        "pgp-private-key-block",
        "/bin/sh -c echo '-----BEGIN PGP PRIVATE KEY BLOCK-----\\nlQOYBGXxyz"
        "\\n-----END PGP PRIVATE KEY BLOCK-----'",
        "lQOYBGXxyz",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----***-----END PGP PRIVATE KEY BLOCK-----",
    ),
    (
        "putty-private-key",
        "/bin/sh -c printf 'PuTTY-User-Key-File-2: ssh-rsa\\nPrivate-Lines: 1\\nAAABAQCZ9xyz\\n"
        "Private-MAC: 0a1b' > k.ppk",
        "AAABAQCZ9xyz",
        "Private-Lines: 1***Private-MAC",
    ),
    (
        "pypi-token-bare",
        f"/bin/sh -c twine upload dist/* -u __token__ -p {_fake('pypi-AgEIcHlwaS5vcmc', 70)}",
        "pypi-",
        "-p ***",
    ),
    (
        "pypi-token-test",
        f"ENV TWINE={_fake('pypi-AgENdGVzdC5weXBpLm9yZw', 70, URLSAFE)}",
        "pypi-AgEN",
        "ENV TWINE=***",
    ),
    (
        "pypirc-password",
        "/bin/sh -c printf '[pypi]\\nusername = __token__\\npassword = s3cr3t-up\\n' > ~/.pypirc",
        "s3cr3t-up",
        "username = __token__\\npassword = ***",
    ),
    (
        "poetry-http-basic",
        "/bin/sh -c poetry config http-basic.acme ci s3cret && poetry install",
        "s3cret",
        "http-basic.acme ci *** && poetry install",
    ),
    (
        "poetry-pypi-token",
        "/bin/sh -c poetry config pypi-token.acme tok-123 && poetry publish",
        "tok-123",
        "pypi-token.acme *** &&",
    ),
    (
        "sendgrid",
        f"ENV MAIL={_fake('SG.', 22, URLSAFE)}.{_fake('', 43, URLSAFE)}",
        _fake("SG.", 22, URLSAFE),
        "ENV MAIL=***",
    ),
    (
        "slack-user-token",
        f"ENV S={_fake('xoxp-1234567890-1234567890-', 32, LOWER_ALNUM)}",
        "xoxp-",
        "ENV S=***",
    ),
    (
        "slack-webhook",
        f"ENV ALERTS=https://hooks.slack.com/services/T0123ABCD/B0123ABCD/{_fake('', 24)}",
        _fake("", 24),
        "https://hooks.slack.com/services/***",
    ),
    (
        "softlayer-api-url",
        f"/bin/sh -c curl https://api.softlayer.com/soap/v3.1/{_fake('', 64, LOWER_ALNUM)}/x",
        _fake("", 64, LOWER_ALNUM),
        "https://api.softlayer.com/soap/v3.1/***/x",
    ),
    (
        "softlayer-key-name",
        f"ENV SL_KEY={_fake('', 64, LOWER_ALNUM)}",
        _fake("", 64, LOWER_ALNUM),
        "SL_KEY=***",
    ),
    ("square-oauth-secret", f"ENV SQ={_fake('sq0csp-', 43, URLSAFE)}", "sq0csp-", "ENV SQ=***"),
    ("square-access-token", f"ENV SQ={_fake('sq0atp-', 22, URLSAFE)}", "sq0atp-", "ENV SQ=***"),
    (
        "telegram-bot-url",
        f"/bin/sh -c curl https://api.telegram.org/bot123456789:{_fake('AA', 33, URLSAFE)}/sendMessage",
        _fake("AA", 33, URLSAFE),
        "https://api.telegram.org/bot***/sendMessage",
    ),
    (
        "telegram-bot-env",
        f"ENV TG=123456789:{_fake('AA', 33, URLSAFE)}",
        _fake("AA", 33, URLSAFE),
        "ENV TG=***",
    ),
    ("twilio-account-sid", f"ENV TW={_fake('AC', 32, HEX)}", _fake("AC", 32, HEX), "ENV TW=***"),
    ("twilio-api-key-sid", f"ENV TW={_fake('SK', 32, HEX)}", _fake("SK", 32, HEX), "ENV TW=***"),
    # --- keyword detector: secret-sounding names in the forms config files take -----------
    ("keyword-apikey-camel", "ENV apiKey=abc123", "abc123", "apiKey=***"),
    ("keyword-client-secret", "ENV OIDC_CLIENT_SECRET=abc123", "abc123", "OIDC_CLIENT_SECRET=***"),
    ("keyword-account-key", "ENV STORAGE_ACCOUNT_KEY=abc123", "abc123", "STORAGE_ACCOUNT_KEY=***"),
    ("keyword-license-key", "ENV NEW_RELIC_LICENSE_KEY=abc123", "abc123", "NEW_RELIC_LICENSE_KEY=***"),
    ("keyword-master-key", "ENV RAILS_MASTER_KEY=abc123", "abc123", "RAILS_MASTER_KEY=***"),
    ("keyword-db-pass", "ENV DBPASS=abc123", "abc123", "DBPASS=***"),
    ("keyword-keypass", "ENV KEYPASS=abc123", "abc123", "KEYPASS=***"),
    ("keyword-contrasena", "ENV CONTRASENA=abc123", "abc123", "CONTRASENA=***"),
    ("keyword-vault-secret-id", "ENV VAULT_SECRET_ID=abc123", "abc123", "VAULT_SECRET_ID=***"),
    ("keyword-go-walrus", "/bin/sh -c echo 'password := \"abc123\"' > x.go", "abc123", 'password := "***"'),
    (
        "keyword-json",
        '/bin/sh -c echo \'{"db": {"password": "abc123"}}\' > c.json',
        "abc123",
        '"password": "***"',
    ),
    (
        "keyword-json-escaped",
        '/bin/sh -c echo "{\\"auth\\":\\"dXNlcjpwYXNz\\"}" > ~/.docker/config.json',
        "dXNlcjpw",
        '\\"auth\\":\\"***\\"',
    ),
    (
        "keyword-xml-maven",
        "/bin/sh -c echo '<server><id>acme</id><username>ci</username><password>abc123</password></server>'"
        " > ~/.m2/settings.xml",
        "abc123",
        "<username>ci</username><password>***</password>",
    ),
    (
        "keyword-jvm-property",
        "/bin/sh -c java -Djavax.net.ssl.keyStorePassword=abc123 -jar app.jar",
        "abc123",
        "-Djavax.net.ssl.keyStorePassword=***",
    ),
    (
        "keyword-netrc",
        "/bin/sh -c echo 'machine git.example.com login ci password abc123' > ~/.netrc",
        "abc123",
        "login ci password ***'",
    ),
    (
        "keyword-query-access-token",
        "/bin/sh -c curl 'https://api/x?access_token=abc123&v=2'",
        "abc123",
        "=***&v=2",
    ),
    # --- command-line passwords -----------------------------------------------------------
    (
        "mysql-p-attached",
        "/bin/sh -c mysql -u root -prootpw -e 'create database x'",
        "rootpw",
        "-u root -p***",
    ),
    ("sshpass-p", "/bin/sh -c sshpass -p s3cret scp f host:", "s3cret", "sshpass -p *** scp"),
    ("redis-cli-a", "/bin/sh -c redis-cli -a s3cret ping", "s3cret", "redis-cli -a *** ping"),
    (
        "openssl-pass",
        "/bin/sh -c openssl pkcs12 -export -passout pass:s3cret -out k.p12",
        "s3cret",
        "pass:***",
    ),
    (
        "keytool-storepass",
        "/bin/sh -c keytool -importcert -storepass s3cret -noprompt",
        "s3cret",
        "-storepass ***",
    ),
    ("chpasswd", "/bin/sh -c echo 'root:s3cret' | chpasswd", "s3cret", "echo 'root:***' | chpasswd"),
    (
        "wget-http-password",
        "/bin/sh -c wget --http-password=s3cret https://x",
        "s3cret",
        "--http-password=***",
    ),
    (
        "kubectl-docker-password",
        "/bin/sh -c kubectl create secret docker-registry r --docker-password=s3cret",
        "s3cret",
        "--docker-password=***",
    ),
    ("htpasswd-b", "/bin/sh -c htpasswd -Bbc /etc/nginx/.htpasswd admin s3cret", "s3cret", "admin ***"),
    (
        "cifs-mount-options",
        "/bin/sh -c mount -t cifs //nas/share /mnt -o username=ci,password=s3cret,uid=0",
        "s3cret",
        "username=ci,password=***",
    ),
    (
        "jupyter-token-exec-form",
        'CMD ["start-notebook.py", "--IdentityProvider.token=abc123", "--ServerApp.port=8888"]',
        "abc123",
        '"--IdentityProvider.token=***", "--ServerApp.port=8888"',
    ),
    ("cargo-login", "/bin/sh -c cargo login cio_s3cret && cargo publish", "cio_s3cret", "cargo login *** &&"),
    ("openssl-passwd", "/bin/sh -c useradd -p $(openssl passwd -6 s3cret) bob", "s3cret", "passwd -6 ***)"),
    # --- other well-known token shapes ----------------------------------------------------
    ("google-api-key", f"ENV MAPS={_fake('AIza', 35, URLSAFE)}", "AIza", "ENV MAPS=***"),
    ("google-oauth-access", f"ENV G={_fake('ya29.', 60, URLSAFE)}", "ya29.", "ENV G=***"),
    ("dockerhub-pat", f"/bin/sh -c echo {_fake('dckr_pat_', 27, URLSAFE)} > t", "dckr_pat_", "echo *** > t"),
    ("vault-service-token", f"ENV V={_fake('hvs.', 90, URLSAFE)}", "hvs.", "ENV V=***"),
    ("digitalocean-pat", f"ENV DO={_fake('dop_v1_', 64, HEX)}", "dop_v1_", "ENV DO=***"),
    ("databricks-pat", f"ENV DB={_fake('dapi', 32, HEX)}", "dapi", "ENV DB=***"),
    ("shopify-access", f"ENV SH={_fake('shpat_', 32, HEX)}", "shpat_", "ENV SH=***"),
    ("grafana-service-account", f"ENV GF={_fake('glsa_', 32)}_{_fake('', 8, HEX)}", "glsa_", "ENV GF=***"),
    (
        "age-secret-key",
        f"ENV AGE={_fake('AGE-SECRET-KEY-1', 58, string.ascii_uppercase + '023456789')}",
        "AGE-",
        "=***",
    ),
    ("rubygems-key", f"ENV GEM={_fake('rubygems_', 48, HEX)}", "rubygems_", "ENV GEM=***"),
    ("huggingface-org", f"ENV HFO={_fake('api_org_', 34, string.ascii_letters)}", "api_org_", "ENV HFO=***"),
]

# Look-alikes: history lines, labels and values that must come out exactly as they went in.
LEFT_ALONE_CASES: list[tuple[str, str]] = [
    # --- the cases masking started with ----------------------------------------------------
    ("env-path", "ENV PATH=/usr/local/bin:/usr/bin:/bin"),
    ("password-file", "ENV PASSWORD_FILE=/run/secrets/db_password"),
    ("secret-key-path", "ENV SECRET_KEY_PATH=/etc/app/key.pem"),
    ("pwd-variable", "ENV PWD=/home/jovyan"),
    ("token-from-variable", "ENV GITHUB_TOKEN=$CI_JOB_TOKEN"),
    ("passenger-version", "ENV PASSENGER_VERSION=6.0.20"),
    ("token-url", "ENV TOKEN_URL=https://auth.example.com/token"),
    ("pip-pin", "/bin/sh -c pip install --no-cache-dir jupyterlab==4.3.1"),
    ("url-with-port", "/bin/sh -c curl -fsSL https://example.com:8443/install.sh | sh"),
    ("useradd", "/bin/sh -c useradd -m -s /bin/bash jovyan"),
    ("maintainer-email", "/bin/sh -c #(nop)  LABEL maintainer=Jupyter Project <jupyter@googlegroups.com>"),
    ("copy-to-etc-passwd", "/bin/sh -c #(nop) COPY file:0123abcd in /etc/passwd"),
    ("healthcheck", 'HEALTHCHECK --interval=30s CMD ["curl", "-f", "http://localhost/"]'),
    # --- digests, ids, hashes and checksums users need to see ---------------------------------
    ("sha256-digest", f"/bin/sh -c #(nop) ADD file:{SHA256} in / "),
    ("from-digest", f"FROM python@sha256:{SHA256}"),
    ("sha256sum-check", f'/bin/sh -c echo "{SHA256}  node.tar.xz" | sha256sum -c -'),
    ("sha512sum-check", f'/bin/sh -c echo "{_fake("", 128, HEX)}  go.tgz" | sha512sum -c'),
    ("checksum-env", f"ENV NODE_SHA256={SHA256}"),
    ("git-commit-env", f"ENV GIT_COMMIT={_fake('', 40, HEX)}"),
    ("git-checkout-commit", f"/bin/sh -c git checkout {_fake('', 40, HEX)}"),
    ("oci-revision-label", f"LABEL org.opencontainers.image.revision={_fake('', 40, HEX)}"),
    ("gpg-key-fingerprint", "ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"),
    (
        "gpg-recv-keys",
        "/bin/sh -c gpg --batch --keyserver hkps://keys.openpgp.org"
        " --recv-keys 7169605F62C751356D054A26A821E680E5FA6305",
    ),
    ("pip-hash", f"/bin/sh -c pip install --require-hashes requests==2.32.3 --hash=sha256:{SHA256}"),
    (
        "npm-integrity-sha512",
        f'/bin/sh -c echo \'"integrity": "sha512-{_fake("", 86, B64, "==")}"\' > lock.json',
    ),
    ("image-id", f"sha256:{SHA256}"),
    ("uuid-label", f"LABEL build.id={UUID}"),
    ("md5-checksum", '/bin/sh -c echo "d41d8cd98f00b204e9800998ecf8427e  f" | md5sum -c'),
    # --- names that mention a secret but hold no value -----------------------------------------
    ("password-stdin", "/bin/sh -c cat /run/secrets/pw | docker login -u bot --password-stdin reg"),
    (
        "echo-var-password-stdin",
        '/bin/sh -c echo "$REGISTRY_PASSWORD" | docker login -u bot --password-stdin reg',
    ),
    ("docker-login-no-p", "/bin/sh -c docker login -u bot reg.example.com"),
    ("auth-type-basic", "ENV AUTH_TYPE=basic"),
    ("auth-method", "ENV AUTH_METHOD=oidc"),
    ("token-ttl", "ENV TOKEN_TTL=3600"),
    ("token-header", "ENV TOKEN_HEADER=X-Auth-Token"),
    ("secrets-dir", "ENV SECRETS_DIR=/run/secrets"),
    ("secret-name-k8s", "ENV DB_SECRET_NAME=postgres-credentials"),
    ("password-min-length", "ENV PASSWORD_MIN_LENGTH=12"),
    ("password-file-camel", "ENV keyStorePasswordFile=/etc/ssl/pw.txt"),
    ("service-bus-key-name-only", "ENV SB_KEY_NAME=RootManageSharedAccessKey"),
    ("tokenizers-parallelism", "ENV TOKENIZERS_PARALLELISM=false"),
    ("max-tokens", "ENV MAX_NEW_TOKENS=512"),
    ("bypass", "ENV NO_PROXY_BYPASS=localhost"),
    ("boolean-secret-flag", "ENV DISABLE_PASSWORD=true"),
    ("empty-password", "ENV MYSQL_ALLOW_EMPTY_PASSWORD=yes"),
    ("empty-value", 'ENV JUPYTER_TOKEN=""'),
    ("braced-variable", "ENV DB_PASSWORD=${DB_PASSWORD}"),
    ("command-substitution", "/bin/sh -c export API_KEY=$(cat /run/secrets/api_key) && ./run"),
    ("placeholder", "ENV API_KEY=<your-api-key>"),
    ("template", "ENV API_KEY={{ .Values.apiKey }}"),
    ("private-key-path", "ENV SSH_PRIVATE_KEY=/root/.ssh/id_ed25519"),
    ("client-key-path", "ENV CLIENT_KEY=/etc/ssl/private/client.key"),
    ("tls-key-flag-path", "/bin/sh -c curl --key client.key --cert client.crt https://x"),
    ("password-file-flag", "/bin/sh -c mysql --defaults-file=/etc/mysql/debian.cnf -e 'select 1'"),
    ("token-file-flag", "/bin/sh -c vault login --token-file /run/secrets/vault"),
    ("no-password-flag", "/bin/sh -c ssh-keygen -t ed25519 -N '' -f /root/.ssh/id --no-password --quiet"),
    ("buildkit-secret-mount", "RUN --mount=type=secret,id=npm_token,target=/root/.npmrc npm ci"),
    ("buildkit-secret-flag", "/bin/sh -c docker build --secret id=npmrc,src=/root/.npmrc ."),
    ("npmrc-from-variable", '/bin/sh -c echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc'),
    ("authorization-from-variable", '/bin/sh -c curl -H "Authorization: Bearer $TOKEN" https://api'),
    ("authorization-placeholder", 'LABEL docs="API: send Authorization: Bearer <token>"'),
    ("x-api-key-from-variable", '/bin/sh -c curl -H "X-API-Key: ${API_KEY}" https://api'),
    (
        "url-user-from-variable",
        "/bin/sh -c pip install -i https://aws:${CODEARTIFACT_TOKEN}@acme.d.codeartifact/simple x",
    ),
    ("chpasswd-from-variable", '/bin/sh -c echo "root:${ROOT_PASSWORD}" | chpasswd'),
    # --- everyday configuration that mentions passwords, keys and auth ----------------------
    ("sudoers-nopasswd", "/bin/sh -c echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers"),
    (
        "sshd-permit-root",
        "/bin/sh -c sed -i 's/^#PermitRootLogin.*/PermitRootLogin prohibit-password/' sshd_config",
    ),
    ("postgres-auth-method", "ENV POSTGRES_HOST_AUTH_METHOD=trust"),
    ("mysql-random-root-password", "ENV MYSQL_RANDOM_ROOT_PASSWORD=yes"),
    ("rails-dummy-secret", "/bin/sh -c SECRET_KEY_BASE_DUMMY=1 bundle exec rails assets:precompile"),
    ("pgpassfile", "ENV PGPASSFILE=/root/.pgpass"),
    ("password-store-dir", "ENV PASSWORD_STORE_DIR=/root/.password-store"),
    ("ssh-auth-sock", "ENV SSH_AUTH_SOCK=/run/host-services/ssh-auth.sock"),
    ("jwt-algorithm", "ENV JWT_ALGORITHM=RS256 TOKEN_AUDIENCE=api://default"),
    ("grafana-anonymous", "ENV GF_AUTH_ANONYMOUS_ENABLED=true GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer"),
    (
        "apt-signed-by",
        '/bin/sh -c echo "deb [signed-by=/usr/share/keyrings/docker.gpg] https://download.docker.com/linux/debian'
        ' bookworm stable" > /etc/apt/sources.list.d/docker.list',
    ),
    (
        "gpg-dearmor",
        "/bin/sh -c curl -fsSL https://download.docker.com/linux/debian/gpg"
        " | gpg --dearmor -o /usr/share/keyrings/d.gpg",
    ),
    ("ssh-mount", "RUN --mount=type=ssh git clone git@github.com:acme/private.git"),
    ("vault-addr", "ENV VAULT_ADDR=http://127.0.0.1:8200"),
    ("node-options", "ENV NODE_OPTIONS=--max-old-space-size=4096"),
    ("gosu-key", "ENV GOSU_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4"),
    # --- package managers, URLs and flags that look like credentials ---------------------------
    ("pip-pypi-org", "/bin/sh -c pip install --index-url https://pypi.org/simple requests"),
    (
        "pip-extra-index",
        "/bin/sh -c pip install --extra-index-url https://download.pytorch.org/whl/cpu torch",
    ),
    ("git-user-only-url", "/bin/sh -c git clone https://git@github.com/acme/repo.git"),
    ("ssh-git-url", "/bin/sh -c git clone git@github.com:acme/repo.git"),
    ("url-port-and-path", "ENV MIRROR=http://mirror.example.com:3142/debian"),
    ("email-in-label", "LABEL org.opencontainers.image.authors=ops@example.com"),
    ("uid-gid", "/bin/sh -c docker run --rm -u 1000:1000 alpine id && sudo -u postgres psql -l"),
    ("mkdir-p", "/bin/sh -c mkdir -p /opt/app && ssh -p 2222 host true"),
    ("mysql-p-prompt", "/bin/sh -c mysql -u root -p mydb < schema.sql"),
    ("podman-login-get", "/bin/sh -c podman login --get-login quay.io"),
    (
        "hf-transfer",
        "/bin/sh -c pip install hf_transfer && python -c 'from huggingface_hub import hf_hub_download'",
    ),
    ("hf-home", "ENV HF_HOME=/data/hf HF_HUB_ENABLE_HF_TRANSFER=1"),
    ("stripe-publishable", f"ENV STRIPE_PUBLISHABLE={_fake('pk_' + 'live_', 24)}"),
    ("scikit-learn", "/bin/sh -c pip install scikit-learn scikit-image sk-video"),
    ("akc-word", "/bin/sh -c apt-get install -y akcli"),
    (
        "aws-cli-download",
        '/bin/sh -c curl "https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip" -o awscliv2.zip',
    ),
    ("aws-s3-cp", "/bin/sh -c aws s3 cp s3://acme-artifacts/keys/public.pem /etc/ssl/"),
    ("openssl-genrsa-pub", "/bin/sh -c openssl rsa -in key.pem -pubout -out pub.pem"),
    (
        "public-key-block",
        "/bin/sh -c echo '-----BEGIN PUBLIC KEY-----\\nMIIBIjANBg\\n-----END PUBLIC KEY-----' > k",
    ),
    (
        "certificate-block",
        "/bin/sh -c echo '-----BEGIN CERTIFICATE-----\\nMIIDdzCCAl\\n-----END CERTIFICATE-----'",
    ),
    ("ssh-keyscan", "/bin/sh -c ssh-keyscan github.com >> ~/.ssh/known_hosts"),
    (
        "sshd-password-auth",
        "/bin/sh -c sed -i 's/#PasswordAuthentication yes/PasswordAuthentication no/' sshd_config",
    ),
    ("apt-key", "/bin/sh -c apt-key adv --keyserver keyserver.ubuntu.com --recv-keys 0xB1998361219BD9C9"),
    ("public-ip", "ENV UPSTREAM=203.0.113.7:8080"),
    ("private-key-docs", "LABEL description=Mount your private key at /run/secrets/key"),
    ("keyword-in-prose", "LABEL description=Set the API token with --token-file or TOKEN_FILE"),
    ("jwt-prose", "LABEL docs=Tokens look like eyJhbGciOi.eyJzdWIi.signature and expire hourly"),
    ("jwt-header-only", "LABEL example.alg=eyJhbGciOiJIUzI1NiJ9"),
    ("jwt-placeholder", "LABEL example=eyJxxx.yyy.zzz"),
    ("base64-config", "ENV FEATURE_FLAGS=eyJkYXJrIjp0cnVlfQ=="),
    ("slack-docs-url", "LABEL docs=https://api.slack.com/messaging/webhooks"),
    ("discord-link", "LABEL community=https://discord.com/invite/acme"),
    ("telegram-channel", "LABEL support=https://t.me/acme_support"),
    ("ibm-cloud-region", "ENV IBMCLOUD_REGION=us-south IBM_CLOUD_API_ENDPOINT=https://cloud.ibm.com"),
    ("azure-account-name", "ENV AZURE_STORAGE_ACCOUNT=acmeprod AZURE_CONTAINER=models"),
    ("azure-sas-var", 'ENV AZ="AccountName=acme;AccountKey=${AZURE_KEY}"'),
    ("timestamp-colon", "LABEL build.date=2024-05-20T10:11:12Z build.number=20240520:1"),
    ("cmd-json", 'CMD ["jupyter", "lab", "--ServerApp.token=", "--ServerApp.password="]'),
    ("go-build", "/bin/sh -c CGO_ENABLED=0 go build -ldflags='-s -w' -o /app ./cmd/app"),
    ("token-counting-code", '/bin/sh -c python -c "tokens = tokenizer(text); print(len(tokens))"'),
    ("conda-channel", "/bin/sh -c conda install -c conda-forge -y passlib keyring"),
    ("keyring-install", "/bin/sh -c pip install keyrings.google-artifactregistry-auth"),
]

MASKED = [pytest.param(text, secret, kept, id=name) for name, text, secret, kept in MASKED_CASES]
LEFT_ALONE = [pytest.param(text, id=name) for name, text in LEFT_ALONE_CASES]


def test_case_names_are_unique() -> None:
    names = [c[0] for c in MASKED_CASES] + [c[0] for c in LEFT_ALONE_CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("text", "secret", "kept"), MASKED)
def test_secrets_are_masked(text: str, secret: str, kept: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert kept in masked
    assert MASK in masked


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize("text", [pytest.param(text, id=name) for name, text, _, _ in MASKED_CASES])
def test_masking_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@pytest.mark.parametrize(
    ("text", "secret"), [pytest.param(text, secret, id=name) for name, text, secret, _ in MASKED_CASES]
)
def test_secret_is_masked_as_a_label_value(text: str, secret: str) -> None:
    """Labels are masked too: a label holding the whole line hides the same secret."""
    base = image(BASE, "base:1")
    child = image(BASE, "app:1")
    child = type(child)(**{**{f: getattr(child, f) for f in child.__slots__}, "labels": (("run", text),)})
    masked = mask_lineage(build_lineage([base, child], SOURCE)).node(child.id).image.labels
    assert secret not in masked[0][1]


_TEXT = st.text(
    alphabet=st.sampled_from(string.printable + "ñ€"),
    max_size=300,
)
_TOKENISH = st.lists(
    st.sampled_from(
        [
            "ENV ",
            "PASSWORD",
            "TOKEN",
            "=",
            ":",
            " ",
            "'",
            '"',
            "https://",
            "u:p@",
            "@",
            "-p",
            "--password",
            "Authorization: ",
            "Bearer ",
            "eyJ",
            ".",
            "sk_live_",
            "AKIA",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----",
            "AccountKey=",
            ";",
            "&",
            "sig=",
            "$",
            "{",
            "}",
            "\\",
            "<",
            ">",
            "docker login ",
            "echo ",
            "| ",
            "chpasswd",
            "_authToken",
            "aws",
            "key",
            "abc123",
            "a" * 40,
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_TEXT, _TOKENISH))
def test_masking_random_text_is_idempotent_and_total(text: str) -> None:
    once = mask_text(text)
    assert isinstance(once, str)
    assert mask_text(once) == once


# Inputs that make a careless regex backtrack (quadratically or worse): each must mask
# in well under a second at 20,000 characters; a quadratic pattern takes tens of seconds.
_ADVERSARIAL = {
    "dots": "a." * 10_000,
    "scheme-like": "a+b-" * 5_000 + "://",
    "equals": "=" * 20_000,
    "colons": "PASSWORD:" * 2_000,
    "assignments": "TOKEN=" * 3_000,
    "url-at": "https://u:" + "@" * 20_000,
    "url-no-at": "https://u:" + "p" * 20_000,
    "private-key-begins": "-----BEGIN RSA PRIVATE KEY-----" * 600,
    "jwt-like": "eyJ" + "a." * 10_000,
    "aws-context": "aws key " * 2_500,
    "base64": "A" * 20_000,
    "digits-colon": "1234567890:" * 1_800,
    "quotes": "\"'" * 10_000,
    "xml": "<password>" * 2_000,
    "json": '"password":' * 2_000,
    "login": "docker login " * 1_500 + "-p",
    "spaces": " " * 20_000 + "x",
}


@pytest.mark.parametrize("text", list(_ADVERSARIAL.values()), ids=list(_ADVERSARIAL))
def test_no_catastrophic_backtracking(text: str) -> None:
    mask_text.cache_clear()
    started = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - started < 1.0


def test_every_pattern_is_precompiled() -> None:
    assert all(isinstance(pattern, re.Pattern) for pattern, *_ in secret_text._RULES)


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


def _mask_by_every_rule(text: str) -> str:
    """``mask_text`` as it reads: every rule whose word the text holds, pass after pass."""
    for _ in range(secret_text._MAX_PASSES):
        masked = text
        for pattern, substitute, words in secret_text._RULES:
            if not words or any(word in masked.lower() for word in words):
                masked = pattern.sub(substitute, masked)
        if masked == text:
            break
        text = masked
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_TEXT, _TOKENISH))
def test_skipping_rules_whose_words_are_absent_changes_nothing(text: str) -> None:
    """``mask_text`` looks for the rules' longer words once (most text holds none) and skips
    the rules gated on them alone: the same answer as asking every rule."""
    assert secret_text.mask_text.__wrapped__(text) == _mask_by_every_rule(text)


@pytest.mark.parametrize("text", [c[1] for c in MASKED_CASES] + [c[1] for c in LEFT_ALONE_CASES])
def test_the_corpus_masks_as_by_every_rule(text: str) -> None:
    assert secret_text.mask_text.__wrapped__(text) == _mask_by_every_rule(text)
