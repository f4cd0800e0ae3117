"""Django settings: wiring only. Every value from the outside comes through ``config.env``."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, database_from_url
from core.policy import RetryPolicy
from core.release import release_read

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DJANGO_ENV = env.choice(
    "DJANGO_ENV",
    ("development", "test", "production"),
    "development",
    description="development | test | production; production forces secure defaults",
)
IS_PRODUCTION = DJANGO_ENV == "production"
IS_TEST = DJANGO_ENV == "test"

# --- core ------------------------------------------------------------------------------------
if IS_PRODUCTION:
    SECRET_KEY = env.string(
        "SECRET_KEY", description="Django secret key (required in production)", secret=True, required=True
    )
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
else:
    SECRET_KEY = env.string(
        "SECRET_KEY",
        "insecure-development-key-" + "x" * 40,
        description="Django secret key (a development default outside production)",
        secret=True,
    )
DEBUG = not IS_PRODUCTION and env.boolean("DEBUG", "false", description="Django debug pages (never in production)")
ALLOWED_HOSTS = env.strings(
    "ALLOWED_HOSTS",
    None if IS_PRODUCTION else "127.0.0.1,localhost,testserver",
    description="comma-separated host names the gateway answers to",
)
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS", "", description="origins trusted for admin form posts")

INSTALLED_APPS = [
    # the back office first: its admin/ templates (the console's header, the dashboard) extend the stock ones
    "backoffice.apps.BackofficeConfig",
    "backoffice.admin_config.GatewayAdminConfig",  # django.contrib.admin, with backoffice.site.GatewaySite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core.apps.CoreConfig",
    "partners.apps.PartnersConfig",
    "ledger.apps.LedgerConfig",
    "payments.apps.PaymentsConfig",
    "mobilemoney.apps.MobileMoneyConfig",
    "banking.apps.BankingConfig",
    "notifications.apps.NotificationsConfig",
    "events.apps.EventsConfig",
    "sandbox.apps.SandboxConfig",
    "ops.apps.OpsConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "approvals.apps.ApprovalsConfig",
    "reconciliation.apps.ReconciliationConfig",
    "reporting.apps.ReportingConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backoffice.language.AdminLanguageMiddleware",  # French (or the chosen language) under the admin only
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "backoffice.middleware.StaffSecurityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env.string(
            "DATABASE_URL",
            None if IS_PRODUCTION else "postgres://postgres@127.0.0.1:5432/addon_partner",
            description="PostgreSQL URL (default: the local server, database addon_partner)",
            secret=True,
        )
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The suite runs in parallel (pytest-xdist): worker gwN takes Redis database 15 - N by default, so
# two workers never flush each other's rate limits or Celery queues (pytest-django names their test
# databases itself); scripts/checkout_env.sh never gives databases 14 and 15 to a checkout.
TEST_WORKER = (
    env.string(
        "PYTEST_XDIST_WORKER",
        "gw0",
        description="tests only, set by pytest-xdist: the suite's worker (gw0, gw1…); picks its Redis database",
    )
    if IS_TEST
    else "gw0"
)
TEST_WORKER_INDEX = int(TEST_WORKER.removeprefix("gw") or "0")
# Schema fuzzing (tests/fuzz/test_schema_fuzz.py): examples per operation and generation mode;
# `make test` keeps the run short, `make fuzz` raises it.
FUZZ_EXAMPLES = env.integer(
    "FUZZ_EXAMPLES", "3", description="tests only: schemathesis examples per operation and mode (make fuzz: 60)"
)
REDIS_URL = env.url(
    "REDIS_URL",
    None
    if IS_PRODUCTION
    else (f"redis://127.0.0.1:6379/{15 - TEST_WORKER_INDEX}" if IS_TEST else "redis://127.0.0.1:6379/0"),
    description="Redis for cache, rate limits, replay guard and locks",
    schemes=("redis", "rediss"),
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ap",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if IS_TEST:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Africa/Dakar"
USE_I18N = True
USE_TZ = True
# The console speaks French by default and English on request (backoffice/language.py); the
# partner API stays in LANGUAGE_CODE's English whatever the caller sends.
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
BANK_NAME = env.string(
    "BANK_NAME", "Demo Bank", description="the bank's name, shown with the gateway's on every page of the console"
)

STATIC_URL = "/static/"
# Per release (not under var/, which deploy/deploy.sh shares between releases): a rollback
# serves the static files and manifest its own code was built with.
STATIC_ROOT = BASE_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
# --- security (docs/architecture.md §9) -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every response (django-csp): the admin's scripts and styles from this
# origin only, its icons as data: images; nothing framed. The API docs pages set their own, wider
# policy (inline init script), which the middleware keeps (core/api/docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", "true", description="redirect plain HTTP to HTTPS")
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Provider credentials and signing secrets are encrypted with these Fernet keys; the first
# encrypts, all decrypt (rotation). Outside production a development key is derived.
# Outside production, a missing value is derived from SECRET_KEY (no key is written in the repo).
FIELD_ENCRYPTION_KEYS = env.strings(
    "FIELD_ENCRYPTION_KEYS",
    None if IS_PRODUCTION else base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode(),
    description="comma-separated Fernet keys; the first encrypts, all decrypt",
    secret=True,
)

# --- staff: sign-in, second factor, sessions, the audit log (docs/staff-security.md) ------------------
ADMIN_URL = env.string("ADMIN_URL", "admin/", description="path of the staff console (the Django admin), ending in /")
if not re.fullmatch(r"([A-Za-z0-9_.-]+/)+", ADMIN_URL):
    raise ImproperlyConfigured("ADMIN_URL must be a relative path ending in / (such as admin/ or console-7f3a/).")
LOGIN_URL = "admin:login"
# django-axes first: five wrong passwords for a user name lock that user name out, from any address.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address as well: deliberately not, because the bank's staff sign in from
# a few office addresses behind NAT, and five typos by one person would lock the whole floor out.
# A user name is locked from every address, which is what stops guessing one person's password.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
STAFF_LOCKOUT_MINUTES = env.integer(
    "STAFF_LOCKOUT_MINUTES", "60", description="how long a locked-out staff user name stays locked (0: until unlocked)"
)
AXES_COOLOFF_TIME = timedelta(minutes=STAFF_LOCKOUT_MINUTES) if STAFF_LOCKOUT_MINUTES > 0 else None
AXES_LOCKOUT_TEMPLATE = "backoffice/lockout.html"
# The client's address (lockouts, the audit log): the peer's, unless a reverse proxy of ours
# passes it in a header; a header nobody trusted is never read (backoffice/client_ip.py).
TRUSTED_PROXY_HEADER = env.string(
    "TRUSTED_PROXY_HEADER",
    "",
    description="header in which our reverse proxy passes the client's address (X-Forwarded-For); empty: no proxy",
)
TRUSTED_PROXY_COUNT = env.integer(
    "TRUSTED_PROXY_COUNT", "1", description="how many proxies of ours append to TRUSTED_PROXY_HEADER"
)
if TRUSTED_PROXY_COUNT < 1:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be at least 1.")
AXES_CLIENT_IP_CALLABLE = "backoffice.client_ip.client_ip"
# A TOTP second factor for supervisors and admins (by group), and for every staff member when
# this is on; always on in production (backoffice/middleware.py).
STAFF_OTP_FOR_ALL = (
    True
    if IS_PRODUCTION
    else env.boolean(
        "STAFF_OTP_FOR_ALL", "false", description="ask every staff member for a TOTP code (forced on in production)"
    )
)
OTP_TOTP_ISSUER = "Addon Partner"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no page of the admin shows a device's key
# Staff sessions end when the browser closes, after STAFF_SESSION_HOURS in any case, and after
# STAFF_IDLE_MINUTES without a request (backoffice/middleware.py).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 3600 * env.integer("STAFF_SESSION_HOURS", "8", description="longest staff session (hours)")
STAFF_IDLE_MINUTES = env.integer(
    "STAFF_IDLE_MINUTES", "30", description="a staff session idle this long is signed out (minutes)"
)
# The audit log's hash chain key (HMAC-SHA256). Outside production it is derived from SECRET_KEY
# like the field encryption key; changing it makes earlier records fail audit_verify.
AUDIT_LOG_KEY = env.string(
    "AUDIT_LOG_KEY",
    None if IS_PRODUCTION else hashlib.sha256(b"audit-log:" + SECRET_KEY.encode()).hexdigest(),
    description="key of the audit log's hash chain (keep it: earlier records are verified with it)",
    secret=True,
)
if len(AUDIT_LOG_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_LOG_KEY must be at least 32 characters.")
if IS_TEST:
    # pytest-django empties the tables between transactional tests with TRUNCATE, which the audit
    # log's trigger refuses unless the connection says so (backoffice/migrations/0002_audit_log.py).
    _db_options = DATABASES["default"]["OPTIONS"]
    assert isinstance(_db_options, dict)
    _db_options["options"] = "-c backoffice.audit_log_truncate=allowed"

# --- integrations (one block each, with its own switch) --------------------------------------
SANDBOX_ENABLED = (
    False
    if IS_PRODUCTION
    else env.boolean("SANDBOX_ENABLED", "true", description="serve the provider simulators (forced off in production)")
)
SANDBOX_LATENCY_MS = env.integer(
    "SANDBOX_LATENCY_MS", "0", description="latency added to every simulated provider call (benchmarks)"
)
SANDBOX_HANG_SECONDS = env.number(
    "SANDBOX_HANG_SECONDS",
    "3",
    description="how long a simulator stalls for the 'times out' outcome (9902); outlasts the demo read timeout",
)
PUBLIC_BASE_URL = env.url(
    "PUBLIC_BASE_URL",
    "http://127.0.0.1:8000",
    description="where providers reach our callbacks and the sandbox reaches us",
    schemes=("http", "https"),
)

ENABLE_KAFKA = env.boolean("ENABLE_KAFKA", "false", description="publish outbox events to Kafka (enable.kafka)")
KAFKA = {
    "bootstrap.servers": env.string(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", description="Kafka bootstrap servers (host:port,…)"
    ),
    "security.protocol": env.choice(
        "KAFKA_SECURITY_PROTOCOL",
        ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
        "PLAINTEXT",
        description="Kafka security.protocol",
    ),
    "ssl.ca.location": env.string("KAFKA_SSL_CA_LOCATION", "", description="CA bundle for Kafka TLS"),
    "ssl.certificate.location": env.string("KAFKA_SSL_CERT_LOCATION", "", description="client certificate (mTLS)"),
    "ssl.key.location": env.string("KAFKA_SSL_KEY_LOCATION", "", description="client key (mTLS)"),
    "ssl.key.password": env.string("KAFKA_SSL_KEY_PASSWORD", "", description="client key password", secret=True),
    "sasl.mechanism": env.string("KAFKA_SASL_MECHANISM", "", description="SASL mechanism (PLAIN, SCRAM-SHA-512…)"),
    "sasl.username": env.string("KAFKA_SASL_USERNAME", "", description="SASL user name"),
    "sasl.password": env.string("KAFKA_SASL_PASSWORD", "", description="SASL password", secret=True),
}
KAFKA_TOPIC_EVENTS = env.string("KAFKA_TOPIC_EVENTS", "addon-partner.events", description="topic of outbox events")
KAFKA_TEST_TOPICS = env.strings(
    "KAFKA_TEST_TOPICS", "addon-partner.test", description="topics allowed for POST /api/v1/events/test"
)
KAFKA_MESSAGE_TIMEOUT_MS = env.integer(
    "KAFKA_MESSAGE_TIMEOUT_MS",
    "15000",
    description="how long a Kafka message may wait for its broker acknowledgement (message.timeout.ms)",
)
if not 1000 <= KAFKA_MESSAGE_TIMEOUT_MS <= 300_000:
    raise ImproperlyConfigured("KAFKA_MESSAGE_TIMEOUT_MS must be between 1000 and 300000.")

FIREBASE_ENABLED = env.boolean("FIREBASE_ENABLED", "false", description="send live pushes through Firebase")
FIREBASE_CREDENTIALS_FILE = env.string(
    "FIREBASE_CREDENTIALS_FILE", "", description="service-account JSON (required when FIREBASE_ENABLED)"
)
if FIREBASE_ENABLED and not FIREBASE_CREDENTIALS_FILE:
    raise ImproperlyConfigured("FIREBASE_ENABLED=true needs FIREBASE_CREDENTIALS_FILE.")

WEBHOOK_ALLOWED_HOSTS = env.strings(
    "WEBHOOK_ALLOWED_HOSTS",
    "",
    description="host names exempt from the private-address check of partner webhook URLs (sandbox, tests)",
)
# Loopback webhook URLs (a developer's own machine) for test-mode partners only; refused unless
# switched on, and forced off in production (partners/webhooks.py). The suite turns it on.
WEBHOOK_ALLOW_LOOPBACK = (
    False
    if IS_PRODUCTION
    else env.boolean(
        "WEBHOOK_ALLOW_LOOPBACK",
        "true" if IS_TEST else "false",
        description="accept loopback webhook URLs of test-mode partners (forced false in production)",
    )
)

# Bank transfers (issue 6). A pain.001 batch is the largest body the gateway takes: Django's own
# limit (DATA_UPLOAD_MAX_MEMORY_SIZE, read when partners/auth.py reads the body to check the
# signature) is raised to it, so a refused file is answered 413 against this one limit.
BANKING_BATCH_MAX_BYTES = env.integer(
    "BANKING_BATCH_MAX_BYTES",
    str(16 * 1024 * 1024),
    description="largest pain.001/JSON batch accepted by POST /api/v1/banking/transfer-batches (bytes)",
)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, BANKING_BATCH_MAX_BYTES)
BANKING_DEBTOR_ACCOUNT = env.string(
    "BANKING_DEBTOR_ACCOUNT",
    "SN08SN0100152000048500003035",
    description="our bank's settlement IBAN, the debtor account of transfers sent to other banks",
)
BANKING_DEBTOR_BIC = env.string("BANKING_DEBTOR_BIC", "CBAOSNDA", description="our bank's BIC (debtor agent)")

# --- execution: one retry / poll / review policy per rail (core/policy.py) ------------------


def _policy(rail: str, *, first: str, maximum: str, attempts: str, review: str) -> RetryPolicy:
    what = rail.lower().replace("_", " ")
    return RetryPolicy(
        first_delay=env.number(
            f"{rail}_POLL_FIRST_SECONDS", first, description=f"{what}: first retry / status query after (s)"
        ),
        max_delay=env.number(f"{rail}_POLL_MAX_SECONDS", maximum, description=f"{what}: longest backoff (s)"),
        max_attempts=env.integer(
            f"{rail}_MAX_ATTEMPTS", attempts, description=f"{what}: sends before staff are asked to look"
        ),
        review_after=env.number(
            f"{rail}_REVIEW_AFTER_SECONDS", review, description=f"{what}: age at which an unresolved item is flagged"
        ),
    )


EXECUTION_POLICIES = {
    "bills": _policy("BILLS", first="2", maximum="600", attempts="5", review="3600"),
    "mobile_money": _policy("MOBILEMONEY", first="30", maximum="1800", attempts="8", review="86400"),
    "banking": _policy("BANKING", first="2", maximum="300", attempts="5", review="3600"),
    "push": _policy("PUSH", first="5", maximum="600", attempts="5", review="86400"),
    "webhooks": _policy("WEBHOOK", first="30", maximum="3600", attempts="30", review="86400"),
}
MOBILEMONEY_BULK_LEASE_SECONDS = env.number(
    "MOBILEMONEY_BULK_LEASE_SECONDS",
    "20",
    description="bulk cash-ins: how long a worker holds a chunk before the sweeper may re-drive it (s)",
)
# docs/performance.md (P6): the final results of a provider batch are applied on this many threads
# per chunk, each with its own DB connection (a worker process opens up to this many more)
MOBILEMONEY_BULK_APPLY_THREADS = env.integer(
    "MOBILEMONEY_BULK_APPLY_THREADS",
    "4",
    description="bulk cash-ins: threads applying a provider batch's results per chunk (1: one after the other)",
)
if MOBILEMONEY_BULK_APPLY_THREADS < 1:
    raise ImproperlyConfigured("MOBILEMONEY_BULK_APPLY_THREADS must be at least 1.")
SANDBOX_POLL_FIRST_SECONDS = env.number(
    "SANDBOX_POLL_FIRST_SECONDS", "2", description="test mode: first status query at most this late (s)"
)
SANDBOX_POLL_MAX_SECONDS = env.number(
    "SANDBOX_POLL_MAX_SECONDS", "10", description="test mode: status queries at most this far apart (s)"
)
SANDBOX_REVIEW_AFTER_SECONDS = env.number(
    "SANDBOX_REVIEW_AFTER_SECONDS", "600", description="test mode: age at which an unresolved item is flagged (s)"
)
PROVIDER_CALL_RETENTION_DAYS = env.integer(
    "PROVIDER_CALL_RETENTION_DAYS", "90", description="provider call records are purged after this many days"
)
RAW_PAYLOAD_RETENTION_DAYS = env.integer(
    "RAW_PAYLOAD_RETENTION_DAYS",
    "30",
    description="raw bodies of provider callbacks and partner webhooks are erased after this many days",
)
# Four-eyes requests (approvals/): a pending request expires after this many hours; an expired one
# cannot be approved (marked by the beat task approvals.expire_requests, and checked when deciding).
APPROVAL_REQUEST_TTL_HOURS = env.integer(
    "APPROVAL_REQUEST_TTL_HOURS", "24", description="a pending four-eyes request expires after this many hours"
)

# --- Celery (docs/architecture.md §7) -------------------------------------------------------------------
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL", REDIS_URL, description="Celery broker (defaults to REDIS_URL)", schemes=("redis", "rediss")
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_QUEUES = ("payments", "bulk", "callbacks", "notifications", "outbox", "maintenance")
# Queues by task name (tasks are named "<app>.<what>"); first match wins.
CELERY_TASK_ROUTES = {
    "*.callback_*": {"queue": "callbacks"},
    "*.bulk_*": {"queue": "bulk"},
    "notifications.*": {"queue": "notifications"},
    "events.*": {"queue": "outbox"},
    "payments.*": {"queue": "payments"},
    "mobilemoney.*": {"queue": "payments"},
    "banking.*": {"queue": "payments"},
    "reconciliation.*": {"queue": "maintenance"},
    "reporting.*": {"queue": "bulk"},  # journal files of large ranges (docs/reports.md §1.2)
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat (docs/architecture.md §7): periodic maintenance; each task is safe to run twice.
CELERY_BEAT_SCHEDULE = {
    "ledger-purge-idempotency-records": {
        "task": "ledger.purge_idempotency_records",
        "schedule": 3600.0,  # hourly; records are kept 24 h, so a purge late by an hour is harmless
    },
    "mobilemoney-poll-cash-ins": {
        "task": "mobilemoney.poll_cash_ins",
        "schedule": 3.0,  # resolves unknown/stale cash-ins whose (backed-off) poll is due
    },
    "mobilemoney-bulk-sweep": {
        "task": "mobilemoney.bulk_sweep",
        "schedule": 5.0,  # re-drives cash-in batch chunks whose worker died; completes finished batches
    },
    "mobilemoney-checkout-sweep": {
        "task": "mobilemoney.checkout_sweep",
        "schedule": 15.0,  # checkout sessions expired, or paid without a callback reaching us
    },
    "payments-poll-bill-payments": {
        "task": "payments.poll_bill_payments",
        # every few seconds: only payments whose (backed-off) next status query is due are asked
        "schedule": 5.0,
    },
    "events-relay-outbox": {
        "task": "events.relay_outbox",
        "schedule": 2.0,  # outbox lag stays a few seconds; concurrent passes skip (advisory lock)
    },
    "notifications-webhook-retry-due": {
        "task": "notifications.webhook_retry_due",
        "schedule": 30.0,  # safety net for webhook retries whose task was lost
    },
    "notifications-push-retry-due": {
        "task": "notifications.push_retry_due",
        "schedule": 30.0,  # safety net for push sends whose task was lost with its worker
    },
    "ledger-purge-provider-calls": {
        "task": "ledger.purge_provider_calls",
        "schedule": 3600.0,  # hourly; records are kept PROVIDER_CALL_RETENTION_DAYS
    },
    "banking-poll-unresolved": {
        "task": "banking.poll_unresolved",
        "schedule": 5.0,  # unknown credits and unsettled transfers; backoff per row inside the task
    },
    "approvals-expire-requests": {
        "task": "approvals.expire_requests",
        "schedule": 300.0,  # pending four-eyes requests past APPROVAL_REQUEST_TTL_HOURS; deciding checks it too
    },
    "ops-refresh-provider-floats": {
        "task": "ops.refresh_provider_floats",
        # asks each provider for our float; off the /metrics path so a slow provider never stalls a scrape
        "schedule": 60.0,
    },
    "reporting-float-snapshots": {
        "task": "reporting.float_snapshots",
        "schedule": 3600.0,  # hourly: the providers' reported floats, for the float position (docs/reports.md §1.4)
    },
    "reconciliation-reconcile-yesterday": {
        "task": "reconciliation.reconcile_yesterday",
        # daily, early morning in Dakar: every provider's record of the day before (docs/reports.md §3.3)
        "schedule": crontab(hour=4, minute=30),
    },
    "core-purge-raw-payloads": {
        "task": "core.purge_raw_payloads",
        "schedule": 3600.0,  # hourly; raw bodies are kept RAW_PAYLOAD_RETENTION_DAYS
    },
}

# --- Reports (docs/reports.md) ----------------------------------------------------------------
# Report files (journals, statements) are written here by the workers and kept for download.
REPORTS_DIR = Path(
    env.string("REPORTS_DIR", str(BASE_DIR / "var" / "reports"), description="directory of generated report files")
)

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.GatewayJSONParser"],  # depth, NUL, lone surrogates: 400
    "EXCEPTION_HANDLER": "core.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.GatewayAutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Addon Partner API",
    "DESCRIPTION": "One signed, idempotent API for bills, mobile money, bank transfers and push notifications.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io (core/api/docs.py).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.problem_responses",
    ],
    # The schema's completeness is a test of its own (tests/core/test_openapi.py); the deploy
    # check stays about security.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}


def _short_cache_seconds(name: str, description: str) -> float:
    """A per-process cache's lifetime (core/short_cache.py): 2 s, 0 under test (read afresh), at most 5."""
    seconds = env.number(name, "0" if IS_TEST else "2", description=description)
    if not 0 <= seconds <= 5:
        raise ImproperlyConfigured(f"{name} must be between 0 and 5.")
    return seconds


