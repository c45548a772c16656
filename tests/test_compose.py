"""docker-compose.yml is checked without a Docker engine: against the Compose Specification
schema, and against the code it runs (services, Dockerfiles, ports, environment variables)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from tests.support.fixtures import require_tool

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
TOOLS = ROOT / ".tools" / "bin"
CHECK_JSONSCHEMA = TOOLS / "check-jsonschema"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
TOPICS_JOB = "topics"
TOPICS_MODULE = "lumbung.platform.topics"
KAFKA_NODES = ("kafka", "kafka-2", "kafka-3")
"""`kafka` alone by default; all three with the `cluster` profile."""
PLATFORM = {*KAFKA_NODES, "redis", TOPICS_JOB}
MONITORING = {"prometheus", "alertmanager"}
"""Only with the `monitoring` profile (tests/test_monitoring.py checks their files)."""
SETUP_JOB, DEMO_JOB, RECEIVER = "setup", "demo", "receiver"
"""The first ops key; with the `demo` profile the demo catalog and the demo receiver."""
CLUSTER_ENV = ROOT / "compose" / "cluster.env"
DEMO_ENV = ROOT / "compose" / "demo.env"
SETUP_SCRIPT = ROOT / "compose" / "setup.sh"
RECEIVER_DOCKERFILE = ROOT / "compose" / "receiver" / "Dockerfile"
SECURE = ROOT / "compose" / "secure.yml"
KAFKA_SECURE = ROOT / "compose" / "kafka-secure.sh"
WORKERS = sorted(
    name
    for name in SERVICES
    if (ROOT / "services" / name / "src" / "lumbung" / name / "entrypoints" / "worker.py").exists()
)
"""Services with a stream worker, which compose runs as `<service>-worker`."""

_YAML_AS_JSON = (
    "import json, sys\n"
    "from ruamel.yaml import YAML\n"
    "print(json.dumps(YAML(typ='safe').load(open(sys.argv[1]))))\n"
)


def load_yaml(path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        require_tool(TOOLS / "python")
        out = subprocess.run(
            [TOOLS / "python", "-c", _YAML_AS_JSON, path],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out)
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    assert name in compose["services"], f"docker-compose.yml has no `{name}` service"
    return compose["services"][name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def published_ports(svc: dict[str, Any]) -> list[tuple[int, int]]:
    pairs = []
    for entry in svc.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        pairs.append((int(host.rpartition(":")[2]), int(container.split("/")[0])))
    return pairs


def dockerfile(name: str) -> Path:
    return ROOT / "services" / name / "Dockerfile"


def dockerfile_instructions(path: Path, instruction: str) -> list[str]:
    pattern = re.compile(rf"^\s*{instruction}\s+(.+)$", re.IGNORECASE | re.MULTILINE)
    return pattern.findall(path.read_text())


def exposed_ports(path: Path) -> set[int]:
    return {
        int(token.split("/")[0])
        for line in dockerfile_instructions(path, "EXPOSE")
        for token in line.split()
    }


def env_names_set_by(path: Path) -> set[str]:
    names: set[str] = set()
    for line in dockerfile_instructions(path, "ENV"):
        names |= set(re.findall(r"(\w+)=", line)) if "=" in line else {line.split()[0]}
    return names


def settings_class(name: str) -> type[BaseSettings]:
    return importlib.import_module(f"lumbung.{name}.settings").Settings


def default_http_port(name: str) -> int:
    return settings_class(name).model_fields["http_port"].default


def env_names_read_by(settings: type[BaseSettings]) -> set[str]:
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names |= {choice for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}")
    if settings.model_config.get("case_sensitive", False):
        return names
    return {name.upper() for name in names}


def unread_by(settings: type[BaseSettings], variables: set[str]) -> list[str]:
    accepted = env_names_read_by(settings)
    if settings.model_config.get("case_sensitive", False):
        return sorted(variables - accepted)
    return sorted(name for name in variables if name.upper() not in accepted)


def env_names_read_by_topics_job() -> set[str]:
    source = inspect.getsource(importlib.import_module(TOPICS_MODULE))
    return set(re.findall(r"os\.environ(?:\.get\(|\[)\s*[\"'](\w+)[\"']", source))


def stack_kafka_version() -> str:
    tree = ast.parse((ROOT / "stack" / "stack.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "KAFKA_VERSION" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return str(node.value.value)
    raise AssertionError("stack/stack.py defines no KAFKA_VERSION")


def laid_over(base: Any, overlay: Any) -> Any:
    """`docker compose -f base -f overlay`: mappings merge, `volumes` and `ports` add up,
    every other value of the overlay replaces the base's."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            if key in ("volumes", "ports") and isinstance(value, list):
                out[key] = [*base.get(key, []), *value]
            else:
                out[key] = laid_over(base[key], value) if key in base else value
        return out
    return overlay


