"""config.env parses strictly; production settings are secure and pass check --deploy."""

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import REGISTRY, Env, database_from_url
from tests.processes import ROOT


@pytest.fixture(autouse=True)
def _throw_away_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The made-up variables of these tests stay out of the documented registry (tests/core/test_readme.py)."""
    monkeypatch.setattr("config.env.REGISTRY", dict(REGISTRY))


def test_typed_values_and_file_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    env = Env({"FLAG": "yes", "N": "42", "HOSTS": "a, b,,c", "TOKEN_FILE": str(secret)})
    assert env.boolean("FLAG", description="d") is True
    assert env.integer("N", description="d") == 42
    assert env.strings("HOSTS", description="d") == ["a", "b", "c"]
    assert env.string("TOKEN", description="d", secret=True) == "from-a-file"
    assert env.string("MISSING", "dflt", description="d") == "dflt"


@pytest.mark.parametrize(
    ("source", "call"),
    [
        ({"FLAG": "maybe"}, lambda e: e.boolean("FLAG", description="d")),
        ({"N": "4x"}, lambda e: e.integer("N", description="d")),
        ({}, lambda e: e.string("REQUIRED", description="d", required=True)),
        ({"MODE": "staging"}, lambda e: e.choice("MODE", ("a", "b"), "a", description="d")),
        ({"URL": "ftp://x"}, lambda e: e.url("URL", description="d", schemes=("redis",))),
        ({"S_FILE": "/nonexistent/secret"}, lambda e: e.string("S", description="d", secret=True)),
    ],
)
def test_malformed_or_missing_values_fail_loudly(source, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImproperlyConfigured):
        call(Env(source))


def test_database_url_must_be_postgres() -> None:
    assert database_from_url("postgres://u:p@db:5433/ledger")["NAME"] == "ledger"
    with pytest.raises(ImproperlyConfigured):
        database_from_url("sqlite:///tmp/x.db")


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "p" * 30 + "roduction-secret-key-for-the-check-only",
        "ALLOWED_HOSTS": "gateway.bank.sn",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/addon_partner",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_LOG_KEY": "a" * 32 + "udit-log-key-for-the-check-only",
        "DEBUG": "true",  # ignored in production
        "SANDBOX_ENABLED": "true",  # forced off in production
    }
    env.update(overrides)
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = run_manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_forces_debug_and_sandbox_off() -> None:
    code = "from django.conf import settings as s; print(s.DEBUG, s.SANDBOX_ENABLED, s.SESSION_COOKIE_SECURE)"
    result = run_manage(production_env(), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["False", "False", "True"]


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "AUDIT_LOG_KEY"]
)
def test_production_refuses_to_start_without_required_values(missing: str) -> None:
    env = production_env()
    del env[missing]
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert missing in result.stderr and "ImproperlyConfigured" in result.stderr
