"""Start-up configuration: secrets, Redis fallback, proxies, trusted hosts."""
import logging
import os
import stat

import pytest

from polls.factory import create_app


def base_config(tmp_path, **extra):
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.db'}", **extra}


def test_production_without_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(base_config(tmp_path, PRODUCTION=True, SECRET_KEY=None))


def test_development_keeps_one_private_generated_key(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    first = create_app(base_config(tmp_path, SECRET_KEY=None))
    second = create_app(base_config(tmp_path, SECRET_KEY=None))
    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_without_redis_limits_fall_back_to_memory_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="polls"):
        app = create_app(base_config(tmp_path, SECRET_KEY="x", REDIS_URL=None))
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "REDIS_URL is not set" in caplog.text
    assert app.test_client().get("/healthz").get_json()["redis"] == "not configured"


@pytest.mark.parametrize("hops, expected", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_forwarded_for_is_trusted_only_with_proxy_hops(tmp_path, hops, expected):
    app = create_app(base_config(tmp_path, SECRET_KEY="x", TRUSTED_PROXY_HOPS=hops))

    @app.get("/_addr")
    def addr():
        from flask import request
        return request.remote_addr

    response = app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == expected


def test_trusted_hosts_refuse_other_host_headers(tmp_path):
    app = create_app(base_config(tmp_path, SECRET_KEY="x", TRUSTED_HOSTS=["kisspoll.example"]))
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "kisspoll.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
