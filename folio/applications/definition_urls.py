"""URLs of the form and stage definition builder (administrators)."""

from django.urls import URLPattern, path

from folio.applications import definition_views as views

_BASE = "administracion/tramites/<int:procedure_id>/formulario/"

urlpatterns: list[URLPattern] = [
    path("administracion/tramites/formularios/", views.definition_list, name="definition_list"),
    path(_BASE, views.definition_detail, name="definition_detail"),
    path(_BASE + "borrador/nuevo/", views.definition_draft_create, name="definition_draft_create"),
    path(_BASE + "borrador/", views.definition_edit, name="definition_edit"),
    path(_BASE + "borrador/publicar/", views.definition_publish, name="definition_publish"),
    path(_BASE + "borrador/descartar/", views.definition_discard, name="definition_discard"),
    path(_BASE + "v<int:version>/vista-previa/", views.definition_preview, name="definition_preview"),
]
