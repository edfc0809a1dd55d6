from django.contrib.auth.models import AnonymousUser

from gridgis.territory.models import Community, District, Grid
from gridgis.workforce.models import StaffRole
from gridgis.workforce.selectors import in_scope, scope_prefixes

pytest_plugins = ["tests.territory_factories"]


def visible_grids(user):
    return set(Grid.objects.filter(in_scope(scope_prefixes(user))).values_list("code", flat=True))


def test_a_grid_worker_sees_only_their_own_grid(town, bob):
    assert visible_grids(bob) == {town.west.code}


def test_a_grid_worker_still_sees_the_outlines_above_their_grid(town, bob):
    prefixes = scope_prefixes(bob)
    assert District.objects.filter(in_scope(prefixes)).get() == town.district
    assert Community.objects.filter(in_scope(prefixes)).get() == town.community


def test_district_command_centre_sees_every_grid_of_the_district(town, alice):
    assert visible_grids(alice) == {town.west.code, town.east.code}


def test_staff_of_another_district_see_nothing_here(town, django_user_model):
    stranger = django_user_model.objects.create_user("dora", password="x-pass-123")
    StaffRole.objects.create(user=stranger, role=StaffRole.Role.COMMAND_CENTRE, scope_code="210303")
    assert visible_grids(stranger) == set()
    assert not District.objects.filter(in_scope(scope_prefixes(stranger))).exists()


def test_anonymous_and_inactive_users_see_nothing(town, bob):
    assert visible_grids(AnonymousUser()) == set()
    bob.is_active = False
    bob.save()
    assert visible_grids(bob) == set()


def test_a_user_without_any_role_sees_nothing(town, django_user_model):
    nobody = django_user_model.objects.create_user("eve", password="x-pass-123")
    assert visible_grids(nobody) == set()
