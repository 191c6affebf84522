"""What a secret looks like in text, and ``mask_text``: the floor under ``masking``.

Build histories routinely carry credentials: ``ENV API_TOKEN=...``, ``ARG PASSWORD``
values recorded in ``RUN`` lines, ``curl -u user:pass``, ``https://user:pass@host``,
cloud keys, private key blocks. Every output masks them by default; ``--show-secrets``
(and the app's switch) skips this module.

Masking keeps the shape of the text (the variable name, the user name, the URL) and
replaces only the value with ``***``, so a reader still sees what the step did.
``masking.py`` applies it to records and lineages after ancestry; the cache asks it whether
an answer holds a secret before keeping it.

Coverage takes Yelp/detect-secrets' detectors as its floor (their shapes, not the
package: nothing here imports it). Detector -> rule below:

- AWSKeyDetector: ``_TOKENS`` (``AKIA``/``ASIA``/``ABIA``/``ACCA``/``A3T?`` key ids),
  ``_AWS_SECRET`` (40-character key quoted near ``aws``...``key``), ``_AWS_CONFIGURE``
- AzureStorageKeyDetector: ``_AZURE_KEYS`` (``AccountKey=``, ``SharedAccessKey=``,
  ``SharedAccessSignature=``), ``_AZURE_BARE_KEY`` (88-character key on a line naming
  Azure), ``_URL_SIGNATURE`` (``sig=`` of SAS URLs)
- ArtifactoryDetector: ``_TOKENS`` (``AKC...``), ``_ARTIFACTORY_PASSWORD`` (``AP...``
  on a line naming Artifactory/JFrog), header ``X-JFrog-Art-Api`` (keyword)
- BasicAuthDetector, CloudantDetector (URL form): ``_URL_CREDENTIALS``
- CloudantDetector, IbmCloudIamDetector, IbmCosHmacDetector, SoftlayerDetector (named
  keys): ``_SECRET_NAME``; SoftLayer API URLs: ``_SOFTLAYER_URL``
- DiscordBotTokenDetector, GitHubTokenDetector, GitLabTokenDetector, MailchimpDetector,
  OpenAIDetector, PypiTokenDetector, SendGridDetector, SlackDetector, SquareOAuthDetector,
  StripeDetector, TwilioKeyDetector: ``_TOKENS`` (+ Slack and Discord webhook URLs:
  ``_WEBHOOK_URL``); TelegramBotTokenDetector: ``_TELEGRAM_TOKEN``
- JwtTokenDetector: ``_JWT`` (header and payload must decode to JSON, as there)
- NpmDetector: ``_TOKENS`` (``npm_``), ``.npmrc`` keys through ``_SECRET_NAME``
  (``_authToken``, ``_auth``, ``_password``) and ``_PACKAGE_MANAGER_CONFIG``
- PrivateKeyDetector: ``_PRIVATE_KEY`` (PEM, OpenSSH, PGP blocks), ``_PUTTY_KEY``
- KeywordDetector: ``_SECRET_NAME`` (its denylist) applied to ``NAME=value``,
  ``name: value``, ``name = value``, ``name := value``, ``-Dname=value`` (``_ASSIGNMENT``),
  ``"name": "value"`` (``_QUOTED_KEY``), ``<name>value</name>`` (``_XML_ELEMENT``),
  HTTP headers (``X-API-Key: ...``, ``_AUTHORIZATION``) and ``--name value`` flags
  (``_CLI_SECRET_FLAG``)

Deliberately not covered: Base64/HexHighEntropyString (a high-entropy string is
masked only where a name, flag, header or known prefix says it is a secret: on its own
it is far more often a digest, an image id, a commit or a checksum, which users need to
read), and IPPublicDetector (an address is not a credential).

Beyond that floor: command lines that take a password positionally (``docker login -p``,
``mysql -pX``, ``sshpass -p``, ``openssl ... pass:X``, ``keytool -storepass``,
``htpasswd -b``, ``chpasswd``, ``poetry config``, ``cargo login``...) and more vendors'
token prefixes (Hugging Face, Google, Docker Hub, Vault, DigitalOcean, Databricks,
Shopify, Grafana, age, RubyGems).

Every pattern is compiled once, and each is linear in the length of its input: starts
are pinned by a look-behind or a literal, and open-ended scans are bounded. A rule runs
only on text that contains one of its words, so an ordinary line costs a few substring
checks and the two or three rules it could concern.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable

MASK = "***"

# --- what counts as a secret's name, and as a value that is no secret -------------------

# KeywordDetector's denylist (password, passwd, pwd, secret, token, api/app/auth/service/
# account/client/db/private key, keypass, contraseña...), plus the IBM/Cloudant/SoftLayer
# key names and the header spellings (X-API-Key, PRIVATE-TOKEN, X-JFrog-Art-Api).
_SECRET_NAME = re.compile(
    r"PASSWORD|(?<!NO)PASSWD|PASSPHRASE|PASSCODE|(?<!BY)(?<!COM)PASS$|^PASS[_.-]|[_.-]PASS[_.-]|PWD"
    r"|SECRET|TOKEN(?!IZ|S(?:$|[_.-]))|CREDENTIAL|CONTRASE(?:N|Ñ)A"
    r"|(?:API|APP|APPLICATION|AUTH|SERVICE|ACCOUNT|ACCESS|CLIENT|DB|DATABASE|PRIVATE|PRIV|SESSION"
    r"|SIGNING|ENCRYPTION|MASTER|LICENSE|SUBSCRIPTION)[_.-]?KEY"
    r"|(?:^|[_.-])(?:IBM|IAM|CLOUDANT|SOFTLAYER|SL|COS|HMAC)(?:[_.-]?(?:CLOUD|IAM|API|HMAC))*[_.-]?KEY"
    r"|^_?AUTH$|[_.-]AUTH$|AUTH[_.-]?IDENT|ART[_.-]?API$",
    re.IGNORECASE,
)
# ... unless the name says the value points *at* a secret or describes it:
# PASSWORD_FILE=/run/secrets/db, TOKEN_URL=https://..., TOKEN_TTL=3600, passwordFile=...
_POINTER_SUFFIXES = (
    "FILE|FILES|PATH|DIR|DIRECTORY|FILENAME|LOCATION|NAME|LENGTH|POLICY|URL|URI|HOST|PORT|ENDPOINT"
    "|TYPE|MODE|METHOD|ALGORITHM|HEADER|PROVIDER|VERSION|TTL|TIMEOUT|EXPIRY|EXPIRES|EXPIRATION"
    "|LIFETIME|ENABLED|REQUIRED|SIZE|BITS|FORMAT|PREFIX|ENV|VAR|SCOPE|SCOPES|ISSUER|AUDIENCE|HELPER"
)
_POINTER_NAME = re.compile(
    rf"(?:[_.-](?i:{_POINTER_SUFFIXES})|(?<=[a-z])(?:{_POINTER_SUFFIXES.title()}|URL))$"
)
_PWD_VARIABLE = re.compile(r"^(?:OLD)?PWD$", re.IGNORECASE)  # the shell's working directory
# Values that say nothing secret even under a secret's name (DISABLE_PASSWORD=true).
_PLAIN_VALUES = frozenset(
    {"", "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "0", "1", "enabled", "disabled"}
)
# A value that *names* a secret rather than holding one: $VAR, ${VAR}, $(cmd), `cmd`,
# {{ template }}, <placeholder>, %VAR%. Crypt hashes ($6$..., $y$...) are not references.
_REFERENCE = re.compile(r"\$(?!(?:y|gy|2[aby]?)\$)[{(A-Za-z_]|`|\{\{|<[^<>]*>$|%\w+%$")
# A path where a secret is kept (SSH_PRIVATE_KEY=/root/.ssh/id_ed25519). The forms are
# narrow on purpose: a base64 secret may begin with "/", but not with "/etc/".
_PATH_VALUE = re.compile(
    r"(?:~|\.\.?)/\S*"
    r"|/(?:etc|root|home|run|var|opt|usr|tmp|srv|mnt|data|app|secrets|certs?|keys?|config)/\S*"
    r"|/\S*\.(?:pem|key|crt|cer|der|p12|pfx|jks|json|txt|asc|gpg|pub|conf|cfg|ini|env|ya?ml)"
)
_AUTH_SCHEMES = frozenset({"basic", "bearer", "token", "digest", "negotiate", "apikey", "ntlm"})


def _unquoted(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


def _is_value(value: str) -> bool:
    """Whether ``value`` (quoted or not) holds something to hide, rather than nothing or a reference."""
    bare = _unquoted(value)
    return not (bare.lower() in _PLAIN_VALUES or _REFERENCE.match(bare) or _PATH_VALUE.fullmatch(bare))


def _holds_secret(name: str, value: str) -> bool:
    """KeywordDetector's decision: a secret's name, holding a value."""
    if not _SECRET_NAME.search(name) or _POINTER_NAME.search(name) or _PWD_VARIABLE.match(name):
        return False
    return _is_value(value)


def _masked(value: str) -> str:
    """``***`` in place of ``value``, inside the same quotes."""
    quote = value[0] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else ""
    return f"{quote}{MASK}{quote}"


def _mask_value(match: re.Match[str]) -> str:
    """Keep ``head``, mask ``value`` (unless it is empty or a reference)."""
    value = match.group("value")
    return match.group("head") + _masked(value) if _is_value(value) else match.group(0)


# --- rules ---------------------------------------------------------------------------------

# A value: quoted, or a run of characters that a shell or a config line would end it with.
# An unquoted value also ends at a literal "\n" (printf '...\npassword = x') and where
# another assignment begins after "," or "?" (-o username=u,password=p; ?access_token=x):
# a harmless name must not swallow the secret that follows it.
_UNQUOTED = (
    r"""(?:[^\s"'`;&|)}\\]|\\[^nrt\s])+?"""
    r"""(?=[\s"'`;&|)}]|\\[nrt\s]|\\$|$|[,?][A-Za-z_][\w.-]{0,80}=)"""
)
_BARE_VALUE = rf"(?P<value>{_UNQUOTED})"
_VALUE = rf"""(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|{_UNQUOTED})"""
_SEP_ANY = r"(?:[ \t]+|=)"

_PRIVATE_KEY = re.compile(
    r"(?P<head>-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----)(?P<value>.*?)"
    r"(?=-----END[A-Z0-9 ]{0,40} PRIVATE KEY|$)",
    re.DOTALL,
)
_PUTTY_KEY = re.compile(
    r"(?P<head>Private-Lines:[ \t]*\d+)(?P<value>.*?)(?=Private-(?:MAC|Hash):|$)", re.DOTALL
)
# scheme://userinfo@host: the userinfo runs to the *last* "@" before the path, so a
# password with a stray "@" is still hidden whole.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>(?<![\w+.-])[A-Za-z][\w+.-]{0,30}://)(?P<userinfo>[^/\s'\"?#<>]*)@(?=[\w\[])"
)
_TOKENISH_USER = re.compile(r"(?=[A-Za-z_]*\d)(?=\w*[A-Za-z])\w{20,}")
_URL_SIGNATURE = re.compile(
    r"(?P<head>[?&](?:sig|signature|x-amz-signature|x-goog-signature)=)(?P<value>[^&#\s'\"]+)", re.I
)
_WEBHOOK_URL = re.compile(
    r"(?P<head>\bhooks\.slack\.com/(?:services|workflows|triggers)/|\bdiscord(?:app)?\.com/api/webhooks/)"
    r"(?P<value>[\w/-]+)"
)
_SOFTLAYER_URL = re.compile(
    r"(?P<head>\bapi\.softlayer\.com/(?:soap|rest)/v3(?:\.1)?/)(?P<value>[a-z0-9]{64})", re.I
)
_AZURE_KEYS = re.compile(
    r"(?P<head>(?<![\w-])(?:AccountKey|SharedAccessKey|SharedAccessSignature)[ \t]*=[ \t]*)"
    r"(?P<value>[^;\s'\"<>|`)]+)",
    re.I,
)
_AZURE_BARE_KEY = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/]{86}==(?![\w+/=])")
_ARTIFACTORY_PASSWORD = re.compile(r"(?:(?<=[\s=:\"'])|^)AP[\dA-F][A-Za-z0-9]{8,}(?=[\s\"']|$)")
_AWS_SECRET = re.compile(
    r"(?P<head>\baws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"])"
    r"(?P<value>[A-Za-z0-9/+]{40})(?=['\"])",
    re.I,
)
_AWS_CONFIGURE = re.compile(
    r"(?P<head>\baws[ \t]+configure[ \t]+set[ \t]+(?:[\w-]+\.)?"
    rf"(?:aws_secret_access_key|aws_session_token|aws_access_key_id)[ \t]+){_BARE_VALUE}"
)
_REGISTRY_CLIENTS = (
    r"(?:docker|podman|buildah|skopeo|nerdctl|oras|crane(?:[ \t]+auth)?|helm(?:[ \t]+registry)?)"
)
# Commands that take a password positionally or in a short flag.
_REGISTRY_LOGIN_P = re.compile(
    rf"(?P<head>\b{_REGISTRY_CLIENTS}[ \t]+login\b[^;&|\n]{{0,200}}?[ \t]-p(?:[ \t]+|=)?(?![-\s]))" + _VALUE
)
_MYSQL_P = re.compile(  # -pSECRET only: "-p db" prompts for the password of database "db"
    r"(?P<head>\bmysql(?:dump|admin|import|show|check)?\b[^;&|\n]{0,200}?[ \t]-p(?=[^\s-]))" + _VALUE
)
_PASSWORD_ARGUMENTS = re.compile(
    r"(?P<head>\bsshpass[ \t]+-p[ \t]*"
    r"|\bredis-cli\b[^;&|\n]{0,200}?[ \t]-a[ \t]+"
    r"|[ \t]-pass(?:in|out)?[ \t]+pass:"  # openssl
    r"|\bopenssl[ \t]+passwd(?:[ \t]+-\S+){0,5}[ \t]+(?!-)"
    r"|[ \t]-(?:src|dest|new)?(?:store|key)pass[ \t]+"  # keytool
    r"|\bhtpasswd[ \t]+-\w*b\w*[ \t]+\S+[ \t]+\S+[ \t]+"
    r"|\blogin[ \t]+\S+[ \t]+password[ \t]+)" + _VALUE  # .netrc
)
_PACKAGE_MANAGER_CONFIG = re.compile(
    r"(?P<head>\bcargo[ \t]+login[ \t]+(?!-)"
    r"|\bpoetry[ \t]+config[ \t]+(?:http-basic\.\S+[ \t]+\S+|pypi-token\.\S+)[ \t]+"
    r"|\b(?:npm|yarn|pnpm)[ \t]+config[ \t]+set[ \t]+\S{0,200}?"
    r"(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent)[ \t]+)" + _VALUE
)
# echo s3cret | docker login --password-stdin; echo 'root:s3cret' | chpasswd
_PIPED_PASSWORD = re.compile(
    r"(?P<head>\b(?:echo|printf)[ \t]+(?:-[en]+[ \t]+)?)"
    rf"{_VALUE}(?=[ \t]*\|[ \t]*(?:sudo[ \t]+)?{_REGISTRY_CLIENTS}[ \t]+login\b)"
)
_CHPASSWD = re.compile(
    r"(?P<head>\b(?:echo|printf)[ \t]+(?:-[en]+[ \t]+)?[\"']?[\w.-]+:)(?P<value>[^\s'\"|:]+)"
    r"(?=[\"']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd)"
)
_CLI_USER = re.compile(
    r"(?P<head>(?:[ \t]-u[ \t]*|--user[=\s]+|--proxy-user[=\s]+)['\"]?(?P<user>[^\s:'\"]+):)"
    r"(?P<value>[^\s'\"]+)"
)
_CLI_SECRET_FLAG = re.compile(
    r"(?P<head>(?<![\w-])--(?:\w+[.-]){0,4}(?:password|passwd|passphrase|pwd|token|secret|api-?key"
    r"|access-key|account-key|secret-key|client-secret|auth-token|sas-token)"
    rf"{_SEP_ANY}(?![-<>]))" + _VALUE,
    re.I,
)
_AUTHORIZATION = re.compile(
    r"(?P<head>\bAuthorization[ \t]*:[ \t]*(?:(?P<scheme>[A-Za-z][\w.-]{0,30})[ \t]+)?)(?P<value>[^\s'\"]+)",
    re.I,
)
_ASSIGNMENT = re.compile(
    r"(?P<name>(?:(?<=-D)|(?<![\w.-]))[A-Za-z_][\w.-]*)"
    r"(?P<sep>=|:=|[ \t]+(?::=|=>?)[ \t]+|=>|:[ \t]*)" + _VALUE
)
_QUOTED_KEY = re.compile(
    r"(?P<q>\\?[\"'])(?P<name>[A-Za-z_][\w.-]{0,80})(?P=q)(?P<sep>[ \t]*(?::|=>)[ \t]*)"
    r"(?P=q)(?P<value>[^\"'\\\n]*)(?P=q)"
)
_XML_ELEMENT = re.compile(r"<(?P<name>[A-Za-z_][\w.:-]{0,80})>(?P<value>[^<\n]{1,400})</(?P=name)>")
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]+={0,2}\.[\w-]+={0,2}(?:\.[\w-]*){1,3}")
# Secrets recognisable by shape alone, wherever they appear.
_TOKEN_SHAPES = (
    r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",  # AWSKeyDetector
    r"AKC[a-zA-Z0-9]{10,}",  # ArtifactoryDetector (API key)
    r"[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27,38}",  # DiscordBotTokenDetector
    r"gh[pousr]_[A-Za-z0-9_]{36,}|github_pat_[A-Za-z0-9_]{22,}",  # GitHubTokenDetector
    # GitLabTokenDetector (personal, OAuth, deploy, runner, CI job, trigger, feed, incoming mail,
    # agent, SCIM tokens; runner registration tokens)
    r"(?:glpat|gloas|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat)-[\w-]{20,}|GR1348941[\w-]{20,}",
    r"[0-9a-z]{32}-us[0-9]{1,2}",  # MailchimpDetector
    r"npm_[A-Za-z0-9]{36}",  # NpmDetector
    r"sk-[\w-]{20,}",  # OpenAIDetector (legacy, sk-proj-, and Anthropic's sk-ant-)
    r"pypi-AgE[\w-]{50,}",  # PypiTokenDetector (pypi.org and test.pypi.org)
    r"SG\.[\w-]{22}\.[\w-]{43}",  # SendGridDetector
    r"xox[aboprse]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}",  # SlackDetector
    r"sq0(?:csp|atp)-[\w-]{22,}",  # SquareOAuthDetector
    r"[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}|whsec_[A-Za-z0-9]{32,}",  # StripeDetector (+ webhook secret)
    r"(?:AC|SK)[a-z0-9]{32}",  # TwilioKeyDetector
    r"hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,}",  # Hugging Face
    r"AIza[\w-]{35}|ya29\.[\w-]{20,}",  # Google API key, OAuth access token
    r"dckr_(?:pat|oat)_[\w-]{20,}",  # Docker Hub
    r"hv[sbr]\.[\w-]{24,}",  # HashiCorp Vault
    r"do[opr]_v1_[a-f0-9]{64}",  # DigitalOcean
    r"dapi[a-f0-9]{32}(?:-\d+)?",  # Databricks
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",  # Shopify
    r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}",  # Grafana
    r"AGE-SECRET-KEY-1[0-9A-Z]{58}",  # age
    r"rubygems_[a-f0-9]{48}",  # RubyGems
)
_TOKENS = re.compile(r"(?<![\w-])(?:" + "|".join(_TOKEN_SHAPES) + r")(?![\w-])")
# TelegramBotTokenDetector; its own rule, as the token also appears glued in .../bot<token>/...
_TELEGRAM_TOKEN = re.compile(r"(?<!\d)\d{8,10}:[\w-]{35}(?![\w-])")


