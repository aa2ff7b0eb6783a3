from django.contrib import admin
from django.urls import include, path

from folio.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("", include(("folio.core.urls", "core"))),
    path("", include("folio.accounts.urls")),
    path("", include("folio.registry.urls")),
    path("", include("folio.case_files.urls")),
    path("", include("folio.acts.urls")),
    path("", include("folio.signatures.urls")),
    path("", include("folio.claveunica.urls")),
    path("", include("folio.applications.urls")),
    path("", include("folio.procedures.urls")),
    path("verificar/", include("folio.verification.urls")),
    path("api/v1/", include("folio.api.urls")),
    path("admin/", admin.site.urls),
]
