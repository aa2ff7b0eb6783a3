from django import forms
from django.utils.translation import gettext_lazy as _


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"), max_length=20, min_length=12,
        help_text=_("The code printed on the document, for example ABCD-EFGH-JKMN."),
    )
