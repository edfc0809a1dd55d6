"""Reads about people, above all: which part of the territory a user may see.

A scope is a set of territory code prefixes. Everything under a prefix is in scope (descendants), and
so are the prefix's ancestors, so that a street's staff still see the outline of their district.
"""

from django.db.models import Q

from geodata.codes import CODE_LENGTHS

from .models import GridAssignment, StaffRole

EVERYTHING = ("",)  # the empty prefix: every code starts with it


def scope_prefixes(user) -> tuple[str, ...]:
    """The territory code prefixes `user` may see; an empty tuple means nothing at all."""
    if not user or not user.is_authenticated or not user.is_active:
        return ()
    if user.is_superuser:
        return EVERYTHING
    prefixes = set(StaffRole.objects.filter(user=user).values_list("scope_code", flat=True))
    prefixes.update(
        GridAssignment.objects.filter(worker__user=user).values_list("grid__code", flat=True)
    )
    return tuple(sorted(prefixes))


def _ancestors(prefix: str) -> list[str]:
    return [prefix[:n] for n in CODE_LENGTHS.values() if n < len(prefix)]


def in_scope(prefixes: tuple[str, ...], *, field: str = "code", with_ancestors: bool = True) -> Q:
    """A filter keeping rows whose `field` (a territory code) lies in scope."""
    if not prefixes:
        return Q(pk__in=[])
    condition = Q()
    ancestors: set[str] = set()
    for prefix in prefixes:
        condition |= Q(**{f"{field}__startswith": prefix})
        ancestors.update(_ancestors(prefix))
    if with_ancestors and ancestors:
        condition |= Q(**{f"{field}__in": sorted(ancestors)})
    return condition
