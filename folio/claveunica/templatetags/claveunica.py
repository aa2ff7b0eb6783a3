"""``{% load claveunica %}{% claveunica_login_url organization next as url %}`` — the address of the ClaveÚnica
button; ``{% is_claveunica_session as cu %}`` — whether the person signed in through ClaveÚnica."""

from __future__ import annotations

from typing import Any

from django import template

from folio.claveunica import selectors

register = template.Library()


@register.simple_tag
def claveunica_login_url(organization: Any = None, next: str | None = None, staff: bool = False) -> str:
    return selectors.claveunica_login_url(organization, next, staff=staff)


@register.simple_tag(takes_context=True)
def is_claveunica_session(context: template.Context) -> bool:
    request = context.get("request")
    return request is not None and selectors.is_claveunica_session(request)
