"""gridgis settings: one module, driven by environment variables, failing loudly on bad values.

Environment:
  DATABASE_URL          postgis://user:pass@host:port/name (default: the project-local cluster)
  GRIDGIS_PG_PORT       port of the project-local cluster (default 54329)
  GRIDGIS_DEBUG         1 for local development (the default), 0 in production
  GRIDGIS_SECRET_KEY    required when GRIDGIS_DEBUG=0
  GRIDGIS_ALLOWED_HOSTS comma-separated host names (required when GRIDGIS_DEBUG=0)
  GRIDGIS_BASEMAP       none | osm | tianditu (default none: works with no tile server)
  GRIDGIS_TIANDITU_KEY  the `tk` key for Tianditu WMTS
"""

import math
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise ImproperlyConfigured(f"{name} must be a finite number ≥ 0, not {raw!r}")
    return value


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, "") or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, not {value!r}")
    return value


def local_secret_key(path: Path) -> str:
    """For local development only: a random key made once and kept in the git-ignored var/ folder."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("GRIDGIS_DEBUG", True)

SECRET_KEY = os.environ.get("GRIDGIS_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("GRIDGIS_SECRET_KEY must be set when GRIDGIS_DEBUG=0")
    SECRET_KEY = local_secret_key(BASE_DIR / "var" / "secret_key")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("GRIDGIS_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("GRIDGIS_ALLOWED_HOSTS must be set when GRIDGIS_DEBUG=0")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "gridgis.territory",
    "gridgis.workforce",
    "gridgis.geocoding",
    "gridgis.cases",
    "gridgis.intake",
    "gridgis.live",
    "gridgis.stats",
    "map_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gridgis.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

ASGI_APPLICATION = "gridgis.asgi.application"

_local_cluster = f"postgis://gridgis@127.0.0.1:{env_int('GRIDGIS_PG_PORT', 54329)}/gridgis"
_db_url = os.environ.get("DATABASE_URL", "") or _local_cluster
if not _db_url.startswith(("postgis://", "postgres://", "postgresql://")):
    raise ImproperlyConfigured(f"DATABASE_URL must be a PostGIS URL (postgis://...), not {_db_url!r}")
# Persistent connections: under uvicorn each request's sync code runs on one of ASGI_SYNC_THREADS long-lived
# threads per process (gridgis.asgi_threads), each keeping its connection, so a request does not pay for a new
# PostgreSQL backend loading PostGIS again (~30 ms). Health checks replace a connection the server dropped.
# Django's threaded test server closes its connections after each request, whatever this says.
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=env_int("GRIDGIS_DB_CONN_MAX_AGE", 300),
                                              conn_health_checks=True)}
ASGI_SYNC_THREADS = env_int("GRIDGIS_ASGI_SYNC_THREADS", 8)
# Django's cursors bind client-side and never prepare; this only lets the few hot statements that ask for it
# (cases.assignment.fetchone_prepared) be prepared once per connection.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 1_000_000
# Whatever the scheme says, gridgis needs the PostGIS backend.
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# Parallel test runs (several checkouts, helpers) each need their own test database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GRIDGIS_TEST_DB", "test_gridgis")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Front-end libraries straight from node_modules (installed by npm from the lock file): no CDN, no copies.
STATICFILES_DIRS = [
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
    ("vendor/ol", BASE_DIR / "node_modules" / "ol"),
    ("vendor/leaflet-geoman", BASE_DIR / "node_modules" / "@geoman-io" / "leaflet-geoman-free" / "dist"),
]
WHITENOISE_USE_FINDERS = True

# Photos of cases (re-encoded without EXIF); served by Django only in local development.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("GRIDGIS_MEDIA_ROOT", "") or BASE_DIR / "var" / "media")
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "map_ui:home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

GRIDGIS = {
    "BASEMAP": env_choice("GRIDGIS_BASEMAP", "none", {"none", "osm", "tianditu"}),
    "TIANDITU_KEY": os.environ.get("GRIDGIS_TIANDITU_KEY", ""),
    # Coverage problems smaller than this are noise from digitising, not real gaps/overlaps.
    "COVERAGE_TOLERANCE_M2": env_float("GRIDGIS_COVERAGE_TOLERANCE_M2", 1.0),
    # A report outside every grid goes to the nearest grid within this distance, else to the unassigned queue.
    "ASSIGN_MAX_DISTANCE_M": env_float("GRIDGIS_ASSIGN_MAX_DISTANCE_M", 50),
    # The planner's grid editor: a grid (or a piece a split makes) must reach this area and width; smaller
    # leftovers of an edit are slivers, absorbed by the neighbour sharing the longest border.
    "MIN_GRID_AREA_M2": env_float("GRIDGIS_MIN_GRID_AREA_M2", 1000),
    "MIN_GRID_WIDTH_M": env_float("GRIDGIS_MIN_GRID_WIDTH_M", 10),
    # The households a grid should hold (the planner's preview flags grids outside the range).
    "TARGET_HOUSEHOLDS": (300, 500),
    # 分级响应: a case still overdue after `overdue_hours` working hours at one tier is escalated to the tier
    # `to` (or the next one up with someone to take it) by `python manage.py sweep_deadlines`.
    "ESCALATION_RULES": [
        {"tier": "grid", "overdue_hours": 8, "to": "community"},
        {"tier": "community", "overdue_hours": 16, "to": "street"},
        {"tier": "street", "overdue_hours": 16, "to": "department"},
    ],
}

# Debian 12 ships GDAL 3.6; the warning is about spatial references from untrusted input, which gridgis
# only reads through pyproj/pyogrio (they carry their own PROJ/GDAL), never through GeoDjango's GDAL.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
