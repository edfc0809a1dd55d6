from django.contrib import admin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued with `manage.py issue_api_key NAME` (the raw key is shown once); here they are
    listed and can be switched off."""

    list_display = ["name", "prefix", "jurisdiction", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "jurisdiction", "active", "created_at"]
    readonly_fields = ["prefix", "created_at"]

    def has_add_permission(self, request):
        return False