# Partner authentication's cache (partners/auth.py): a key's credential and its partner's
# decrypted signing secrets, so a revocation, a rotated-out secret or a suspension reaches every
# web worker within it.
PARTNER_AUTH_CACHE_SECONDS = _short_cache_seconds(
    "PARTNER_AUTH_CACHE_SECONDS",
    "how long a web worker reuses a partner's credentials and secrets (s, at most 5; 0: off)",
)
# What every acceptance reads besides credentials: provider connections and codes, partner
# limits, the partner's account for holds. A provider disabled or a limit changed reaches every
# worker within it.
CONFIGURATION_CACHE_SECONDS = _short_cache_seconds(
    "CONFIGURATION_CACHE_SECONDS",
    "how long a process reuses provider connections, provider codes and partner limits (s, at most 5)",
)

# --- observability (docs/architecture.md §8) ------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", description="root log level")
LOG_FORMAT = env.choice(
    "LOG_FORMAT", ("json", "text"), "json", description="json (Logstash-compatible) or text for a console"
)
PROMETHEUS_MULTIPROC_DIR = env.string(
    "PROMETHEUS_MULTIPROC_DIR", "", description="directory shared by gunicorn workers for summed metrics"
)
PROMETHEUS_EXPORT_MIGRATIONS = False
# /metrics is open in development only; elsewhere it answers these networks (the Prometheus
# servers), and never a request relayed by a proxy (ops/views.py).
METRICS_ALLOWED_CIDRS = env.strings(
    "METRICS_ALLOWED_CIDRS",
    "127.0.0.0/8,::1/128",
    description="networks allowed to read /metrics outside development (comma-separated CIDRs)",
)
try:
    METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network(cidr, strict=False) for cidr in METRICS_ALLOWED_CIDRS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_CIDRS is malformed: {exc}") from exc
METRICS_OPEN = DJANGO_ENV == "development"
# The running release (RELEASE file written by `make dist` and deploy/deploy.sh), on /health/*.
RELEASE = release_read(BASE_DIR)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # routine periodic work (beat ticks, periodic tasks that did nothing) at DEBUG: config/routine_logs.py
        "routine": {"()": "config.routine_logs.RoutineFilter"},
        "request_context": {"()": "core.logging.RequestContextFilter"},
        "mask": {"()": "core.logging.MaskingFilter"},
    },
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["routine", "request_context", "mask"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
