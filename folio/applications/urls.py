"""URLs of online applications: the definition builder (staff) and the applications themselves (citizens and
staff). Each part keeps its own module so the two can evolve separately."""

from folio.applications import application_urls, definition_urls

app_name = "applications"

urlpatterns = [*definition_urls.urlpatterns, *application_urls.urlpatterns]
