"""Admin for people: grid workers with their grids, departments, and staff roles with their scope."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Department, GridAssignment, GridWorker, StaffRole


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district", "phone"]
    list_filter = ["district"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]


class GridAssignmentForm(forms.ModelForm):
    class Meta:
        model = GridAssignment
        fields = ["grid", "worker", "role"]
        labels = {"grid": _("网格"), "worker": _("网格员")}  # the model fields have no verbose names


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    form = GridAssignmentForm
    extra = 0
    autocomplete_fields = ["grid"]


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "name", "phone", "user", "grid_codes"]
    list_filter = ["assignments__role"]
    list_select_related = ["user"]
    search_fields = ["worker_id", "name", "phone", "assignments__grid__code"]
    autocomplete_fields = ["user"]
    inlines = [GridAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assignments__grid")

    @admin.display(description=_("负责网格"))
    def grid_codes(self, worker):
        return ", ".join(sorted(a.grid.code for a in worker.assignments.all())) or "—"


@admin.register(GridAssignment)
class GridAssignmentAdmin(admin.ModelAdmin):
    form = GridAssignmentForm
    list_display = ["grid", "worker", "role"]
    list_filter = ["role", "grid__community__street"]
    list_select_related = ["grid", "worker"]
    search_fields = ["grid__code", "grid__name", "worker__name", "worker__worker_id"]
    autocomplete_fields = ["grid", "worker"]


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "scope_code", "department"]
    list_filter = ["role"]
    list_select_related = ["user", "department"]
    search_fields = ["user__username", "user__first_name", "scope_code"]
    autocomplete_fields = ["user", "department"]
