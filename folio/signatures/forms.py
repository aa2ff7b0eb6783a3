from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from folio.signatures.services import MIN_PASSPHRASE


class SignedPdfForm(forms.Form):
    """The public upload of /verificar/: a signed PDF to validate."""

    file = forms.FileField(
        label=_("Signed PDF"),
        help_text=_("Folio checks every electronic signature of the file; the file is not stored."),
    )


class EnrollForm(forms.Form):
    password = forms.CharField(label=_("Your Folio password"), widget=forms.PasswordInput, strip=False)
    passphrase = forms.CharField(
        label=_("New signing passphrase"), widget=forms.PasswordInput, strip=False, min_length=MIN_PASSPHRASE,
        help_text=_("You will type it every time you sign. Folio cannot recover it: if you forget it, you "
                    "will need a new certificate."),
    )
    passphrase_again = forms.CharField(label=_("Repeat the signing passphrase"), widget=forms.PasswordInput,
                                       strip=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("passphrase") and data.get("passphrase") != data.get("passphrase_again"):
            self.add_error("passphrase_again", _("The two passphrases do not match."))
        if data.get("passphrase") and data.get("passphrase") == data.get("password"):
            self.add_error("passphrase", _("The signing passphrase must differ from your Folio password."))
        return data


class SandboxOtpForm(forms.Form):
    run = forms.CharField(label=_("RUN (without check digit)"), max_length=12)

    def clean_run(self) -> str:
        run = "".join(ch for ch in self.cleaned_data["run"] if ch.isdigit())
        if not run or len(run) > 9:
            raise forms.ValidationError(_("Enter the RUN digits."))
        return run
