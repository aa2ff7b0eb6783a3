"""URLs of the CPAT inventory (staff, /cpat/) and of the public procedures catalogue (/tramites/)."""

from django.urls import path

from folio.procedures import views

app_name = "procedures"
urlpatterns = [
    # Inventory (Coordinador/a de Transformación Digital, administrators; heads and auditors read)
    path("cpat/", views.inventory, name="inventory"),
    path("cpat/nuevo/", views.procedure_create, name="create"),
    path("cpat/exportar/", views.export, name="export"),
    path("cpat/importar/", views.import_inventory, name="import"),
    path("cpat/priorizacion/", views.prioritization, name="prioritization"),
    path("cpat/indicadores/", views.figures, name="figures"),
    path("cpat/temas/", views.topics, name="topics"),
    path("cpat/temas/<int:pk>/editar/", views.topic_edit, name="topic_edit"),
    path("cpat/temas/<int:pk>/eliminar/", views.topic_delete, name="topic_delete"),
    path("cpat/<int:pk>/", views.procedure_detail, name="detail"),
    path("cpat/<int:pk>/editar/", views.procedure_edit, name="edit"),
    path("cpat/<int:pk>/publicacion/", views.procedure_publish, name="publish"),
    path("cpat/<int:pk>/transacciones/", views.transactions_edit, name="transactions"),
    path("cpat/<int:pk>/simplificacion/", views.plan_edit, name="plan"),
    # Public catalogue (no login)
    path("tramites/", views.catalogue_index, name="catalogue"),
    path("tramites/<slug:org_slug>/", views.catalogue_organization, name="catalogue_org"),
    path("tramites/<slug:org_slug>/<slug:procedure_slug>/", views.catalogue_detail, name="catalogue_detail"),
]