def _mask_url_credentials(match: re.Match[str]) -> str:
    user, colon, password = match.group("userinfo").partition(":")
    if _TOKENISH_USER.fullmatch(user):  # https://<token>@host, https://<token>:x-oauth-basic@host
        user = MASK
    if colon and _is_value(password):
        password = MASK
    return f"{match.group('head')}{user}{colon}{password}@"


def _mask_cli_user(match: re.Match[str]) -> str:
    if match.group("user").isdigit() and match.group("value").isdigit():
        return match.group(0)  # -u 1000:1000 is a uid and gid
    return _mask_value(match)


def _mask_cli_flag(match: re.Match[str]) -> str:
    value = _unquoted(match.group("value"))
    if value.startswith((",", "]")) or re.match(r"(?:id|src|source|env|type|target|required)=", value):
        return match.group(0)  # ["--token=", ...] in exec form; BuildKit's --secret id=x,src=y
    return _mask_value(match)


def _mask_authorization(match: re.Match[str]) -> str:
    if match.group("scheme") is None and match.group("value").lower() in _AUTH_SCHEMES:
        return match.group(0)  # "Authorization: Bearer" with no credentials after it
    return _mask_value(match)


def _mask_assignment(match: re.Match[str]) -> str:
    if not _holds_secret(match.group("name"), match.group("value")):
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{_masked(match.group('value'))}"


