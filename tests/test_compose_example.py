"""The docker-compose example (docs/scaling.md): Redis, two fakeapollo replicas on it, and a load balancer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT

from mock_server.config import Config
from mock_server.stores.redis_client import is_redis_url

COMPOSE = ROOT / "examples" / "compose"


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    return document


def test_two_replicas_share_the_redis_service_under_one_prefix() -> None:
    services = load()["services"]
    replicas = [name for name in services if name.startswith("fakeapollo")]
    assert len(replicas) == 2
    configs = [Config.from_env({k: str(v) for k, v in services[r]["environment"].items()}) for r in replicas]
    assert configs[0] == configs[1]
    assert configs[0].store is not None and is_redis_url(configs[0].store)
    assert configs[0].store.startswith("redis://redis:")  # the compose service of that name
    assert "redis" in services
    assert configs[0].host == "0.0.0.0" and configs[0].admin_token


def test_the_load_balancer_spreads_over_both_replicas() -> None:
    services = load()["services"]
    balancer = services["loadbalancer"]
    assert set(balancer["depends_on"]) == {"fakeapollo-1", "fakeapollo-2"}
    mounted = [volume.split(":")[0] for volume in balancer["volumes"]]
    config = (COMPOSE / Path(mounted[0]).name).read_text()
    upstream = re.search(r"upstream fakeapollo \{(.*?)\}", config, re.S)
    assert upstream is not None
    assert re.findall(r"server (\S+);", upstream.group(1)) == ["fakeapollo-1:8765", "fakeapollo-2:8765"]


def test_the_image_is_built_from_this_checkout() -> None:
    build = load()["services"]["fakeapollo-1"]["build"]
    assert (COMPOSE / build["context"] / build["dockerfile"]).resolve() == (COMPOSE / "Dockerfile").resolve()
    assert "fakeapollo" in (COMPOSE / "Dockerfile").read_text()
