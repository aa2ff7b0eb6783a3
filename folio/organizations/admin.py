from django.contrib import admin

from folio.organizations.models import NonWorkingDay, Organization, Unit


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["code", "name", "acronym", "parent", "email", "is_registry_office", "is_active"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "commune", "is_active"]
    search_fields = ["name", "code", "commune"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [UnitInline]


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(admin.ModelAdmin):
    list_display = ["organization", "date", "reason"]
    list_filter = ["organization"]