def _mask_quoted_key(match: re.Match[str]) -> str:
    if not _holds_secret(match.group("name"), match.group("value")):
        return match.group(0)
    q = match.group("q")
    return f"{q}{match.group('name')}{q}{match.group('sep')}{q}{MASK}{q}"


def _mask_xml_element(match: re.Match[str]) -> str:
    name = match.group("name")
    if not _holds_secret(name, match.group("value")):
        return match.group(0)
    return f"<{name}>{MASK}</{name}>"


def _mask_aws_secret(match: re.Match[str]) -> str:
    value = match.group("value")
    return match.group(0) if all(c in "0123456789abcdefABCDEF" for c in value) else match.group("head") + MASK


def _json_object(segment: str) -> bool:
    segment = segment.rstrip("=")
    try:
        return isinstance(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))), dict)
    except ValueError:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        return False


def _mask_jwt(match: re.Match[str]) -> str:
    header, payload = match.group(0).split(".")[:2]
    return MASK if _json_object(header) and _json_object(payload) else match.group(0)


def _masked_head(match: re.Match[str]) -> str:
    return f"{match.group('head')}{MASK}"


def _masked_whole(_: re.Match[str]) -> str:
    return MASK


# Words that a secret's name contains (see _SECRET_NAME), lower case.
_NAME_WORDS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "contrase",
    "auth",
    "art-api",
    "art_api",
)

