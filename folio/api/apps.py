from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "folio.api"
    label = "api"
    verbose_name = "API"
