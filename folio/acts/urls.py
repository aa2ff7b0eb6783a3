from django.urls import path

from folio.acts import views

app_name = "acts"
urlpatterns = [
    path("actos/", views.act_list, name="list"),
    path("actos/nuevo/", views.act_new, name="new"),
    path("actos/bandeja/visaciones/", views.inbox_endorse, name="inbox_endorse"),
    path("actos/bandeja/firmas/", views.inbox_sign, name="inbox_sign"),
    path("actos/firma-masiva/", views.batch_sign, name="batch_sign"),
    path("actos/plantillas/", views.template_list, name="templates"),
    path("actos/plantillas/nueva/", views.template_edit, name="template_new"),
    path("actos/plantillas/<int:pk>/", views.template_edit, name="template_edit"),
    path("actos/politica-de-firma/", views.policy, name="policy"),
    path("actos/politica-de-firma/delegaciones/", views.delegation_new, name="delegation_new"),
    path("actos/politica-de-firma/delegaciones/<int:pk>/terminar/", views.delegation_end, name="delegation_end"),
    path("actos/politica-de-firma/subrogancias/", views.substitution_new, name="substitution_new"),
    path("actos/politica-de-firma/subrogancias/<int:pk>/terminar/", views.substitution_end,
         name="substitution_end"),
    path("actos/<int:pk>/", views.act_detail, name="detail"),
    path("actos/<int:pk>/editar/", views.act_edit, name="edit"),
    path("actos/<int:pk>/enviar/", views.act_submit, name="submit"),
    path("actos/<int:pk>/visar/", views.act_endorse, name="endorse"),
    path("actos/<int:pk>/devolver/", views.act_send_back, name="send_back"),
    path("actos/<int:pk>/firmar/", views.act_sign, name="sign"),
    path("actos/<int:pk>/anular/", views.act_cancel, name="cancel"),
    path("actos/<int:pk>/distribuir/", views.act_distribute, name="distribute"),
    path("actos/<int:pk>/documento.pdf", views.act_pdf, name="pdf"),
    path("actos/<int:pk>/vista.png", views.act_page_png, name="page"),
]
