"""Administration of each organization's signature set-up. Secrets are write-only: the FirmaGob secret typed
here is sealed with the key-encryption key by ``signature_config_save`` and never shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from folio.signatures import services
from folio.signatures.models import OrganizationCA, SignatureConfig, SignerCertificate


class SignatureConfigForm(forms.ModelForm):
    tsa_url = forms.URLField(label=_("time-stamping authority URL"), required=False, assume_scheme="https",
                             help_text=_("RFC 3161 service for PAdES B-T signatures. Empty: the installation "
                                         "default."))
    firmagob_endpoint = forms.URLField(
        label=_("FirmaGob endpoint"), required=False, assume_scheme="https",
        help_text=_("Base URL, e.g. https://api.firma.digital.gob.cl; Folio adds /firma/v2/files/tickets."))
    firmagob_secret = forms.CharField(
        label=_("FirmaGob secret"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only: leave empty to keep the stored secret. It is stored encrypted."),
    )

    class Meta:
        model = SignatureConfig
        fields = ["organization", "tsa_url", "tsa_timeout", "firmagob_endpoint", "firmagob_entity",
                  "firmagob_api_token_key", "firmagob_secret_env", "firmagob_timeout"]


@admin.register(SignatureConfig)
class SignatureConfigAdmin(admin.ModelAdmin):
    form = SignatureConfigForm
    list_display = ["organization", "tsa_url", "firmagob_endpoint", "firmagob_entity", "secret_stored", "updated_at"]

    @admin.display(boolean=True, description=_("secret stored"))
    def secret_stored(self, obj: SignatureConfig) -> bool:
        return bool(obj.firmagob_secret_sealed) or bool(obj.firmagob_secret_env)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        user: Any = request.user
        return qs if user.is_superuser else qs.filter(organization_id=user.organization_id)

    def save_model(self, request: HttpRequest, obj: SignatureConfig, form: Any, change: bool) -> None:
        services.signature_config_save(config=obj, actor=request.user,
                                       firmagob_secret=form.cleaned_data.get("firmagob_secret") or None)


@admin.register(OrganizationCA)
class OrganizationCAAdmin(admin.ModelAdmin):
    list_display = ["organization", "subject", "serial", "not_after", "created_at"]
    readonly_fields = ["organization", "subject", "serial", "certificate_pem", "not_after", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SignerCertificate)
class SignerCertificateAdmin(admin.ModelAdmin):
    list_display = ["subject", "organization", "serial", "not_after", "revoked_at"]
    list_filter = ["organization"]
    search_fields = ["subject", "serial", "user__username"]
    readonly_fields = ["organization", "ca", "user", "serial", "subject", "certificate_pem", "not_before",
                       "not_after", "created_at", "created_by", "revoked_at", "revoked_by", "revoked_reason"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected certificates"))
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        actor: Any = request.user
        count = 0
        for cert in queryset.filter(revoked_at__isnull=True):
            try:
                services.signer_certificate_revoke(certificate=cert, actor=actor,
                                                   reason=gettext("Revoked by an administrator"))
                count += 1
            except services.SignatureError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, gettext("%(count)s certificates revoked at %(time)s.") % {
            "count": count, "time": timezone.localtime().strftime("%d-%m-%Y %H:%M")})