# (pattern, substitute, words): a rule runs only on text that contains one of its words
# (lower case; none: always). That keeps the common line cheap; for the Azure and
# Artifactory shapes it is also detect-secrets' condition (the line names the service).
# Order matters: whole blocks first, then forms that know where their value ends better
# than the generic NAME=value rule does (a SAS signature holds "&" and "="), shapes last.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str], tuple[str, ...]], ...] = (
    (_PRIVATE_KEY, _masked_head, ("private key",)),
    (_PUTTY_KEY, _masked_head, ("private-lines",)),
    (_URL_CREDENTIALS, _mask_url_credentials, ("@",)),
    (_URL_SIGNATURE, _mask_value, ("sig=", "signature=")),
    (_WEBHOOK_URL, _mask_value, ("hooks.slack", "discord")),
    (_SOFTLAYER_URL, _mask_value, ("softlayer",)),
    (_AZURE_KEYS, _mask_value, ("accountkey", "sharedaccess")),
    (_AWS_CONFIGURE, _mask_value, ("configure",)),
    (_AWS_SECRET, _mask_aws_secret, ("aws",)),
    (_REGISTRY_LOGIN_P, _mask_value, ("login",)),
    (_MYSQL_P, _mask_value, ("mysql",)),
    (_PASSWORD_ARGUMENTS, _mask_value, ("pass", "redis-cli")),
    (_PACKAGE_MANAGER_CONFIG, _mask_value, ("cargo", "poetry", "config")),
    (_PIPED_PASSWORD, _mask_value, ("login",)),
    (_CHPASSWD, _mask_value, ("chpasswd",)),
    (_CLI_USER, _mask_cli_user, ("-u",)),
    (_CLI_SECRET_FLAG, _mask_cli_flag, ("pass", "pwd", "token", "secret", "key")),
    (_AUTHORIZATION, _mask_authorization, ("authorization",)),
    (_QUOTED_KEY, _mask_quoted_key, _NAME_WORDS),
    (_XML_ELEMENT, _mask_xml_element, _NAME_WORDS),
    (_ASSIGNMENT, _mask_assignment, _NAME_WORDS),
    (_JWT, _mask_jwt, ("eyj",)),
    (_AZURE_BARE_KEY, _masked_whole, ("azure", "accountkey")),
    (_ARTIFACTORY_PASSWORD, _masked_whole, ("artif", "jfrog")),
    (_TELEGRAM_TOKEN, _masked_whole, (":",)),
    (_TOKENS, _masked_whole, ()),
)


