from django.urls import path

from folio.case_files import views

app_name = "case_files"
urlpatterns = [
    path("expedientes/", views.case_file_list, name="list"),
    path("expedientes/nuevo/", views.case_file_new, name="new"),
    path("expedientes/<int:pk>/", views.case_file_detail, name="detail"),
    path("expedientes/<int:pk>/incorporar/", views.incorporate_upload, name="incorporate_upload"),
    path("expedientes/<int:pk>/incorporar-papel/", views.incorporate_paper, name="incorporate_paper"),
    path("expedientes/<int:pk>/incorporar-registro/", views.incorporate_registration,
         name="incorporate_registration"),
    path("expedientes/<int:pk>/derivar/", views.transfer, name="transfer"),
    path("expedientes/<int:pk>/suspender/", views.suspend, name="suspend"),
    path("expedientes/<int:pk>/reanudar/", views.resume, name="resume"),
    path("expedientes/<int:pk>/cerrar/", views.close, name="close"),
    path("expedientes/<int:pk>/reabrir/", views.reopen, name="reopen"),
    path("expedientes/<int:pk>/archivar/", views.archive, name="archive"),
    path("expedientes/<int:pk>/vincular/", views.link, name="link"),
    path("expedientes/<int:pk>/acumular/", views.accumulate, name="accumulate"),
    path("expedientes/<int:pk>/documentos/<int:entry_id>/", views.entry_download, name="entry"),
    path("expedientes/<int:pk>/indice.json", views.index_json, name="index_json"),
    path("expedientes/<int:pk>/indice.xml", views.index_xml, name="index_xml"),
    path("expedientes/<int:pk>/metadatos.json", views.metadata_json, name="metadata_json"),
    path("expedientes/<int:pk>/accesos/", views.access_log, name="access_log"),
]
