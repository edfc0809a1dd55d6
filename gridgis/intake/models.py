"""Intake bookkeeping: API keys for integrations (Open311) and idempotency records."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgis.cases.models import Case


class ApiKey(models.Model):
    """A key for an integration (an Open311 client, a partner system). Only its hash is stored."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    jurisdiction = models.CharField(_("辖区代码"), max_length=15, blank=True,
                                    help_text=_("unplaced reports from this key are filed under this territory"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, name: str, jurisdiction: str = "") -> tuple["ApiKey", str]:
        raw = secrets.token_urlsafe(24)
        key = cls.objects.create(name=name, prefix=raw[:8], key_hash=cls.hash(raw), jurisdiction=jurisdiction)
        return key, raw

    @classmethod
    def lookup(cls, raw: str) -> "ApiKey | None":
        if not raw:
            return None
        return cls.objects.filter(key_hash=cls.hash(raw), active=True).first()


class IdempotencyRecord(models.Model):
    """One request key per caller: a retry with the same key gets the same case back, never a second one."""

    caller = models.CharField(max_length=40)  # "user:<id>" or "apikey:<id>"
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="one_case_per_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


def caller_of(*, user=None, api_key: ApiKey | None = None) -> str:
    if api_key is not None:
        return f"apikey:{api_key.pk}"
    return f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
