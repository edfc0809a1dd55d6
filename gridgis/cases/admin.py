from django.contrib.gis import admin
from django.utils.translation import gettext_lazy as _

from map_ui.widgets import OfflineMapWidget

from .models import CalendarDay, Case, CaseEvent, CasePhoto, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "major_name", "name", "deadline_hours", "tier", "department_kind", "active"]
    list_filter = ["kind", "major_name", "tier", "active"]
    search_fields = ["code", "name", "major_name"]
    list_editable = ["deadline_hours", "tier", "active"]


class CasePhotoInline(admin.TabularInline):
    model = CasePhoto
    extra = 0
    fields = ["image", "thumbnail", "width", "height", "uploaded_at"]
    readonly_fields = fields
    can_delete = False


class CaseEventInline(admin.TabularInline):
    """The timeline, to read: the database refuses any change to it anyway."""

    model = CaseEvent
    extra = 0
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "data"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["note"]


@admin.register(Case)
class CaseAdmin(admin.GISModelAdmin):
    gis_widget = OfflineMapWidget
    list_display = ["number", "status", "category", "channel", "grid", "assignee", "needs_location", "received_at"]
    list_filter = ["status", "channel", "needs_location", "assignment_rule", "geocode_method"]
    search_fields = ["number", "address", "description"]
    date_hierarchy = "received_at"
    raw_id_fields = ["grid", "community", "street", "assignee", "assignee_staff", "geocode_building",
                     "duplicate_of", "created_by", "department"]
    readonly_fields = ["number", "raw_lon", "raw_lat", "raw_crs", "geocode_method", "geocode_confidence",
                       "geocode_candidates", "assignment_rule", "assignment_distance_m", "warnings", "received_at"]
    inlines = [CasePhotoInline, CaseEventInline]
    fieldsets = [
        (None, {"fields": ["number", "status", "category", "channel", "description", "deadline"]}),
        (_("位置"), {"fields": ["location", "address", "raw_lon", "raw_lat", "raw_crs", "geocode_method",
                              "geocode_confidence", "geocode_building", "geocode_candidates", "needs_location"]}),
        (_("分派"), {"fields": ["grid", "community", "street", "territory_code", "assignee", "assignee_staff",
                              "department", "assignment_rule", "assignment_distance_m", "warnings", "duplicate_of"]}),
        (_("反映人"), {"fields": ["reporter_name", "reporter_phone", "created_by", "received_at"]}),
    ]
