"""DreamNet settings: one file, driven by the environment.

Every value a deployment changes comes from an environment variable read through ``dreamnet.env``; bad
values stop start-up with the variable's name. The embedded default needs nothing installed: SQLite in
``DREAMNET_HOME``, the in-memory channel layer and Django-Q2's ORM broker. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis for scale-out; ``DREAMNET_ENV=production`` turns on the
secure settings. The README's table lists every variable.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dreamnet.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Environment
DREAMNET_ENV = env_str("DREAMNET_ENV", "development", choices=("development", "production"))
PRODUCTION = DREAMNET_ENV == "production"
DREAMNET_HOME = Path(env_str("DREAMNET_HOME", str(BASE_DIR / "var"))).resolve()
DREAMNET_HOME.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DREAMNET_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DREAMNET_DEBUG must be off when DREAMNET_ENV=production.")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) is required when DREAMNET_ENV=production; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development only: a key kept in DREAMNET_HOME so sessions survive restarts.
    _key_file = DREAMNET_HOME / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text(encoding="utf-8").strip()
elif PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DREAMNET_ENV=production.")

ALLOWED_HOSTS = env_list(
    "DREAMNET_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DREAMNET_ALLOWED_HOSTS is required when DREAMNET_ENV=production "
        "(comma-separated host names, e.g. dreamnet.example.com,www.dreamnet.example.com)."
    )
CSRF_TRUSTED_ORIGINS = env_list("DREAMNET_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "django_q",
    "ninja",
    "dreamnet",
    "commerce",
    "agents",
    "mesh",
    "computejobs",
    "treasury",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dreamnet.security.UploadLimitMiddleware",
    "dreamnet.api_middleware.SingleQueryValueMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# A multipart body cut off inside a file part is refused (400), not taken as if the file had not been sent.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    "dreamnet.uploads.TruncatedUploadRefusal",  # last: the handlers above clean up their files first
]

ROOT_URLCONF = "dreamnet.urls"
ASGI_APPLICATION = "dreamnet.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dreamnet.context_processors.site",
            ],
        },
    },
]

# Database
DATABASE_URL = env_secret("DATABASE_URL") or ""  # or DATABASE_URL_FILE: the URL carries the password
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/name); got scheme "
            f"{DATABASE_URL.split(':', 1)[0]!r}. Leave it unset for the embedded SQLite database."
        )
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DREAMNET_DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(env_str("DREAMNET_SQLITE_PATH", str(DREAMNET_HOME / "dreamnet.sqlite3"))),
            "OPTIONS": {
                # WAL lets the web server and the worker cluster read while one of them writes;
                # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": DREAMNET_HOME / "test.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, cache and Channels
REDIS_URL = env_secret("REDIS_URL") or ""  # or REDIS_URL_FILE
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL must be a redis://, rediss:// or unix:// URL; got {REDIS_URL.split(':', 1)[0]!r}."
    )
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 gives every socket a 5 s timeout, the length of channels_redis's blocking BZPOPMIN:
            # the read then timed out on an idle consumer and closed its websocket (1011) after ~5 s.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": "dreamnet"},
        }
    }
else:
    # A file cache is shared by the web server and the worker cluster (Django-Q2 keeps its cluster
    # statistics in the cache, and /api/health reads them from the other process).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": DREAMNET_HOME / "cache",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Django-Q2
# retry > timeout: a task is handed out again only after its first run has certainly been killed, so a
# task never runs twice at once. Tasks themselves are idempotent, keyed on the rows they work on.
Q_TIMEOUT_S = env_int("DREAMNET_Q_TIMEOUT_S", 600, minimum=5)
Q_CLUSTER = {
    "name": "dreamnet",
    # Two long-running pumps (spot feed, peer heartbeats) each hold a worker; the rest serve missions and jobs.
    "workers": env_int("DREAMNET_Q_WORKERS", 4, minimum=1, maximum=64),
    "timeout": Q_TIMEOUT_S,
    "retry": Q_TIMEOUT_S + 60,
    "max_attempts": env_int("DREAMNET_Q_MAX_ATTEMPTS", 3, minimum=1),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Tasks",
    "sync": env_bool("DREAMNET_Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# Authentication
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Sign-in lockout (dreamnet/security.py): failures per typed username, and per client address, in a window.
DREAMNET_LOGIN_MAX_FAILURES = env_int("DREAMNET_LOGIN_MAX_FAILURES", 5, minimum=1)
DREAMNET_LOGIN_IP_MAX_FAILURES = env_int("DREAMNET_LOGIN_IP_MAX_FAILURES", 50, minimum=1)
DREAMNET_LOGIN_LOCKOUT_S = env_int("DREAMNET_LOGIN_LOCKOUT_S", 900, minimum=1)
DREAMNET_LOGIN_RATE_PER_MINUTE = env_int("DREAMNET_LOGIN_RATE_PER_MINUTE", 30, minimum=1)  # sign-in posts per address
DREAMNET_API_KEY_MAX_FAILURES = env_int("DREAMNET_API_KEY_MAX_FAILURES", 30, minimum=1)  # bad keys per address a minute
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (whitenoise serves them from the ASGI app; no CDN anywhere)
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DREAMNET_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root even when serving from finders
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DREAMNET_HOME / "media"},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the finders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Security
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default for admin.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DREAMNET_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DREAMNET_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DREAMNET_HSTS_PRELOAD", True)
    if not SECURE_HSTS_PRELOAD:
        # The operator opted out of the browser preload list on purpose; the check would only repeat that.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CSP["upgrade-insecure-requests"] = True

# Logging: to stderr, secrets never included
# Error reports (the DEBUG error page) hide secrets and the connection URLs that carry passwords.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dreamnet.security.SecretsReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DREAMNET_LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": env_str("DREAMNET_Q_LOG_LEVEL", "WARNING")}},
}

# django-ninja: how many proxies sit in front of the node (rate limits key on the client address they report)
NINJA_NUM_PROXIES = env_int("DREAMNET_NUM_PROXIES", 0, minimum=0)

# Health
HEALTH_MIN_FREE_MB = env_int("DREAMNET_HEALTH_MIN_FREE_MB", 512, minimum=0)
HEALTH_CLUSTER_MAX_AGE_S = env_int("DREAMNET_HEALTH_CLUSTER_MAX_AGE_S", 30, minimum=1)
# The coherence view (docs/operations.md): probe rounds stored at most every SAMPLE_S, kept HISTORY_H hours,
# summarised over the last WINDOW_S seconds.
HEALTH_SAMPLE_S = env_int("DREAMNET_HEALTH_SAMPLE_S", 10, minimum=1, maximum=3600)
HEALTH_HISTORY_H = env_int("DREAMNET_HEALTH_HISTORY_H", 24, minimum=1)
HEALTH_WINDOW_S = env_int("DREAMNET_HEALTH_WINDOW_S", 3600, minimum=60, maximum=7 * 86400)
# /api/health, the status page and /ws/status/ serve a probe round at most this old (one round per process per interval)
HEALTH_MAX_AGE_S = env_int("DREAMNET_HEALTH_MAX_AGE_MS", 1000, minimum=0, maximum=60_000) / 1000
STATUS_PUSH_INTERVAL_S = env_int("DREAMNET_STATUS_PUSH_INTERVAL_S", 5, minimum=1, maximum=3600)

# StarBridge mesh
DREAMNET_NODE_NAME = env_str("DREAMNET_NODE_NAME", "")  # log origin and key name; default dreamnet.local/<node id>
MESH_MAX_PAYLOAD_BYTES = env_int("DREAMNET_MESH_MAX_PAYLOAD_BYTES", 64 * 1024, minimum=1024)
MESH_CHECKPOINT_INTERVAL_S = env_int("DREAMNET_MESH_CHECKPOINT_INTERVAL_MS", 1000, minimum=50) / 1000
MESH_CHECKPOINT_TIMER = env_bool("DREAMNET_MESH_CHECKPOINT_TIMER", True)  # sign within the interval after appends
MESH_CHECKPOINT_EVERY = env_int("DREAMNET_MESH_CHECKPOINT_EVERY", 256, minimum=1)
MESH_RELAY_POLL_S = env_int("DREAMNET_MESH_RELAY_POLL_MS", 250, minimum=20) / 1000
# Events whose topic starts with one of these reach the public /ws/status/ stream; all reach /ws/console/.
MESH_PUBLIC_TOPIC_PREFIXES = tuple(
    env_list("DREAMNET_MESH_PUBLIC_TOPICS", ["mesh.", "dreamsnail.", "price.", "status.", "compute.showcase."])
)
ARTIFACT_MAX_BYTES = env_int("DREAMNET_ARTIFACT_MAX_MB", 64, minimum=1) * 1024 * 1024
# DreamSnail hashes public uploads without keeping them; a smaller cap than artifacts, as anyone may send one.
DREAMSNAIL_MAX_FILE_BYTES = env_int("DREAMNET_DREAMSNAIL_MAX_FILE_MB", 16, minimum=1) * 1024 * 1024
DREAMSNAIL_COMMIT_RATE = env_str("DREAMNET_DREAMSNAIL_COMMIT_RATE", "30/m")
# Mesh peers (docs/mesh.md "Peers"): heartbeat cadence, and a trust score in [0, 100] that decays towards neutral.
MESH_PEER_HEARTBEAT_S = env_int("DREAMNET_MESH_PEER_HEARTBEAT_S", 10, minimum=1, maximum=55)
MESH_PEER_TIMEOUT_S = env_int("DREAMNET_MESH_PEER_TIMEOUT_S", 5, minimum=1, maximum=60)
MESH_PEER_SCORE_NEUTRAL = env_int("DREAMNET_MESH_PEER_SCORE_NEUTRAL", 50, minimum=0, maximum=100)
MESH_PEER_SCORE_HALF_LIFE_S = env_int("DREAMNET_MESH_PEER_SCORE_HALF_LIFE_S", 3600, minimum=1)
MESH_PEER_SCORE_REWARD = env_int("DREAMNET_MESH_PEER_SCORE_REWARD", 2, minimum=0, maximum=100)
MESH_PEER_PENALTY_BAD_SIGNATURE = env_int("DREAMNET_MESH_PEER_PENALTY_BAD_SIGNATURE", 30, minimum=0, maximum=100)
MESH_PEER_PENALTY_BAD_RESPONSE = env_int("DREAMNET_MESH_PEER_PENALTY_BAD_RESPONSE", 15, minimum=0, maximum=100)
MESH_PEER_PENALTY_UNREACHABLE = env_int("DREAMNET_MESH_PEER_PENALTY_UNREACHABLE", 10, minimum=0, maximum=100)
MESH_PEER_UNREACHABLE_PERIOD_S = env_int("DREAMNET_MESH_PEER_UNREACHABLE_PERIOD_S", 60, minimum=1)
MESH_PEER_SUSPECT_BELOW = env_int("DREAMNET_MESH_PEER_SUSPECT_BELOW", 40, minimum=0, maximum=100)
MESH_PEER_QUARANTINE_BELOW = env_int("DREAMNET_MESH_PEER_QUARANTINE_BELOW", 15, minimum=0, maximum=100)
if not MESH_PEER_QUARANTINE_BELOW <= MESH_PEER_SUSPECT_BELOW <= MESH_PEER_SCORE_NEUTRAL:
    raise ImproperlyConfigured(
        "Peer thresholds must satisfy DREAMNET_MESH_PEER_QUARANTINE_BELOW ≤ DREAMNET_MESH_PEER_SUSPECT_BELOW ≤ "
        f"DREAMNET_MESH_PEER_SCORE_NEUTRAL; got {MESH_PEER_QUARANTINE_BELOW}, {MESH_PEER_SUSPECT_BELOW}, "
        f"{MESH_PEER_SCORE_NEUTRAL}."
    )
MESH_PEER_HISTORY_H = env_int("DREAMNET_MESH_PEER_HISTORY_H", 24, minimum=1)  # heartbeat rows kept this long
MESH_WITNESS_RATE = env_str("DREAMNET_MESH_WITNESS_RATE", "120/m")  # add-checkpoint requests per client address
# Sync (docs/sync.md "Garbage collection"): a chunk stored or used less than this long ago is never collected, so
# a transfer that has stored chunks no record names yet keeps them; it must exceed the longest transfer round.
SYNC_GC_GRACE_S = env_int("DREAMNET_SYNC_GC_GRACE_S", 3600, minimum=60)
# Outbound webhooks (docs/mesh.md "Webhooks"): retries back off exponentially for up to a day.
# Webhooks to loopback, private, link-local (cloud metadata) or reserved addresses are refused unless allowed;
# allowed by default outside production, where the receiver usually runs on the same machine.
MESH_WEBHOOK_ALLOW_PRIVATE = env_bool("DREAMNET_MESH_WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
MESH_WEBHOOK_TIMEOUT_S = env_int("DREAMNET_MESH_WEBHOOK_TIMEOUT_S", 10, minimum=1, maximum=60)
MESH_WEBHOOK_RETRY_BASE_S = env_int("DREAMNET_MESH_WEBHOOK_RETRY_BASE_S", 60, minimum=1)
MESH_WEBHOOK_RETRY_MAX_INTERVAL_S = env_int("DREAMNET_MESH_WEBHOOK_RETRY_MAX_INTERVAL_S", 3600, minimum=1)
MESH_WEBHOOK_RETRY_FOR_S = env_int("DREAMNET_MESH_WEBHOOK_RETRY_FOR_S", 86_400, minimum=1)
MESH_WEBHOOK_PAUSE_AFTER_S = env_int("DREAMNET_MESH_WEBHOOK_PAUSE_AFTER_S", 86_400, minimum=0)
MESH_WEBHOOK_PAUSE_MIN_FAILURES = env_int("DREAMNET_MESH_WEBHOOK_PAUSE_MIN_FAILURES", 10, minimum=1)
MESH_WEBHOOK_CACHE_S = env_int("DREAMNET_MESH_WEBHOOK_CACHE_MS", 2000, minimum=0) / 1000

# Commerce (Prime Source Direct)
SPOT_PROVIDERS = env_list("DREAMNET_SPOT_PROVIDERS", ["simulated"])  # tried in order; the first that answers wins
for _provider in SPOT_PROVIDERS:
    if _provider not in ("simulated", "metalpriceapi", "metalsdev"):
        raise ImproperlyConfigured(
            f"DREAMNET_SPOT_PROVIDERS names {_provider!r}; use simulated, metalpriceapi and/or metalsdev."
        )
SPOT_MAX_AGE_S = env_int("DREAMNET_SPOT_MAX_AGE_S", 60, minimum=1)
SPOT_REFRESH_S = env_int("DREAMNET_SPOT_REFRESH_S", 15, minimum=1)
SPOT_SPREAD_BPS = env_int("DREAMNET_SPOT_SPREAD_BPS", 20, minimum=0, maximum=1000)
SPOT_SIMULATED_SEED = env_int("DREAMNET_SPOT_SEED", 7)
METALPRICEAPI_KEY = env_secret("METALPRICEAPI_KEY")
METALPRICEAPI_URL = env_str("METALPRICEAPI_URL", "https://api.metalpriceapi.com")
METALSDEV_KEY = env_secret("METALSDEV_KEY")
METALSDEV_URL = env_str("METALSDEV_URL", "https://api.metals.dev")
LOCK_MINUTES = {
    "wire": env_int("DREAMNET_LOCK_MINUTES_WIRE", 10, minimum=1, maximum=120),
    "card": env_int("DREAMNET_LOCK_MINUTES_CARD", 10, minimum=1, maximum=120),
    "ach": env_int("DREAMNET_LOCK_MINUTES_ACH", 10, minimum=1, maximum=120),
    "lemonsqueezy": env_int("DREAMNET_LOCK_MINUTES_LEMONSQUEEZY", 10, minimum=1, maximum=120),
}
WIRE_DEADLINE_BUSINESS_DAYS = env_int("DREAMNET_WIRE_DEADLINE_BUSINESS_DAYS", 1, minimum=1, maximum=10)
CARD_SURCHARGE_PERCENT = env_str("DREAMNET_CARD_SURCHARGE_PERCENT", "4")
COMPLIANCE_THRESHOLD_USD = env_int("DREAMNET_COMPLIANCE_THRESHOLD_USD", 10_000, minimum=0)
SITE_URL = env_str("DREAMNET_SITE_URL", "http://127.0.0.1:8000").rstrip("/")  # for links sent to Stripe and e-mail

# Treasury (watched wallets and valuation snapshots)
TREASURY_SOURCES = env_list("DREAMNET_TREASURY_SOURCES", ["simulated"])  # per chain and for prices, tried in order
for _source in TREASURY_SOURCES:
    if _source not in ("simulated", "alchemy", "helius", "vechain", "coingecko"):
        raise ImproperlyConfigured(
            f"DREAMNET_TREASURY_SOURCES names {_source!r}; use simulated, alchemy, helius, vechain and/or coingecko."
        )
TREASURY_PRICE_MAX_AGE_S = env_int("DREAMNET_TREASURY_PRICE_MAX_AGE_S", 900, minimum=1)
TREASURY_SNAPSHOT_EVERY_MIN = env_int("DREAMNET_TREASURY_SNAPSHOT_EVERY_MIN", 60, minimum=1)
TREASURY_SIMULATED_SEED = env_int("DREAMNET_TREASURY_SEED", 7)
TREASURY_HTTP_TIMEOUT_S = env_int("DREAMNET_TREASURY_HTTP_TIMEOUT_S", 8, minimum=1, maximum=120)
TREASURY_HTTP_RETRIES = env_int("DREAMNET_TREASURY_HTTP_RETRIES", 2, minimum=0, maximum=10)
TREASURY_MAX_WALLETS = env_int("DREAMNET_TREASURY_MAX_WALLETS", 200, minimum=1)
TREASURY_RISK_PATHS = env_int("DREAMNET_TREASURY_RISK_PATHS", 50_000, minimum=1_000, maximum=10_000_000)
TREASURY_RISK_BACKEND = env_str("DREAMNET_TREASURY_RISK_BACKEND", "taichi", choices=("taichi", "numpy"))
TREASURY_RISK_BUCKET_S = env_int("DREAMNET_TREASURY_RISK_BUCKET_S", 3600, minimum=60)
TREASURY_RISK_DOF = env_int("DREAMNET_TREASURY_RISK_DOF", 0, minimum=0, maximum=100)  # 0: normal; >2: Student-t
if 0 < TREASURY_RISK_DOF <= 2:
    raise ImproperlyConfigured(
        "DREAMNET_TREASURY_RISK_DOF is 0 (normal shocks) or above 2 (Student-t with a variance)."
    )
ALCHEMY_API_KEY = env_secret("ALCHEMY_API_KEY")
ALCHEMY_URL = env_str("ALCHEMY_URL", "https://{network}.g.alchemy.com/v2")
HELIUS_API_KEY = env_secret("HELIUS_API_KEY")
HELIUS_URL = env_str("HELIUS_URL", "https://mainnet.helius-rpc.com")
VECHAIN_URL = env_str("VECHAIN_URL", "https://mainnet.vechain.org")
COINGECKO_API_KEY = env_secret("COINGECKO_API_KEY")
COINGECKO_URL = env_str("COINGECKO_URL", "https://api.coingecko.com")

# Stripe (card and ACH through Checkout; off without a secret key)
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE_S = env_int("STRIPE_WEBHOOK_TOLERANCE_S", 300, minimum=1)

# Lemon Squeezy (merchant of record for buyers outside the US; off without an API key)
LEMONSQUEEZY_API_KEY = env_secret("LEMONSQUEEZY_API_KEY")
LEMONSQUEEZY_STORE_ID = env_str("LEMONSQUEEZY_STORE_ID", "")
LEMONSQUEEZY_WEBHOOK_SECRET = env_secret("LEMONSQUEEZY_WEBHOOK_SECRET")
LEMONSQUEEZY_API_BASE = env_str("LEMONSQUEEZY_API_BASE", "https://api.lemonsqueezy.com").rstrip("/")
# The variant order checkouts are sold under (its price is replaced by each order's custom price).
LEMONSQUEEZY_ORDER_VARIANT_ID = env_str("LEMONSQUEEZY_ORDER_VARIANT_ID", "")
# Lemon Squeezy signs the body only (no timestamp); events whose own time is older than this are refused.
LEMONSQUEEZY_WEBHOOK_TOLERANCE_S = env_int("LEMONSQUEEZY_WEBHOOK_TOLERANCE_S", 3 * 24 * 3600, minimum=60)
LEMONSQUEEZY_TIMEOUT_S = env_int("LEMONSQUEEZY_TIMEOUT_S", 10, minimum=1, maximum=120)
LEMONSQUEEZY_SURCHARGE_PERCENT = env_str("DREAMNET_LEMONSQUEEZY_SURCHARGE_PERCENT", "5")
# A form post answered by a redirect to a hosted checkout is a navigation that form-action governs: the pages
# whose forms lead to a provider (quote, order, plans) allow its checkout and billing pages (and a Lemon Squeezy
# stand-in's origin when the API base points at one); every other page keeps form-action 'self'.
_ls_origin = "{0.scheme}://{0.netloc}".format(urlsplit(LEMONSQUEEZY_API_BASE))
CHECKOUT_CSP = SECURE_CSP | {
    "form-action": [
        CSP.SELF,
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
        "https://*.lemonsqueezy.com",
        *([_ls_origin] if not _ls_origin.endswith(".lemonsqueezy.com") else []),
    ]
}
# Which payment methods a company sees, by its country: "US:card,ach,wire;EU:lemonsqueezy,wire;*:wire".
# "EU" stands for the member states; "*" for every other country. The first online method is the suggestion.
PAYMENT_RULES = env_str("DREAMNET_PAYMENT_RULES", "US:card,ach,wire;EU:lemonsqueezy,wire;*:lemonsqueezy,card,wire")


# Agents
def _env_usd(name: str, default: str) -> Decimal:
    raw = env_str(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an amount in US dollars (e.g. 50 or 12.50).") from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a non-negative amount in US dollars.")
    return value


LLM_PROVIDER = env_str("DREAMNET_LLM_PROVIDER", "auto", choices=("auto", "offline", "openai"))
OPENAI_API_KEY = env_secret("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "")
LLM_MODEL = env_str("DREAMNET_LLM_MODEL", "gpt-4.1-mini")
LLM_TIMEOUT_S = env_int("DREAMNET_LLM_TIMEOUT_S", 60, minimum=1, maximum=600)
LLM_MAX_RETRIES = env_int("DREAMNET_LLM_MAX_RETRIES", 2, minimum=0, maximum=10)
LLM_BUDGET_USD = _env_usd("DREAMNET_LLM_BUDGET_USD", "50")  # the monthly cap a new month starts with
LLM_SOFT_LIMIT_PCT = env_int("DREAMNET_LLM_SOFT_LIMIT_PCT", 80, minimum=1, maximum=100)
MISSION_APPROVAL_USD = _env_usd("DREAMNET_MISSION_APPROVAL_USD", "1.00")  # forecasts above this wait for approval
MISSION_MAX_INPUT_CHARS = env_int("DREAMNET_MISSION_MAX_INPUT_CHARS", 20_000, minimum=100)
MISSION_TIMEOUT_S = env_int("DREAMNET_MISSION_TIMEOUT_S", Q_TIMEOUT_S - 30, minimum=5)
# A running mission's lease: another worker may resume it only after the lease lapses (the worker died).
MISSION_LEASE_S = env_int("DREAMNET_MISSION_LEASE_S", LLM_TIMEOUT_S * (LLM_MAX_RETRIES + 1) + 60, minimum=5)
# Request folder (docs/requests.md): files dropped here become missions; a file is taken once it has not changed
# for REQUESTS_SETTLE_S seconds (writers still writing are left alone), and larger files fail.
REQUESTS_DIR = Path(env_str("DREAMNET_REQUESTS_DIR", str(DREAMNET_HOME / "requests"))).resolve()
REQUESTS_SETTLE_S = env_int("DREAMNET_REQUESTS_SETTLE_S", 2, minimum=0, maximum=3600)
REQUESTS_MAX_BYTES = env_int("DREAMNET_REQUESTS_MAX_BYTES", 256 * 1024, minimum=1024, maximum=16 * 1024 * 1024)
# Codegen (agents/codegen): review rounds after a failed gate, and the sandbox that runs ruff and the tests.
CODEGEN_REVIEW_ROUNDS = env_int("DREAMNET_CODEGEN_REVIEW_ROUNDS", 2, minimum=0, maximum=5)
CODEGEN_SANDBOX_TIMEOUT_S = env_int("DREAMNET_CODEGEN_SANDBOX_TIMEOUT_S", 300, minimum=5, maximum=3600)
CODEGEN_SANDBOX_MEMORY_MB = env_int("DREAMNET_CODEGEN_SANDBOX_MEMORY_MB", 2048, minimum=256)
# DreamStar: document ingestion and cited generation
DREAMSTAR_MAX_UPLOAD_BYTES = env_int("DREAMNET_DREAMSTAR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
DREAMSTAR_ALLOW_FETCH = env_bool("DREAMNET_DREAMSTAR_ALLOW_FETCH", False)  # URL ingestion reaches the network
DREAMSTAR_FETCH_TIMEOUT_S = env_int("DREAMNET_DREAMSTAR_FETCH_TIMEOUT_S", 10, minimum=1, maximum=120)
DREAMSTAR_CHUNK_CHARS = env_int("DREAMNET_DREAMSTAR_CHUNK_CHARS", 1200, minimum=200, maximum=20_000)
DREAMSTAR_CHUNK_OVERLAP = env_int("DREAMNET_DREAMSTAR_CHUNK_OVERLAP", 200, minimum=0, maximum=5_000)
DREAMSTAR_TOP_K = env_int("DREAMNET_DREAMSTAR_TOP_K", 6, minimum=1, maximum=20)
# An embedding model (on the OPENAI_BASE_URL server) turns on vectors and hybrid ranking; empty: full-text only.
DREAMSTAR_EMBEDDING_MODEL = env_str("DREAMNET_DREAMSTAR_EMBEDDING_MODEL", "")
if DREAMSTAR_CHUNK_OVERLAP >= DREAMSTAR_CHUNK_CHARS:
    raise ImproperlyConfigured("DREAMNET_DREAMSTAR_CHUNK_OVERLAP must be below DREAMNET_DREAMSTAR_CHUNK_CHARS.")
# Media missions (docs/media.md): image, video, speech and transcode. The provider follows DREAMNET_LLM_PROVIDER
# (openai with OPENAI_API_KEY, else offline: the Taichi renderer, PyAV and espeak-ng, labelled as offline).
MEDIA_IMAGE_MODEL = env_str("DREAMNET_MEDIA_IMAGE_MODEL", "gpt-image-1")
MEDIA_VIDEO_MODEL = env_str("DREAMNET_MEDIA_VIDEO_MODEL", "sora-2")
MEDIA_SPEECH_MODEL = env_str("DREAMNET_MEDIA_SPEECH_MODEL", "gpt-4o-mini-tts")
MEDIA_TIMEOUT_S = env_int("DREAMNET_MEDIA_TIMEOUT_S", 120, minimum=1, maximum=600)  # one provider request
MEDIA_VIDEO_POLL_S = env_int("DREAMNET_MEDIA_VIDEO_POLL_S", 5, minimum=0, maximum=60)
MEDIA_VIDEO_MAX_WAIT_S = env_int("DREAMNET_MEDIA_VIDEO_MAX_WAIT_S", 900, minimum=1, maximum=3600)
MEDIA_OFFLINE_FPS = env_int("DREAMNET_MEDIA_OFFLINE_FPS", 8, minimum=1, maximum=30)
# Livepeer Studio transcodes when its key is set; otherwise PyAV encodes the same renditions locally.
LIVEPEER_API_KEY = env_secret("LIVEPEER_API_KEY")
LIVEPEER_API_URL = env_str("LIVEPEER_API_URL", "https://livepeer.studio/api")
# Agent foundry: nightly evolution is off while FOUNDRY_NIGHTLY_HYBRIDS is 0.
FOUNDRY_NIGHTLY_HYBRIDS = env_int("DREAMNET_FOUNDRY_NIGHTLY_HYBRIDS", 0, minimum=0, maximum=20)
FOUNDRY_BUDGET_SHARE_PCT = env_int("DREAMNET_FOUNDRY_BUDGET_SHARE_PCT", 10, minimum=1, maximum=100)
FOUNDRY_EVALUATION_SET = env_str("DREAMNET_FOUNDRY_EVALUATION_SET", "foundry-basics")
# Set to have a real model rewrite each bred child's prompt sections (a budgeted `mutate` mission).
FOUNDRY_MUTATION_PROMPT = env_str("DREAMNET_FOUNDRY_MUTATION_PROMPT", "")

# Compute (Taichi; the runtime reads DREAMNET_COMPUTE_ARCH and DREAMNET_COMPUTE_THREADS itself)
# The seven bundled TSPLIB instances (compute/data) are always offered; DREAMNET_TSPLIB_DIR names an optional
# extra folder whose *.tsp files are offered beside them.
TSPLIB_DIR = Path(_tsplib_dir).resolve() if (_tsplib_dir := env_str("DREAMNET_TSPLIB_DIR", "")) else None
if TSPLIB_DIR is not None and not TSPLIB_DIR.is_dir():
    raise ImproperlyConfigured(
        f"DREAMNET_TSPLIB_DIR={_tsplib_dir} is not a folder; leave it unset to offer only the bundled instances."
    )
COMPUTE_MAX_SECONDS = env_int("DREAMNET_COMPUTE_MAX_SECONDS", 300, minimum=1)
COMPUTE_MAX_CITIES = env_int("DREAMNET_COMPUTE_MAX_CITIES", 5000, minimum=3)
# A running job's lease: past it, the job's worker is gone (Django-Q2 kills a task at Q_TIMEOUT_S) and the
# recovery schedule queues the job again.
COMPUTE_JOB_LEASE_S = env_int("DREAMNET_COMPUTE_JOB_LEASE_S", Q_TIMEOUT_S + 60, minimum=5)

# Site: contact and waitlist e-mail. Development prints mail to the console; production sends it over SMTP,
# to the local MTA (localhost:25) unless DREAMNET_EMAIL_HOST names another server.
DREAMNET_CONTACT_EMAIL = env_str("DREAMNET_CONTACT_EMAIL", "operators@localhost")
DEFAULT_FROM_EMAIL = env_str("DREAMNET_FROM_EMAIL", "DreamNet <noreply@localhost>")
_email_host = env_str("DREAMNET_EMAIL_HOST", "localhost" if PRODUCTION else "")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("DREAMNET_EMAIL_PORT", 25, minimum=1, maximum=65535),
                "username": env_str("DREAMNET_EMAIL_USER", ""),
                "password": env_secret("DREAMNET_EMAIL_PASSWORD") or "",
                "use_tls": env_bool("DREAMNET_EMAIL_TLS", False),
            },
        }
        if _email_host
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}

# Operator bootstrap
DREAMNET_ADMIN_USERNAME = env_str("DREAMNET_ADMIN_USERNAME", "operator")
DREAMNET_ADMIN_PASSWORD = env_secret("DREAMNET_ADMIN_PASSWORD")

# Django's own variable names must not be set behind DreamNet's back.
if os.environ.get("DJANGO_DEBUG"):
    raise ImproperlyConfigured("DJANGO_DEBUG is not read; set DREAMNET_DEBUG instead.")
