"""Signed job bodies: an HMAC-SHA256 of the body's JSON, keyed by a secret that submitters and workers share.

beanstalkd has no authentication: anything that reaches its port can put a job. With a secret set, every
job body (a parent or a dependency) ends in ``"sig":"<hex>"``, the HMAC of the body's bytes before that
field, and workers set aside a job whose signature is missing or wrong. Records (outcomes, manifests)
are not signed: they are data for the queue's own bookkeeping, never a program to run.

The secret file holds one secret per line. The first signs; every one is accepted, so a secret is
rotated without stopping the queue: add the new one on the second line everywhere, then swap the lines,
then drop the old one (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

from depqueue.errors import ConfigError, MalformedJob
from depqueue.wire.envelope import SIGNATURE

#: What a signature adds to a body.
SIGNATURE_BYTES = len(',"sig":""') + 64
#: A secret shorter than this is refused: it would be guessed.
MIN_SECRET_BYTES = 16


class Signer:
    """Signs bodies with the first of ``secrets`` and accepts a signature by any of them."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        if not secrets:
            raise ConfigError("a job signer needs at least one secret")
        self.secrets = list(secrets)

    def sign(self, body: bytes) -> bytes:
        """``body`` (a JSON object's bytes) with its signature as the last field."""
        if not body.endswith(b"}") or body == b"{}":
            raise ValueError("only a non-empty JSON object can be signed")
        digest = hmac.new(self.secrets[0], body, hashlib.sha256).hexdigest()
        return body[:-1] + b',"sig":"' + digest.encode() + b'"}'

    def verify(self, body: bytes) -> None:
        """Return if ``body`` carries a signature by one of the secrets; else MalformedJob with the reason."""
        match = SIGNATURE.search(body)
        if match is None:
            raise MalformedJob("unsigned job: the queue requires signed jobs (job_secret_file) and this one "
                               "carries no signature")
        signed = body[:match.start()] + b"}"
        given = match.group(1).decode()
        for secret in self.secrets:
            if hmac.compare_digest(hmac.new(secret, signed, hashlib.sha256).hexdigest(), given):
                return
        raise MalformedJob("wrongly signed job: its signature matches none of the queue's secrets "
                           "(forged, altered, or signed with a secret this worker does not hold)")


def read_secrets(path: str | Path) -> list[bytes]:
    """The secrets in ``path``, one a line (blank lines and ``#`` comments skipped); ConfigError naming the
    file when it cannot be read, holds none, or one is too short."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read job secret file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"job secret file {path} is not text") from None
    secrets = [line.strip().encode() for line in text.splitlines()
               if line.strip() and not line.strip().startswith("#")]
    if not secrets:
        raise ConfigError(f"job secret file {path} holds no secret")
    for number, secret in enumerate(secrets, 1):
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"job secret file {path}: secret {number} is {len(secret)} bytes; "
                              f"at least {MIN_SECRET_BYTES} are needed")
    return secrets


def signer_from(path: str | None) -> Signer | None:
    """The signer for a ``job_secret_file`` setting; None (jobs unsigned, none checked) when unset."""
    return Signer(read_secrets(path)) if path else None
