from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from folio.accounts import services
from folio.core.http import client_ip


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from folio.claveunica.selectors import staff_login_options

        context = super().get_context_data(**kwargs)
        context["claveunica_staff"] = staff_login_options(self.get_redirect_url() or None)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = (request.POST.get("username") or "").strip()
        if username and services.login_is_throttled(username=username, ip=client_ip(request)):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed attempts. Wait 15 minutes and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = (self.request.POST.get("username") or "").strip()
        if username:
            services.login_failure_record(username=username, ip=client_ip(self.request))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        services.login_success_record(user=form.get_user(), ip=client_ip(self.request))
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from folio.claveunica.views import logout_through_provider

        # Signed in through ClaveÚnica: its session must be closed too (the page sends the browser there).
        provider_logout = logout_through_provider(request)
        if provider_logout is not None:
            return provider_logout
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        return response
