"""URLs of applications: citizen portal (/mis-tramites/), filing, staff inbox and stage actions."""

from django.urls import URLPattern, path

from folio.applications import views

urlpatterns: list[URLPattern] = [
    # The public catalogue (folio.procedures) links "Iniciar en línea" here.
    path("tramites/<slug:org_slug>/<slug:procedure_slug>/iniciar/", views.start, name="start"),
    path("mis-tramites/", views.mine, name="mine"),
    path("mis-tramites/<int:pk>/", views.mine_detail, name="mine_detail"),
    path("mis-tramites/<int:pk>/certificado.pdf", views.mine_certificate, name="mine_certificate"),
    path("mis-tramites/<int:pk>/documentos/<int:entry_id>/", views.mine_document, name="mine_document"),
    path("mis-tramites/<int:pk>/subsanar/", views.mine_answer, name="mine_answer"),
    path("mis-tramites/<int:pk>/desistir/", views.mine_withdraw, name="mine_withdraw"),
    path("mis-tramites/<int:pk>/descartar/", views.mine_discard, name="mine_discard"),
    path("solicitudes/", views.inbox, name="inbox"),
    path("solicitudes/presencial/", views.counter_list, name="counter"),
    path("solicitudes/presencial/<int:definition_id>/", views.counter_new, name="counter_new"),
    path("solicitudes/informes/<int:pk>/", views.report_answer, name="report_answer"),
    path("solicitudes/informes/<int:pk>/cancelar/", views.report_cancel, name="report_cancel"),
    path("solicitudes/<int:pk>/", views.detail, name="detail"),
    path("solicitudes/<int:pk>/certificado.pdf", views.staff_certificate, name="certificate"),
    path("solicitudes/<int:pk>/documentos/<int:entry_id>/", views.staff_document, name="document"),
    path("solicitudes/<int:pk>/<slug:accion>/", views.act, name="act"),
]
