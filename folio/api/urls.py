from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("folio.registry.api")),
    path("", include("folio.case_files.api")),
    path("", include("folio.case_files.retention_api")),
    path("", include("folio.signatures.api")),
    path("", include("folio.acts.api")),
    path("", include("folio.applications.api")),
    path("", include("folio.procedures.api")),
]