_MAX_PASSES = 4
# Most text names no rule's word of two letters or more (a history line, a digest, a time):
# one search for any of them, and only the rules gated on ":" or "@" (or on nothing) are
# left to look at. A rule gated on longer words alone could not run on such text anyway.
_LONG_WORDS = re.compile("|".join(sorted({re.escape(w) for *_, ws in _RULES for w in ws if len(w) > 1})))
_GATED_ON_LONG_WORDS = tuple(bool(words) and all(len(w) > 1 for w in words) for *_, words in _RULES)


@functools.lru_cache(maxsize=1 << 16)
def mask_text(text: str) -> str:
    """``text`` with every value that looks like a secret replaced by ``***``.

    Cached: children repeat their parents' history lines word for word. Masking is
    idempotent: rules run again until nothing changes (a second pass only on the rare line
    that held a secret), because one rule's ``***`` can end a span another rule skipped.
    """
    for _ in range(_MAX_PASSES):
        masked, lowered = text, text.lower()
        long_words = _LONG_WORDS.search(lowered) is not None
        for (pattern, substitute, words), gated_on_long_words in zip(
            _RULES, _GATED_ON_LONG_WORDS, strict=True
        ):
            if gated_on_long_words and not long_words:
                continue
            if not words or any(word in lowered for word in words):
                substituted = pattern.sub(substitute, masked)
                if substituted != masked:
                    masked, lowered = substituted, substituted.lower()
                    long_words = _LONG_WORDS.search(lowered) is not None
        if masked == text:
            break
        text = masked
    return text
