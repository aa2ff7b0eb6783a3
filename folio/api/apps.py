from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "folio.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from folio.api import schema  # noqa: F401  (registers the OpenAPI extension)
