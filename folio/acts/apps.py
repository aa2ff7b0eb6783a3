from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActsConfig(AppConfig):
    name = "folio.acts"
    label = "acts"
    verbose_name = _("Official documents")
    default_auto_field = "django.db.models.BigAutoField"
