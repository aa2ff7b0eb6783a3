from django.urls import path

from folio.core import views

urlpatterns = [
    path("inicio/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
