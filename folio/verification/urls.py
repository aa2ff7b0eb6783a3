from django.urls import path

from folio.verification import views

app_name = "verification"
urlpatterns = [
    path("", views.verify_index, name="index"),
    path("<str:code>", views.verify_detail, name="detail"),
    path("<str:code>/<str:which>", views.verify_download, name="download"),
]
