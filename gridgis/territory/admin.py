"""Admin for the territory: search by code or name, filter by parent, edit shapes on an offline map."""

from django import forms
from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.utils.translation import gettext_lazy as _

from gridgis.workforce.models import GridAssignment
from map_ui.widgets import OfflineMapWidget

from .map_selectors import primary_worker_name, territory_centre
from .models import Building, Community, District, Grid, Street

admin.site.site_header = _("gridgis 网格化管理")
admin.site.site_title = _("gridgis 网格化管理")
admin.site.index_title = _("数据管理")


class TerritoryAdmin(GISModelAdmin):
    gis_widget = OfflineMapWidget
    search_fields = ["code", "name"]
    list_display = ["code", "name", "updated_at"]
    fields = ["code", "name", "geom", "updated_at"]
    readonly_fields = ["updated_at"]
    list_per_page = 50

    @property
    def gis_widget_kwargs(self):
        # An empty map (a new object) opens over the territory, wherever this deployment's city is.
        centre = territory_centre()
        if centre is None:
            return {}
        return {"attrs": {"default_lon": centre[0], "default_lat": centre[1]}}


@admin.register(District)
class DistrictAdmin(TerritoryAdmin):
    pass


@admin.register(Street)
class StreetAdmin(TerritoryAdmin):
    list_display = ["code", "name", "district", "updated_at"]
    fields = ["code", "name", "district", "geom", "updated_at"]
    list_filter = ["district"]
    list_select_related = ["district"]
    autocomplete_fields = ["district"]


@admin.register(Community)
class CommunityAdmin(TerritoryAdmin):
    list_display = ["code", "name", "street", "updated_at"]
    fields = ["code", "name", "street", "geom", "updated_at"]
    list_filter = ["street__district", "street"]
    list_select_related = ["street"]
    autocomplete_fields = ["street"]


class GridAssignmentForm(forms.ModelForm):
    class Meta:
        model = GridAssignment
        fields = ["worker", "role"]
        labels = {"worker": _("网格员")}  # the model field has no verbose name


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    form = GridAssignmentForm
    extra = 0
    autocomplete_fields = ["worker"]


@admin.register(Grid)
class GridAdmin(TerritoryAdmin):
    list_display = ["code", "name", "community", "households", "population", "primary_worker", "updated_at"]
    fields = ["code", "name", "community", "households", "population", "geom", "updated_at"]
    list_filter = ["community__street"]
    list_select_related = ["community"]
    search_fields = ["code", "name", "community__name"]
    autocomplete_fields = ["community"]
    inlines = [GridAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(primary_worker_name=primary_worker_name())

    @admin.display(description=_("专职网格员"), ordering="primary_worker_name")
    def primary_worker(self, grid):
        return grid.primary_worker_name or "—"


@admin.register(Building)
class BuildingAdmin(GISModelAdmin):
    gis_widget = OfflineMapWidget
    list_display = ["code", "address", "grid", "households", "population"]
    fields = ["code", "name", "address", "road", "house_number", "building_number", "grid", "households",
              "population", "geom", "updated_at"]
    list_filter = ["grid__community__street"]
    list_select_related = ["grid"]
    search_fields = ["code", "name", "address", "grid__code"]
    autocomplete_fields = ["grid"]
    readonly_fields = ["updated_at"]
    list_per_page = 50
    show_full_result_count = False  # tens of thousands of rows: skip the second COUNT(*)
