from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "folio.core"
    label = "core"
    verbose_name = "Folio"
