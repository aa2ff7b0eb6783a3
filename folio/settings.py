"""Folio settings. Every value comes from the environment (DATABASE_URL, FOLIO_*); see docs/operations.md.

FOLIO_ENV selects the posture: ``development`` (default; sandboxes allowed, HTTP cookies), ``test``
and ``production`` (secure cookies, HSTS, sandboxes refused). There is no separate production module:
the same file reads the same variables everywhere.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tempfile
from pathlib import Path

import dj_database_url

from folio.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FOLIO_VAR_DIR", str(BASE_DIR / "var")))

# Under pytest the default posture is "test" (tasks run inline, no manifest needed for static files).
FOLIO_ENV = env_str("FOLIO_ENV", "test" if "pytest" in sys.modules else "development")
if FOLIO_ENV not in {"development", "test", "production"}:
    raise RuntimeError(f"FOLIO_ENV must be development, test or production, not {FOLIO_ENV!r}")
IS_PRODUCTION = FOLIO_ENV == "production"

DEBUG = env_bool("FOLIO_DEBUG", False)


def _secret_key() -> str:
    key = env_str("FOLIO_SECRET_KEY")
    if key:
        return key
    if IS_PRODUCTION:
        raise RuntimeError("FOLIO_SECRET_KEY (or FOLIO_SECRET_KEY_FILE) is required in production")
    # Development: a random key kept under var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("FOLIO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("FOLIO_CSRF_TRUSTED_ORIGINS", [])
# Public base URL, printed in receipts and QR codes so that anyone can verify a document.
FOLIO_PUBLIC_URL = env_str("FOLIO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "folio.core",
    "folio.organizations",
    "folio.accounts",
    "folio.audit",
    "folio.files",
    "folio.verification",
    "folio.registry",
    "folio.case_files",
    "folio.signatures",
    "folio.acts",
    "folio.claveunica",
    "folio.procedures",
    "folio.applications",
    "folio.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "folio.core.middleware.OrganizationTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "folio.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "folio.urls"
WSGI_APPLICATION = "folio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "folio" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "folio.core.context_processors.folio",
                "folio.procedures.context_processors.procedures_nav",
                "folio.applications.context_processors.applications_nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite in WAL mode by default; PostgreSQL through DATABASE_URL. IMMEDIATE transactions make SQLite
# writers queue at BEGIN instead of failing with "database is locked" when they upgrade a read lock.
_default_sqlite = f"sqlite:///{VAR_DIR / 'folio.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
        ),
    }
    DATABASES["default"].setdefault("TEST", {})
    # Tests use a database file, not SQLite's shared in-memory one, so that threads and live servers see real
    # WAL + IMMEDIATE locking (an in-memory shared cache fails with "table is locked" instead of waiting).
    # One file per test process, so parallel runs never clobber each other's database.
    DATABASES["default"]["TEST"].setdefault(
        "NAME", str(Path(tempfile.gettempdir()) / f"folio-test-{os.getpid()}.sqlite3")
    )
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed staff logins per username+address before a cool-down (seconds).
FOLIO_LOGIN_MAX_FAILURES = env_int("FOLIO_LOGIN_MAX_FAILURES", 5)
FOLIO_LOGIN_LOCKOUT_SECONDS = env_int("FOLIO_LOGIN_LOCKOUT_SECONDS", 900)

# --- Language, time -------------------------------------------------------------------------------
LANGUAGE_CODE = "es-cl"
# Spanish only: the product is translatable (English msgids), but a clerk whose browser prefers English
# must still get the Spanish interface the municipality works in.
LANGUAGES = [("es-cl", "Español (Chile)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["folio.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "America/Santiago"

# --- Static and media files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "folio" / "static"]
MEDIA_ROOT = Path(env_str("FOLIO_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": env_str("FOLIO_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and FOLIO_ENV != "test"
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = FOLIO_ENV == "test"
# Uploads: a single file may not exceed FOLIO_MAX_UPLOAD_MB; Django's own body limits follow.
FOLIO_MAX_UPLOAD_MB = env_int("FOLIO_MAX_UPLOAD_MB", 50)
# The CPAT inventory import (/cpat/importar/) takes spreadsheets up to this size.
FOLIO_PROCEDURES_IMPORT_MAX_MB = env_int("FOLIO_PROCEDURES_IMPORT_MAX_MB", 5)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 50

# --- Background jobs ------------------------------------------------------------------------------
# Django Tasks API; the database backend needs no extra server and its workers share the queue on
# PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED). Tests run tasks immediately.
TASKS = {
    "default": {
        "BACKEND": env_str(
            "FOLIO_TASKS_BACKEND",
            "django_tasks.backends.immediate.ImmediateBackend"
            if FOLIO_ENV == "test"
            else "django_tasks_db.DatabaseBackend",
        ),
    }
}
FOLIO_OCR_ENABLED = env_bool("FOLIO_OCR_ENABLED", False)

# --- Electronic signatures (folio.signatures) -------------------------------------------------------
# Key-encryption key for the organizations' CA private keys (and sealed provider secrets). Required in
# production; elsewhere derived from the secret key so it survives restarts like the sessions do.
def _key_encryption_key() -> str:
    key = env_str("FOLIO_KEY_ENCRYPTION_KEY")
    if key:
        return key
    if IS_PRODUCTION:
        raise RuntimeError("FOLIO_KEY_ENCRYPTION_KEY (or FOLIO_KEY_ENCRYPTION_KEY_FILE) is required in production")
    return hashlib.sha256(b"folio-key-encryption-key:" + SECRET_KEY.encode()).hexdigest()


FOLIO_KEY_ENCRYPTION_KEY = _key_encryption_key()
# The FirmaGob and RFC 3161 sandboxes under /sandbox/: never in production, on by default elsewhere.
# A trivial view at /_bench/bare, served through the whole middleware stack, as the baseline of the load test
# (bench/load_test.sh). Never in production.
FOLIO_BENCH_VIEWS = env_bool("FOLIO_BENCH_VIEWS", False) and not IS_PRODUCTION
FOLIO_SANDBOXES = env_bool("FOLIO_SANDBOXES", not IS_PRODUCTION) and not IS_PRODUCTION
FOLIO_SANDBOX_DIR = Path(env_str("FOLIO_SANDBOX_DIR", str(VAR_DIR / "sandboxes")))
# Extra trust roots (PEM files, comma-separated) for validating signatures besides the organizations' CAs.
FOLIO_TRUST_ROOTS = env_list("FOLIO_TRUST_ROOTS", [])
# Time-stamping authority used when an organization configures none (empty: the sandbox outside production).
FOLIO_TSA_URL = env_str("FOLIO_TSA_URL", "")
# Seconds a signer's key opened with the right passphrase stays in memory (batch signing); 0 = never.
FOLIO_SIGNING_KEY_CACHE_SECONDS = env_int("FOLIO_SIGNING_KEY_CACHE_SECONDS", 300)

# --- ClaveÚnica (folio.claveunica) -------------------------------------------------------------------
# Each organization's credentials are in its ClaveUnicaConfig (set by its administrator, secret sealed with the
# key-encryption key). Calls to ClaveÚnica use HTTPS (TLS >= 1.2); plain http only to a loopback sandbox and
# never in production. Seconds Folio waits for each back-channel call (token, JWKS, userinfo):
FOLIO_CLAVEUNICA_TIMEOUT = env_int("FOLIO_CLAVEUNICA_TIMEOUT", 10)

# --- Official documents (folio.acts) ----------------------------------------------------------------
# A signature holds the next number of its counter while it is made (longer than the FirmaGob timeout);
# another signature of the same type waits that long at most before it is told to retry.
FOLIO_ACTS_NUMBER_LEASE_SECONDS = env_int("FOLIO_ACTS_NUMBER_LEASE_SECONDS", 120)
FOLIO_ACTS_NUMBER_WAIT_SECONDS = env_int("FOLIO_ACTS_NUMBER_WAIT_SECONDS", 30)

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_HOST = env_str("FOLIO_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("FOLIO_EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("FOLIO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("FOLIO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("FOLIO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("FOLIO_EMAIL_TIMEOUT", 20)
EMAIL_BACKEND = env_str(
    "FOLIO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("FOLIO_DEFAULT_FROM_EMAIL", "Folio <no-responder@folio.localhost>")

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "folio.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "folio.api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "folio.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Folio API",
    "DESCRIPTION": "API de Folio: Oficina de Partes, expedientes y trámites municipales (Ley N°21.180).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RegistrationStatusEnum": "folio.registry.models.RegistrationStatus",
        "RoutingStatusEnum": "folio.registry.models.RoutingStatus",
        "DeliveryMethodEnum": "folio.registry.models.DeliveryMethod",
        "ActKindEnum": "folio.acts.models.ActKind",
        "ActStateEnum": "folio.acts.models.ActState",
        "ActStepKindEnum": "folio.acts.models.StepKind",
        "ActStepStatusEnum": "folio.acts.models.StepStatus",
        "SignatureMethodEnum": "folio.acts.models.SignatureMethod",
        "SigningCapacityEnum": "folio.acts.models.Capacity",
        "CaseFileStateEnum": "folio.case_files.models.CaseFileState",
        "DispositionStatusEnum": "folio.case_files.models.DispositionStatus",
        "PartyKindEnum": "folio.registry.models.PartyKind",
        "ProcedureKindEnum": "folio.procedures.models.ProcedureKind",
        "SimplificationPlanStateEnum": "folio.procedures.models.PlanState",
        "DigitalizationLevelEnum": "folio.procedures.models.DigitalizationLevel",
        "ApplicationStateEnum": "folio.applications.models.ApplicationState",
        "ApplicationChannelEnum": "folio.applications.models.Channel",
    },
}

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("FOLIO_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free header set in base.html
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("FOLIO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("FOLIO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("FOLIO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pyHanko logs a traceback for every certificate that does not chain to a trust root: the validation
        # report already says so (uploads to /verificar/ of documents signed elsewhere are routine).
        "pyhanko.sign.validation.generic_cms": {"level": "ERROR"},
    },
}
