from django.urls import path

from folio.signatures import views

app_name = "signatures"
urlpatterns = [
    path("firma/certificado/", views.my_certificate, name="certificate"),
    path("sandbox/tsa", views.sandbox_tsa, name="sandbox_tsa"),
    path("sandbox/firmagob/firma/v2/files/tickets", views.sandbox_firmagob_tickets, name="sandbox_firmagob"),
    path("sandbox/firmagob/otp", views.sandbox_firmagob_otp, name="sandbox_firmagob_otp"),
]
