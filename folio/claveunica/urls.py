from django.urls import path

from folio.claveunica import views

app_name = "claveunica"
urlpatterns = [
    path("claveunica/ingresar/", views.login, name="login"),
    path("claveunica/callback/", views.callback, name="callback"),
    path("claveunica/salir/", views.logout, name="logout"),
    path("administracion/claveunica/", views.config_edit, name="config"),
    # The sandbox provider: the same paths as https://accounts.claveunica.gob.cl (404 when sandboxes are off).
    path("sandbox/claveunica/openid/authorize/", views.sandbox_authorize, name="sandbox_authorize"),
    path("sandbox/claveunica/openid/token/", views.sandbox_token, name="sandbox_token"),
    path("sandbox/claveunica/openid/userinfo/", views.sandbox_userinfo, name="sandbox_userinfo"),
    path("sandbox/claveunica/openid/jwks", views.sandbox_jwks, name="sandbox_jwks"),
    path("sandbox/claveunica/openid/.well-known/openid-configuration", views.sandbox_discovery,
         name="sandbox_discovery"),
    path("sandbox/claveunica/api/v1/accounts/app/logout", views.sandbox_logout, name="sandbox_logout"),
]
