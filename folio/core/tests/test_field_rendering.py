"""partials/field.html: Bootstrap classes on every control and ARIA links to help text and errors."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the RUN card.")
    kind = forms.ChoiceField(label="Kind", choices=[("a", "A"), ("b", "B")])
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"class": "font-monospace"}))
    agree = forms.BooleanField(label="Agree", required=False)


def render(form: forms.Form, name: str) -> str:
    return render_to_string("partials/field.html", {"field": form[name]})


def test_unbound_controls_get_bootstrap_classes_and_help_link() -> None:
    form = SampleForm()
    name = render(form, "name")
    assert 'class="form-control"' in name
    assert 'aria-describedby="id_name-help"' in name and 'id="id_name-help"' in name
    assert "aria-invalid" not in name
    assert 'class="form-select"' in render(form, "kind")
    assert 'class="font-monospace form-control"' in render(form, "notes")
    assert 'class="form-check-input"' in render(form, "agree")


def test_errors_mark_the_control_invalid_and_are_announced_with_it() -> None:
    form = SampleForm(data={"name": "", "kind": "zzz"})
    assert not form.is_valid()
    name = render(form, "name")
    assert 'class="form-control is-invalid"' in name
    assert 'aria-invalid="true"' in name
    assert 'aria-describedby="id_name-help id_name-err"' in name
    assert name.count('id="id_name-err"') == 1
    kind = render(form, "kind")
    assert 'class="form-select is-invalid"' in kind and 'aria-describedby="id_kind-err"' in kind
