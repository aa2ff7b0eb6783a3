from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from folio.accounts.models import ApiToken, LoginFailure, User
from folio.audit import services as audit


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    key = "folio_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[6:14], key_hash=ApiToken.hash_key(key))
    audit.record(
        action="api_token.create", actor=None, organization=user.organization, obj=user,
        data={"token_prefix": token.prefix, "name": name},
    )
    return token, key


def login_is_throttled(*, username: str, ip: str | None) -> bool:
    since = timezone.now() - dt.timedelta(seconds=settings.FOLIO_LOGIN_LOCKOUT_SECONDS)
    failures = LoginFailure.objects.filter(username=username.lower(), at__gte=since).count()
    return failures >= settings.FOLIO_LOGIN_MAX_FAILURES


def login_failure_record(*, username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower(), ip=ip)


def login_success_record(*, user: User, ip: str | None) -> None:
    LoginFailure.objects.filter(username=user.username.lower()).delete()
    with transaction.atomic():
        audit.record(action="auth.login", actor=user, organization=user.organization, obj=user, ip=ip)
