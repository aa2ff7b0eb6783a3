"""Form rendering helpers: Bootstrap classes and ARIA wiring for partials/field.html."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.template import Library
from django.utils.safestring import SafeString

register = Library()

_LISTS = (forms.CheckboxSelectMultiple, forms.RadioSelect)


@register.filter
def control(field: BoundField) -> SafeString:
    """Render the widget with Bootstrap's class, ``aria-invalid`` and ``aria-describedby`` (help, errors)."""
    widget = field.field.widget
    attrs: dict[str, Any] = {}
    if not isinstance(widget, (*_LISTS, forms.HiddenInput, forms.CheckboxInput)):
        css = "form-select" if isinstance(widget, forms.Select | forms.SelectMultiple) else "form-control"
        attrs["class"] = " ".join(
            c for c in (widget.attrs.get("class", ""), css, "is-invalid" if field.errors else "") if c
        )
    described = [f"{field.id_for_label}-help"] if field.help_text else []
    if field.errors:
        attrs["aria-invalid"] = "true"
        described.append(f"{field.id_for_label}-err")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
