from django.urls import path

from folio.registry import views

app_name = "registry"
urlpatterns = [
    path("partes/", views.registration_list, name="list"),
    path("partes/ingreso/nuevo/", views.registration_new_incoming, name="new_incoming"),
    path("partes/despacho/nuevo/", views.registration_new_outgoing, name="new_outgoing"),
    path("partes/exportar/", views.export, name="export"),
    path("partes/<int:pk>/", views.registration_detail, name="detail"),
    path("partes/<int:pk>/derivar/", views.registration_route, name="route"),
    path("partes/<int:pk>/cerrar/", views.registration_close, name="close"),
    path("partes/<int:pk>/anular/", views.registration_void, name="void"),
    path("partes/<int:pk>/despachar/", views.registration_dispatch, name="dispatch"),
    path("partes/<int:pk>/comprobante.pdf", views.registration_receipt, name="receipt"),
    path("partes/<int:pk>/documentos/<int:doc_id>/", views.document_download, name="document"),
    path("partes/<int:pk>/documentos/<int:doc_id>/vista.png", views.document_preview, name="preview"),
    path("partes/derivaciones/<int:routing_id>/acusar/", views.routing_acknowledge, name="acknowledge"),
    path("partes/derivaciones/<int:routing_id>/rederivar/", views.routing_reroute, name="reroute"),
    path("bandeja/", views.inbox, name="inbox"),
]