@pytest.fixture(scope="module")
def secure(compose: dict[str, Any]) -> dict[str, Any]:
    return laid_over(compose, load_yaml(SECURE))


def check_compose_schema(path: Path) -> None:
    require_tool(CHECK_JSONSCHEMA)
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    check_compose_schema(COMPOSE)


def test_the_secure_file_laid_over_the_main_one_is_valid(
    secure: dict[str, Any], tmp_path: Path
) -> None:
    check_compose_schema(SECURE)
    merged = tmp_path / "secure-merged.json"
    merged.write_text(json.dumps(secure))
    check_compose_schema(merged)


def test_every_service_directory_has_a_dockerfile() -> None:
    assert SERVICES, "no service directories found under services/"
    missing = [name for name in SERVICES if not dockerfile(name).is_file()]
    assert not missing, f"services without a Dockerfile: {missing}"


def test_compose_runs_the_platform_and_exactly_the_services_in_the_repository(
    compose: dict[str, Any],
) -> None:
    workers = {f"{name}-worker" for name in WORKERS}
    demo = {SETUP_JOB, DEMO_JOB, RECEIVER}
    assert set(compose["services"]) == PLATFORM | set(SERVICES) | workers | MONITORING | demo


@pytest.mark.parametrize("name", WORKERS)
def test_every_stream_worker_runs_from_its_service_image_with_variables_it_reads(
    compose: dict[str, Any], name: str
) -> None:
    worker = service(compose, f"{name}-worker")
    assert worker["build"] == service(compose, name)["build"]
    assert worker["command"] == [f"lumbung-{name}", "worker"]
    assert worker["depends_on"] == service(compose, name)["depends_on"]
    assert "ports" not in worker
    unread = unread_by(settings_class(name), set(environment(worker)))
    assert not unread, f"{name}-worker does not read {unread}"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_built_from_its_own_dockerfile_and_runs_its_api(
    compose: dict[str, Any], name: str
) -> None:
    build = service(compose, name)["build"]
    assert build["context"] == "."
    assert ROOT / build["dockerfile"] == dockerfile(name)
    assert service(compose, name)["command"] == [f"lumbung-{name}", "api"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_port_matches_its_settings_and_dockerfile(
    compose: dict[str, Any], name: str
) -> None:
    port = default_http_port(name)
    svc = service(compose, name)
    assert published_ports(svc) == [(port, port)]
    assert environment(svc)[f"LUMBUNG_{name.upper()}_HTTP_PORT"] == str(port)
    assert environment(svc)[f"LUMBUNG_{name.upper()}_HTTP_HOST"] == "0.0.0.0"
    assert port in exposed_ports(dockerfile(name))
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(svc["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_compose_and_the_dockerfile_set_is_read_by_the_service(
    compose: dict[str, Any], name: str
) -> None:
    settings = settings_class(name)
    variables = set(environment(service(compose, name))) | env_names_set_by(dockerfile(name))
    unread = unread_by(settings, variables)
    assert not unread, (
        f"{name} does not read {unread}; its Settings reads {sorted(env_names_read_by(settings))}"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_waits_for_kafka_redis_and_the_topics(
    compose: dict[str, Any], name: str
) -> None:
    assert service(compose, name)["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        TOPICS_JOB: {"condition": "service_completed_successfully"},
    }


def test_topics_job_runs_the_topic_module_with_variables_it_reads(
    compose: dict[str, Any],
) -> None:
    job = service(compose, TOPICS_JOB)
    assert job["command"] == ["python", "-m", TOPICS_MODULE]
    assert job["restart"] == "no"
    assert job["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    unread = sorted(set(environment(job)) - env_names_read_by_topics_job())
    assert not unread, f"{TOPICS_MODULE} does not read {unread}"


def test_kafka_image_has_the_major_version_of_the_local_stack(compose: dict[str, Any]) -> None:
    image = service(compose, "kafka")["image"]
    repository, _, tag = image.partition(":")
    assert repository == "apache/kafka"
    assert tag.split(".")[0] == stack_kafka_version().split(".")[0], (
        f"compose runs {image}, the local stack Kafka {stack_kafka_version()}"
    )


def test_the_cluster_profile_adds_two_kafka_nodes_like_the_first(compose: dict[str, Any]) -> None:
    first = environment(service(compose, "kafka"))
    for number, name in enumerate(KAFKA_NODES[1:], start=2):
        node = service(compose, name)
        assert node["profiles"] == ["cluster"]
        assert node["image"] == service(compose, "kafka")["image"]
        env = environment(node)
        assert env["KAFKA_NODE_ID"] == str(number)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        shared = {k for k in first if k not in env or env[k] != first[k]}
        assert shared <= {
            "KAFKA_NODE_ID",
            "KAFKA_LISTENERS",
            "KAFKA_ADVERTISED_LISTENERS",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        }, f"{name} differs from kafka in {sorted(shared)}"
    assert "kafka-2" not in str(service(compose, "kafka").get("profiles", []))


def env_file(path: Path) -> dict[str, str]:
    values = dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line and not line.startswith("#")
    )
    text = COMPOSE.read_text()
    unused = [name for name in values if f"${{{name}:-" not in text]
    assert not unused, f"{path.name} sets {unused}, which docker-compose.yml never reads"
    return values


def test_the_cluster_env_file_names_every_node_and_sets_only_variables_compose_uses() -> None:
    values = env_file(CLUSTER_ENV)
    assert values["KAFKA_VOTERS"] == ",".join(
        f"{n}@{name}:9093" for n, name in enumerate(KAFKA_NODES, start=1)
    )
    assert values["CLUSTER_BOOTSTRAP_SERVERS"] == ",".join(f"{name}:9092" for name in KAFKA_NODES)
    assert (values["REPLICATION_FACTOR"], values["MIN_INSYNC_REPLICAS"]) == ("3", "2")


def test_the_setup_job_issues_the_first_ops_key_into_its_volume_with_the_catalog_image(
    compose: dict[str, Any],
) -> None:
    job = service(compose, SETUP_JOB)
    assert job["build"] == service(compose, "catalog")["build"]
    assert job["command"] == ["/bin/sh", "/lumbung/setup.sh", "key"]
    assert job["restart"] == "no"
    assert job["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        TOPICS_JOB: {"condition": "service_completed_successfully"},
    }
    unread = unread_by(settings_class("catalog"), set(environment(job)))
    assert not unread, f"`lumbung-catalog keys issue` does not read {unread}"
    script = SETUP_SCRIPT.read_text()
    assert "lumbung-catalog keys issue --role ops" in script
    # The key lives in the volume, mounted on the image user's home (a named volume takes
    # the owner of the directory it is mounted on, so the job, not root, may write there).
    home = re.search(r"--home-dir (\S+)", dockerfile("catalog").read_text())
    assert home is not None
    assert f"KEY_FILE={home[1]}/" in script
    assert job["volumes"] == [
        f"./{SETUP_SCRIPT.relative_to(ROOT)}:/lumbung/setup.sh:ro",
        f"{SETUP_JOB}:{home[1]}",
    ]
    assert SETUP_JOB in compose["volumes"]


def test_the_demo_profile_loads_the_demo_with_the_setup_key_and_runs_the_receiver(
    compose: dict[str, Any],
) -> None:
    job = service(compose, DEMO_JOB)
    assert job["profiles"] == ["demo"]
    assert job["build"] == service(compose, "catalog")["build"]
    assert job["command"] == ["/bin/sh", "/lumbung/setup.sh", "demo"]
    assert job["restart"] == "no"
    assert job["depends_on"] == {"catalog": {"condition": "service_healthy"}}
    assert job["volumes"] == [
        *service(compose, SETUP_JOB)["volumes"][:1],
        service(compose, SETUP_JOB)["volumes"][1] + ":ro",
    ]
    catalog_url = f"http://catalog:{default_http_port('catalog')}"
    assert environment(job) == {"LUMBUNG_CATALOG_URL": catalog_url}
    cli = (ROOT / "services/catalog/src/lumbung/catalog/__main__.py").read_text()
    assert '"LUMBUNG_CATALOG_URL"' in cli
    assert "lumbung-catalog demo --if-empty" in SETUP_SCRIPT.read_text()

    receiver = service(compose, RECEIVER)
    assert receiver["profiles"] == ["demo"]
    assert ROOT / receiver["build"]["dockerfile"] == RECEIVER_DOCKERFILE
    assert "COPY stack/receiver.py" in RECEIVER_DOCKERFILE.read_text()
    assert receiver["restart"] == "unless-stopped"


def test_the_demo_env_file_points_every_channel_of_the_worker_at_the_receiver(
    compose: dict[str, Any],
) -> None:
    values = env_file(DEMO_ENV)
    (command,) = dockerfile_instructions(RECEIVER_DOCKERFILE, "CMD")
    args = json.loads(command)
    http, smtp = args[args.index("--http-port") + 1], args[args.index("--smtp-port") + 1]
    assert values["WHATSAPP_GATEWAY_URL"] == f"http://{RECEIVER}:{http}/wa"
    assert values["OPS_WEBHOOK_URL"] == f"http://{RECEIVER}:{http}/ops"
    assert (values["SMTP_HOST"], values["SMTP_PORT"]) == (RECEIVER, smtp)
    assert {int(http), int(smtp)} == exposed_ports(RECEIVER_DOCKERFILE)
    assert f"'127.0.0.1', {http}" in " ".join(service(compose, RECEIVER)["healthcheck"]["test"])
    worker = environment(service(compose, "notifications-worker"))
    read = {re.search(r"\$\{(\w+):-", value)[1] for value in worker.values() if "${" in value}
    assert set(values) <= read, "the notifications worker does not read every demo variable"


@pytest.mark.parametrize("path", [*(dockerfile(name) for name in SERVICES), RECEIVER_DOCKERFILE])
def test_every_image_runs_as_a_user_that_is_not_root(path: Path) -> None:
    users = dockerfile_instructions(path, "USER")
    assert users, f"{path.relative_to(ROOT)} runs as root"
    assert users[-1].strip() not in ("root", "0", "0:0")


def script_variables(path: Path) -> set[str]:
    """The variables a shell script reads (`${NAME` or `$NAME`)."""
    return set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", path.read_text()))


def test_in_the_secure_file_everything_that_uses_kafka_or_redis_logs_in(
    compose: dict[str, Any], secure: dict[str, Any]
) -> None:
    from lumbung.platform.broker import client_security

    kafka_login = set(
        re.findall(r"os\.environ\.get\(\"(\w+)\"", inspect.getsource(client_security))
    )
    assert kafka_login == {"LUMBUNG_KAFKA_USERNAME", "LUMBUNG_KAFKA_PASSWORD"}
    for name, svc in compose["services"].items():
        before, after = environment(svc), environment(secure["services"][name])
        if "KAFKA_BOOTSTRAP_SERVERS" in before:
            assert kafka_login <= set(after), f"{name} gets no Kafka login"
        if "REDIS_URL" in before:
            assert re.fullmatch(
                r"redis://:\$\{LUMBUNG_REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", after["REDIS_URL"]
            ), f"{name} reaches Redis without its password"
        if name in SERVICES or name.removesuffix("-worker") in WORKERS:
            assert after["LUMBUNG_ENVIRONMENT"] == "production"
            assert after["LUMBUNG_SECRET_KEY"].startswith("${LUMBUNG_SECRET_KEY:?")

    redis_node = service(secure, "redis")
    password = environment(service(secure, "inventory"))["REDIS_URL"].split("@")[0][
        len("redis://:") :
    ]
    assert redis_node["command"][-2:] == ["--requirepass", password]
    assert environment(redis_node)["REDISCLI_AUTH"] == password

    kafka = service(secure, "kafka")
    mount = f"./{KAFKA_SECURE.relative_to(ROOT)}:/lumbung/{KAFKA_SECURE.name}:ro"
    assert mount in kafka["volumes"]
    assert kafka["entrypoint"] == ["/bin/bash", f"/lumbung/{KAFKA_SECURE.name}"]
    assert "--command-config /tmp/lumbung-client.properties" in kafka["healthcheck"]["test"][1]
    assert "CLIENT_CONFIG:-/tmp/lumbung-client.properties" in KAFKA_SECURE.read_text()
    given = set(environment(kafka))
    needed = {"LUMBUNG_KAFKA_USERNAME", "LUMBUNG_KAFKA_PASSWORD", "CLUSTER_ID", "KAFKA_NODE_ID"}
    assert needed <= given & script_variables(KAFKA_SECURE)


@pytest.mark.broker
def test_the_secure_kafka_script_starts_a_node_that_refuses_clients_without_the_login(
    tmp_path: Path,
) -> None:
    """compose/kafka-secure.sh on this machine, with the stack's Kafka jars standing in for
    the image's /opt/kafka/bin: a login works on both client listeners, none or a wrong
    password is refused."""
    import os
    import secrets
    import time

    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    from tests.support.fixtures import free_port

    jars = ROOT / ".stack" / "jars" / stack_kafka_version()
    require_tool(jars)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for script, main in (
        ("kafka-storage.sh", "kafka.tools.StorageTool"),
        ("kafka-server-start.sh", "kafka.Kafka"),
    ):
        (bin_dir / script).write_text(f'#!/bin/sh\nexec java -Xmx512m -cp "{jars}/*" {main} "$@"\n')
        (bin_dir / script).chmod(0o755)
    password = secrets.token_urlsafe(16)
    client, host = free_port(), free_port()
    env = {
        "PATH": os.environ["PATH"],
        "LUMBUNG_KAFKA_USERNAME": "lumbung",
        "LUMBUNG_KAFKA_PASSWORD": password,
        "CLUSTER_ID": "UhxNcWi8QD6LKp8oNsRGIQ",
        "KAFKA_BIN": str(bin_dir),
        "KAFKA_LOG_DIRS": str(tmp_path / "data"),
        "LISTEN_HOST": "127.0.0.1",
        "CLIENT_PORT": str(client),
        "CONTROLLER_PORT": str(free_port()),
        "HOST_PORT": str(host),
        "ADVERTISED_HOST": "127.0.0.1",
        "HOST_ADVERTISED": "127.0.0.1",
        "KAFKA_CONFIG": str(tmp_path / "server.properties"),
        "CLIENT_CONFIG": str(tmp_path / "client.properties"),
    }

    def admin(port: int, **login: str) -> list[str]:
        # A client the node refuses fails only when its bootstrap gives up: 30 s by
        # default, twice, and a first try while the node started waited as long. A client
        # with the login bootstraps in a fraction of a second once the node answers.
        client = KafkaAdminClient(
            bootstrap_servers=f"127.0.0.1:{port}",
            request_timeout_ms=3000,
            bootstrap_timeout_ms=5000,
            **login,
        )
        try:
            return list(client.list_topics())
        finally:
            client.close()

    scram = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256"}
    login = {**scram, "sasl_plain_username": "lumbung", "sasl_plain_password": password}
    with open(tmp_path / "kafka.log", "wb") as log:
        node = subprocess.Popen(["bash", KAFKA_SECURE], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                admin(client, **login)
                break
            except KafkaError:
                assert node.poll() is None, (tmp_path / "kafka.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the secure node did not answer in 90 s"
                time.sleep(0.5)
        admin(host, **login)  # the second client listener takes the login too (no raise)
        with pytest.raises(KafkaError):
            admin(client)
        with pytest.raises(KafkaError):
            admin(host, **{**login, "sasl_plain_password": "wrong"})
        assert "sasl.jaas.config" in (tmp_path / "client.properties").read_text()
    finally:
        node.terminate()
        node.wait(timeout=30)


@pytest.mark.parametrize("name", [*SERVICES, *(f"{w}-worker" for w in WORKERS)])
def test_a_service_or_worker_that_dies_is_started_again(compose: dict[str, Any], name: str) -> None:
    """A worker that crashed (a broker restart once left two of them down for good) comes
    back by itself; only `docker compose stop` keeps it down."""
    assert service(compose, name)["restart"] in ("unless-stopped", "always", "on-failure")
