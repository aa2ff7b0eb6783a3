from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseFilesConfig(AppConfig):
    name = "folio.case_files"
    label = "case_files"
    verbose_name = _("Electronic case files (expedientes)")
