from django.conf import settings
from django.urls import path

from folio.core import views

urlpatterns = [
    path("inicio/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]

if settings.FOLIO_BENCH_VIEWS:
    urlpatterns.append(path("_bench/bare", views.bench_bare, name="bench_bare"))
