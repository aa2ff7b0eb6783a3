"""Django admin for the organization's templates, signature policy, delegations and acting appointments.
Acts themselves are changed only through the services (their circuit and audit trail)."""

from __future__ import annotations

from django.contrib import admin

from folio.acts.models import Act, ActCounter, ActTemplate, Delegation, SignaturePolicy, Substitution, TemplateStep


class TemplateStepInline(admin.TabularInline):
    model = TemplateStep
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(ActTemplate)
class ActTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "numbering_scheme", "is_active"]
    list_filter = ["organization", "kind", "is_active"]
    search_fields = ["name"]
    inlines = [TemplateStepInline]


@admin.register(SignaturePolicy)
class SignaturePolicyAdmin(admin.ModelAdmin):
    list_display = ["organization", "kind", "requires_advanced"]
    list_filter = ["organization", "requires_advanced"]
    filter_horizontal = ["own_signers"]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["delegate", "principal_title", "organization", "valid_from", "valid_until", "is_active"]
    list_filter = ["organization", "is_active"]
    autocomplete_fields = ["delegate"]


@admin.register(Substitution)
class SubstitutionAdmin(admin.ModelAdmin):
    list_display = ["acting", "position_title", "organization", "valid_from", "valid_until", "is_active"]
    list_filter = ["organization", "is_active"]
    autocomplete_fields = ["acting"]


@admin.register(Act)
class ActAdmin(admin.ModelAdmin):
    list_display = ["number_display", "kind", "subject", "state", "organization", "created_at"]
    list_filter = ["organization", "kind", "state"]
    search_fields = ["subject", "number_display"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ActCounter)
class ActCounterAdmin(admin.ModelAdmin):
    list_display = ["organization", "kind", "year", "last_value", "lease_expires_at"]
    list_filter = ["organization", "kind", "year"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
