"""Idempotency-Key for the workflow actions: a phone that lost the answer to "accept" or "escalate" sends it
again with the same key, and the second request must not take the step twice (an escalation would climb
another tier). The key is claimed in the transaction of the step itself, in the same table as intake's keys
(one namespace per caller): the step and its key commit together or not at all, and a concurrent retry waits
on the unique index until the first one ends, then finds it done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from gridgis.intake.models import IdempotencyRecord, caller_of

MAX_KEY_LENGTH = 200


class KeyReused(Exception):
    """The key was used before by this caller for a different request."""


def step_fingerprint(*, action: str, case_pk: int, body: Mapping) -> str:
    """A digest of the step asked for: the action, the case, the body's fields and its photos' content."""
    fields, photos = [], []
    for name, value in sorted(body.items()):
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(item, UploadedFile) for item in values):
            photos.extend(_digest(item) for item in values)
        else:
            fields.append((name, str(value)))
    canonical = json.dumps([action, case_pk, fields, photos], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def claim_step_key(*, user, key: str, fingerprint: str, case_pk: int) -> bool:
    """Claims `key` for this step inside the caller's transaction. True: take the step. False: a retry of a
    step already taken (do nothing, answer with the case as it is). Raises KeyReused for a different step."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim the key in the step's transaction, or it outlives a step that failed")
    caller = caller_of(user=user)
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(caller=caller, key=key, fingerprint=fingerprint, case_id=case_pk)
    except IntegrityError:
        earlier = IdempotencyRecord.objects.get(caller=caller, key=key)
        if earlier.fingerprint != fingerprint:
            raise KeyReused(key) from None
        return False
    return True
