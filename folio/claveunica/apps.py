from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaveUnicaAppConfig(AppConfig):
    name = "folio.claveunica"
    label = "claveunica"
    verbose_name = _("ClaveÚnica")
