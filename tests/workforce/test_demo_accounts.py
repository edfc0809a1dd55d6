from django.contrib.auth import authenticate
from django.core.management import call_command

from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole
from gridgis.workforce.services import demo_accounts_create

pytest_plugins = ["tests.territory_factories"]


def _workers_for(town):
    for n, grid in enumerate([town.west, town.east], start=1):
        worker = GridWorker.objects.create(worker_id=f"T{n:03d}", name=f"网格员{n}", phone="13800000000")
        GridAssignment.objects.create(worker=worker, grid=grid, role=GridAssignment.Role.PRIMARY)


def test_it_creates_working_logins_for_command_centre_planner_and_grid_workers(town):
    _workers_for(town)
    accounts = {a.username: a for a in demo_accounts_create()}
    assert set(accounts) == {"command", "planner", "workert001", "workert002"}
    for account in accounts.values():
        assert authenticate(username=account.username, password=account.password) is not None
    assert StaffRole.objects.get(user__username="command").scope_code == town.district.code
    assert GridWorker.objects.get(worker_id="T001").user.username == "workert001"


def test_running_it_again_creates_nothing_and_keeps_the_passwords(town):
    _workers_for(town)
    first = demo_accounts_create()
    assert demo_accounts_create() == []
    assert authenticate(username="command", password=first[0].password) is not None


def test_it_creates_nothing_before_there_is_a_territory(db):
    assert demo_accounts_create() == []


def test_the_command_prints_each_password_once(town, tmp_path, settings, capsys):
    settings.BASE_DIR = tmp_path
    call_command("demo_accounts")
    assert "command" in capsys.readouterr().out
    call_command("demo_accounts")
    again = capsys.readouterr().out
    assert "command " not in again
    assert "var/demo-accounts.txt" in again or "demo-accounts.txt" in again
    assert (tmp_path / "var" / "demo-accounts.txt").stat().st_mode & 0o777 == 0o600
