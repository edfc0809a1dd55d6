"""Reads and writes of grid change notices (GridChangeNotice), always for the requesting user's own grid worker:
someone who is not a grid worker has none, and a notice of another worker does not exist for them (404)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from gridgis.workforce.models import GridWorker

from .models import Grid, GridChangeNotice

LIST_LIMIT = 100  # a phone shows the latest; older notices stay in the table (and in the admin)


def _worker(user) -> GridWorker | None:
    if not user or not user.is_authenticated or not user.is_active:
        return None
    return GridWorker.objects.filter(user=user).first()


def notices_for(user, *, unread_only: bool = False) -> QuerySet[GridChangeNotice]:
    """The user's own notices, newest first."""
    worker = _worker(user)
    if worker is None:
        return GridChangeNotice.objects.none()
    notices = GridChangeNotice.objects.filter(worker=worker).select_related("version__community")
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-id")


def unread_count(user) -> int:
    return notices_for(user, unread_only=True).count()


def current_grids(user) -> list[dict]:
    """The worker's grids as they are now (a commit may have given them a new one): the page redraws these."""
    worker = _worker(user)
    if worker is None:
        return []
    grids = Grid.objects.filter(assignments__worker=worker).order_by("code").values("code", "name")
    return list(grids)


@transaction.atomic
def mark_read(*, user, notice_id: int) -> GridChangeNotice:
    """Marks one of the user's notices read; again is harmless (the first read time stays)."""
    notice = notices_for(user).select_for_update(of=("self",)).filter(pk=notice_id).first()
    if notice is None:
        raise Http404
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


@transaction.atomic
def mark_all_read(*, user) -> int:
    """Marks every unread notice of the user read; returns how many were."""
    return notices_for(user, unread_only=True).order_by().update(read_at=timezone.now())
