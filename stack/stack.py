"""The local stack: Apache Kafka (KRaft) from Maven Central's jars, and Debian's redis-server.

    python stack/stack.py up      [--name dev] [--kafka-port 9092|auto] [--redis-port 6379|auto]
                                  [--secure]      # Kafka with SASL/SCRAM, Redis with AUTH
    python stack/stack.py down    [--name dev] [--wipe]
    python stack/stack.py status  [--name dev]
    python stack/stack.py env     [--name dev]          # prints the export lines again
    python stack/stack.py kafka-stop|kafka-start|kafka-kill [--name dev] [--node N]
    python stack/stack.py kafka-freeze|kafka-thaw [--name dev] [--node N]
                                                                # for fault injection
    python stack/stack.py backup  [--name dev] --to DIR         # Kafka stops for the copy
    python stack/stack.py restore --name NEW --from DIR [--kafka-port auto] [--redis-port auto]
    python stack/stack.py topic-configs [--name dev] [--to FILE | --from FILE]

`up --brokers 3` starts a cluster of three KRaft nodes (each broker and controller) from
the same jars: topics get replication factor 3 and `min.insync.replicas` 2, and `env`
lists all three addresses and LUMBUNG_REPLICATION_FACTOR=3.

`up --secure` makes Kafka accept only SASL/SCRAM-SHA-256 logins and Redis only clients with
its password; the credentials are made up once per stack (kept in `.stack/<name>/secrets`)
and `env` prints them as LUMBUNG_KAFKA_USERNAME, LUMBUNG_KAFKA_PASSWORD and a REDIS_URL
with the password, which every service reads.

`backup` copies the Kafka log dirs with the broker stopped (a copy of a running broker's
files mixes moments), plus every topic's configs and end offsets; `restore` starts a new
stack from such a copy on its own ports and checks it. See docs/operations.md, "Backups".
`topic-configs` prints (or writes `--to`) every topic's configs, or makes a cluster's
topics what a dump says (`--from`); with KAFKA_BOOTSTRAP_SERVERS set, on that cluster.

`up` is idempotent: what runs already is left alone. When KAFKA_BOOTSTRAP_SERVERS and
REDIS_URL are both set, those servers are used and only the topics are created. Every
server listens on 127.0.0.1 only. State lives in `.stack/<name>/` (or LUMBUNG_STACK_DIR).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "stack" / "pom.xml"
KAFKA_VERSION = "4.1.1"
START_TIMEOUT_S = 120.0
BACKUP_FILES = ("cluster.id", "brokers", "secrets", "ops.key")
"""What a backup copies besides the log dirs: the cluster's id and size, a secure stack's
credentials (its SCRAM login is in the copy; the Redis password only here) and the ops key
(only its hash is on `auth.keys`). Redis is not copied: it holds read models rebuilt from
Kafka and counters that are safe to lose."""
CLEAN_SHUTDOWN = ".kafka_cleanshutdown"
"""The file Kafka writes into each log dir when it stopped cleanly (and deletes at start)."""


def say(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    say(f"error: {message}")
    raise SystemExit(1)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and not one this process handed out before: the
    system can give a port just freed out again, so two picks in a row could match (in
    CI a Kafka node's client and controller listeners once got the same port)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid_file: Path) -> int | None:
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return None if is_zombie(pid) else pid


def is_zombie(pid: int) -> bool:
    """An exited child nobody reaped yet (containers often run no init that reaps)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def stop_pid(pid_file: Path, what: str, timeout_s: float = 30.0) -> None:
    pid = pid_alive(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        reap(pid)
        time.sleep(0.2)
    else:
        say(f"{what} did not stop in {timeout_s:.0f}s; killing it")
        os.kill(pid, signal.SIGKILL)
        reap(pid)
    pid_file.unlink(missing_ok=True)
    say(f"{what} stopped (pid {pid})")


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


CLEANER_BYTES_PER_S = int(os.environ.get("LUMBUNG_CLEANER_BYTES_PER_S", 2 * 1024 * 1024))
"""The broker's log cleaner's pace (`log.cleaner.io.max.bytes.per.second`)."""


@dataclass
class Stack:
    name: str
    home: Path

    @classmethod
    def named(cls, name: str) -> Stack:
        base = Path(os.environ.get("LUMBUNG_STACK_DIR", ROOT / ".stack"))
        return cls(name, base / name)

    @property
    def jars(self) -> Path:
        return self.home.parent / "jars" / KAFKA_VERSION

    def file(self, name: str) -> Path:
        return self.home / name

    # -- credentials (secure stacks) -------------------------------------------------

    @property
    def secure(self) -> bool:
        return self.file("secrets").exists()

    def make_secure(self) -> None:
        """Make up the stack's credentials (once) and use them in this process too."""
        import json
        import secrets

        if not self.secure:
            self.home.mkdir(parents=True, exist_ok=True)
            self.file("secrets").write_text(
                json.dumps(
                    {
                        "kafka_username": "lumbung",
                        "kafka_password": secrets.token_urlsafe(24),
                        "redis_password": secrets.token_urlsafe(24),
                    }
                )
            )
            self.file("secrets").chmod(0o600)
        os.environ.update(self.kafka_login())

    def credentials(self) -> dict[str, str]:
        import json

        return dict(json.loads(self.file("secrets").read_text())) if self.secure else {}

    def kafka_login(self) -> dict[str, str]:
        """The variables every Kafka client of the system reads (lumbung.platform.broker)."""
        found = self.credentials()
        if not found:
            return {}
        return {
            "LUMBUNG_KAFKA_USERNAME": found["kafka_username"],
            "LUMBUNG_KAFKA_PASSWORD": found["kafka_password"],
        }

    def remembered_port(self, what: str) -> int | None:
        path = self.file(f"{what}.port")
        return int(path.read_text()) if path.exists() else None

    def choose_port(self, what: str, wanted: str) -> int:
        known = self.remembered_port(what)
        if known is not None:
            return known
        port = free_port() if wanted == "auto" else int(wanted)
        self.file(f"{what}.port").write_text(str(port))
        return port

    # -- Kafka -----------------------------------------------------------------------

    def fetch_jars(self) -> None:
        marker = self.jars / ".complete"
        if marker.exists():
            return
        if shutil.which("mvn") is None:
            fail(
                "Maven (mvn) is missing, so the Kafka jars cannot be fetched. "
                "Install Maven, or run the system with `docker compose up`."
            )
        say(f"fetching Apache Kafka {KAFKA_VERSION} jars with Maven (first run only)")
        self.jars.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.jars}",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            fail(f"Maven could not fetch the Kafka jars:\n{result.stdout}\n{result.stderr}")
        marker.touch()

    def java(self) -> str:
        java = shutil.which("java")
        if java is None:
            fail(
                "Java is missing (Kafka needs Java 17). Install OpenJDK 17, "
                "or run the system with `docker compose up`."
            )
        assert java is not None
        return java

    # -- nodes: one KRaft broker+controller each; node 1 keeps the plain file names ----------

    @property
    def brokers(self) -> int:
        path = self.file("brokers")
        return int(path.read_text()) if path.exists() else 1

    def node_file(self, name: str, node: int) -> Path:
        """`kafka.pid` of node 1 is `kafka-2.pid` of node 2 (likewise every Kafka file)."""
        if node == 1:
            return self.file(name)
        stem, dot, suffix = name.partition(".")
        return self.file(f"{stem}-{node}{dot}{suffix}")

    def node_ports(self, wanted_port: str) -> list[tuple[int, int]]:
        """(client port, controller port) of every node, chosen once and remembered."""
        ports = []
        for node in range(1, self.brokers + 1):
            name = "kafka" if node == 1 else f"kafka-{node}"
            wanted = wanted_port if node == 1 else "auto"
            port = self.choose_port(name, wanted)
            controller = self.choose_port(
                "controller" if node == 1 else f"controller-{node}",
                "auto" if wanted == "auto" else str(port + 1),
            )
            ports.append((port, controller))
        return ports

    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port, _ in self.node_ports("auto"))

    def kafka_config(self, node: int, ports: list[tuple[int, int]]) -> Path:
        data = self.node_file("kafka-data", node)
        props = self.node_file("server.properties", node)
        port, controller_port = ports[node - 1]
        voters = ",".join(f"{n}@127.0.0.1:{c}" for n, (_, c) in enumerate(ports, start=1))
        replicas = min(3, len(ports))
        in_sync = 2 if replicas >= 3 else 1
        clients = "SASL_PLAINTEXT" if self.secure else "PLAINTEXT"
        login = self.credentials()
        sasl = (
            [
                "sasl.enabled.mechanisms=SCRAM-SHA-256",
                "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256",
                "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{login["kafka_username"]}" password="{login["kafka_password"]}";',
            ]
            if self.secure
            else []
        )
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={node}",
                    f"controller.quorum.voters={voters}",
                    f"listeners={clients}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
                    f"advertised.listeners={clients}://127.0.0.1:{port}",
                    "controller.listener.names=CONTROLLER",
                    f"listener.security.protocol.map={clients}:{clients},CONTROLLER:PLAINTEXT",
                    f"inter.broker.listener.name={clients}",
                    *sasl,
                    f"log.dirs={data}",
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    f"default.replication.factor={replicas}",
                    f"min.insync.replicas={in_sync}",
                    f"offsets.topic.replication.factor={replicas}",
                    "offsets.topic.num.partitions=12",
                    f"transaction.state.log.replication.factor={replicas}",
                    f"transaction.state.log.min.isr={in_sync}",
                    "transaction.state.log.num.partitions=6",
                    f"share.coordinator.state.topic.replication.factor={replicas}",
                    f"share.coordinator.state.topic.min.isr={in_sync}",
                    "group.initial.rebalance.delay.ms=0",
                    # A lone broker fenced by its own controller (its heartbeat late on a
                    # starved machine) only stops serving: clients saw NotEnoughReplicas.
                    # A cluster keeps the default 9 s, so a dead node is noticed.
                    f"broker.session.timeout.ms={9000 if len(ports) > 1 else 60000}",
                    "log.retention.check.interval.ms=60000",
                    # Two cores here: the defaults' 3 network and 8 request threads only
                    # took turns on them (docs/PERFORMANCE.md, "A warm broker").
                    "num.network.threads=2",
                    "num.io.threads=4",
                    # The log cleaner compacting the changelogs (each 2 MiB segment rolls
                    # every 45 s per partition at 380 sales/s) took a core in bursts of
                    # 0.1-0.3 s, and every stall in the sale's latency tail came with one.
                    # Throttled, the same work spreads out (docs/PERFORMANCE.md).
                    f"log.cleaner.io.max.bytes.per.second={CLEANER_BYTES_PER_S}",
                    "",
                ]
            )
        )
        log4j = self.node_file("log4j2.properties", node)
        log4j.write_text(
            "\n".join(
                [
                    "status = warn",
                    "appender.file.type = File",
                    "appender.file.name = FILE",
                    f"appender.file.fileName = {self.node_file('kafka.log', node)}",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = FILE",
                    "logger.kafka.name = kafka",
                    "logger.kafka.level = WARN",
                    "logger.state.name = state.change.logger",
                    "logger.state.level = WARN",
                    "",
                ]
            )
        )
        return props

    def scram_users(self) -> list[str]:
        """The SCRAM login of a secure stack, written into the storage at format time
        (KRaft has no ZooKeeper to add it to later)."""
        login = self.credentials()
        if not login:
            return []
        return [
            "--add-scram",
            f"SCRAM-SHA-256=[name={login['kafka_username']},password={login['kafka_password']}]",
        ]

    def java_cmd(self, main: str, *args: str, node: int = 1) -> list[str]:
        return [
            self.java(),
            # The whole heap from the start, and short young collections: a heap grown
            # from 256 MB collected every 2 s for 8-38 ms, each a stall of every commit.
            "-Xms1g",
            "-Xmx1g",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            # Every pause, to hold against a stall in the sale's latency (kafka-gc.log).
            f"-Xlog:gc:file={self.node_file('kafka-gc.log', node)}:uptime,time",
            f"-Dlog4j2.configurationFile={self.node_file('log4j2.properties', node)}",
            "-cp",
            f"{self.jars}/*",
            main,
            *args,
        ]

    def start_kafka(self, wanted_port: str, only: int | None = None) -> int:
        """Start every node of the stack (or node `only`) that is not running; returns the
        first node's port."""
        ports = self.node_ports(wanted_port)
        started = []
        for node in range(1, len(ports) + 1):
            if only is not None and node != only:
                continue
            port = ports[node - 1][0]
            pid_file = self.node_file("kafka.pid", node)
            if pid_alive(pid_file):
                say(f"Kafka node {node} already runs on 127.0.0.1:{port}")
                continue
            if port_open(port):
                fail(f"port {port} is taken by another process; choose --kafka-port")
            self.fetch_jars()
            props = self.kafka_config(node, ports)
            if not (self.node_file("kafka-data", node) / "meta.properties").exists():
                self.format_storage(props, node)
            out = open(self.node_file("kafka.out", node), "ab")  # noqa: SIM115 - the child keeps it
            proc = subprocess.Popen(
                self.java_cmd("kafka.Kafka", str(props), node=node),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            pid_file.write_text(str(proc.pid))
            started.append((node, port, proc))
        # A quorum of several controllers answers only once most of them run: start all
        # first, then wait for each.
        for node, port, proc in started:
            self.wait_for_kafka(port, proc, node)
            which = f" node {node}" if len(ports) > 1 else ""
            say(f"Kafka {KAFKA_VERSION} (KRaft){which} runs on 127.0.0.1:{port} (pid {proc.pid})")
        return ports[0][0]

    def format_storage(self, props: Path, node: int) -> None:
        cluster_id = self.file("cluster.id")
        if not cluster_id.exists():
            cluster_id.write_text(uuid_to_kafka_id())
        result = subprocess.run(
            self.java_cmd(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id.read_text().strip(),
                "-c",
                str(props),
                *self.scram_users(),
                node=node,
            ),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            fail(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")

    def stop_kafka(self, only: int | None = None, kill: bool = False) -> None:
        """Stop every node (or node `only`); `kill`: SIGKILL at once, a crash."""
        for node in range(1, self.brokers + 1):
            if only is not None and node != only:
                continue
            pid_file = self.node_file("kafka.pid", node)
            if kill:
                pid = pid_alive(pid_file)
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    reap(pid)
                    say(f"Kafka node {node} killed (pid {pid})")
                pid_file.unlink(missing_ok=True)
            else:
                stop_pid(pid_file, f"Kafka node {node}")

    def signal_kafka(self, only: int | None, sig: signal.Signals) -> None:
        """SIGSTOP (a broker that stops answering without dying: a starved machine, a long
        pause) or SIGCONT every node, or node `only`."""
        for node in range(1, self.brokers + 1):
            if only is not None and node != only:
                continue
            pid = pid_alive(self.node_file("kafka.pid", node))
            if pid is None:
                fail(f"Kafka node {node} does not run")
            os.kill(pid, sig)
            say(f"Kafka node {node} {'frozen' if sig == signal.SIGSTOP else 'thawed'} (pid {pid})")

    def wait_for_kafka(
        self, port: int, proc: subprocess.Popen[bytes] | None = None, node: int = 1
    ) -> None:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        from lumbung.platform.broker import client_security

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                fail(
                    f"Kafka exited at start; see {self.node_file('kafka.out', node)} and "
                    f"{self.node_file('kafka.log', node)}"
                )
            if port_open(port):
                try:
                    admin = KafkaAdminClient(
                        **client_security(),
                        bootstrap_servers=f"127.0.0.1:{port}",
                        request_timeout_ms=5000,
                    )
                    admin.list_topics()
                    admin.close()
                    return
                except KafkaError:
                    pass
            time.sleep(0.5)
        fail(
            f"Kafka did not answer within {START_TIMEOUT_S:.0f}s; "
            f"see {self.node_file('kafka.log', node)}"
        )

    # -- Redis -----------------------------------------------------------------------

    def redis_binary(self) -> str:
        found = shutil.which("redis-server")
        if found:
            return found
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say("installing Debian's redis-server")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for cmd in (
                ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "redis-server"],
            ):
                subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            found = shutil.which("redis-server")
        if not found:
            fail(
                "redis-server is missing; install Debian's redis-server package, "
                "or run the system with `docker compose up`."
            )
        assert found is not None
        return found

    def start_redis(self, wanted_port: str) -> int:
        port = self.choose_port("redis", wanted_port)
        pid_file = self.file("redis.pid")
        if pid_alive(pid_file):
            say(f"Redis already runs on 127.0.0.1:{port}")
            return port
        if port_open(port):
            fail(f"port {port} is taken by another process; choose --redis-port")
        data = self.file("redis-data")
        data.mkdir(exist_ok=True)
        subprocess.run(
            [
                self.redis_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(data),
                "--daemonize",
                "yes",
                "--pidfile",
                str(pid_file),
                "--logfile",
                str(self.file("redis.log")),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                *(["--requirepass", self.credentials()["redis_password"]] if self.secure else []),
            ],
            check=True,
        )
        deadline = time.monotonic() + 20
        while not port_open(port):
            if time.monotonic() > deadline:
                fail(f"Redis did not start; see {self.file('redis.log')}")
            time.sleep(0.1)
        say(f"Redis runs on 127.0.0.1:{port}")
        return port

    # -- the whole stack ---------------------------------------------------------------

    def up(
        self, kafka_port: str, redis_port: str, secure: bool = False, brokers: int = 1
    ) -> dict[str, str]:
        if brokers > 1:
            self.home.mkdir(parents=True, exist_ok=True)
            self.file("brokers").write_text(str(brokers))
        if secure:
            self.make_secure()
        elif self.secure:
            os.environ.update(self.kafka_login())
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("REDIS_URL")
        if all(external):
            say("KAFKA_BOOTSTRAP_SERVERS and REDIS_URL are set; using those servers")
            env = {"KAFKA_BOOTSTRAP_SERVERS": external[0] or "", "REDIS_URL": external[1] or ""}
        else:
            self.home.mkdir(parents=True, exist_ok=True)
            self.start_kafka(kafka_port)
            redis = self.start_redis(redis_port)
            password = self.credentials().get("redis_password")
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap(),
                "REDIS_URL": f"redis://:{password}@127.0.0.1:{redis}/0"
                if password
                else f"redis://127.0.0.1:{redis}/0",
                **self.kafka_login(),
                **(
                    {"LUMBUNG_REPLICATION_FACTOR": str(min(3, self.brokers))}
                    if self.brokers > 1
                    else {}
                ),
            }
            self.file("env").write_text("".join(f"export {k}={v}\n" for k, v in env.items()))
        create_topics(env["KAFKA_BOOTSTRAP_SERVERS"], env.get("LUMBUNG_REPLICATION_FACTOR", "1"))
        return env

    def down(self, wipe: bool) -> None:
        stop_pid(self.file("redis.pid"), "Redis")
        self.stop_kafka()
        if wipe and self.home.exists():
            shutil.rmtree(self.home)
            say(f"removed {self.home}")

    # -- backups -----------------------------------------------------------------------

    def log_dirs(self, brokers: int | None = None) -> list[Path]:
        return [self.node_file("kafka-data", n) for n in range(1, (brokers or self.brokers) + 1)]

    def backup(self, to: Path) -> dict[str, Any]:
        """Copy the Kafka log dirs into `to`, with every topic's configs and end offsets.

        The broker is stopped for the copy: files copied one after another from a running
        broker are of different moments (the inventory changelog copied before a
        transaction, the committed offsets in `__consumer_offsets` after it: a restored
        worker would skip input its state never saw). Stopped cleanly, Kafka has flushed
        and checkpointed every partition. Kafka is started again if it ran; Redis, the
        services and the workers are left running (they wait for the broker)."""
        if not (self.log_dirs(1)[0] / "meta.properties").exists():
            fail(f"stack {self.name} has no Kafka data in {self.home}")
        if to.exists() and any(to.iterdir()):
            fail(f"{to} is not empty: a backup goes into a new directory")
        port = self.remembered_port("kafka")
        os.environ.update(self.kafka_login())
        running = all(pid_alive(self.node_file("kafka.pid", n)) for n in range(1, self.brokers + 1))
        if not running:
            say("Kafka is stopped: starting it to read the topics' configs, stopping it after")
            self.start_kafka(str(port))
        configs = topic_configs(self.bootstrap())
        offsets = end_offsets(self.bootstrap(), configs)
        stopped_at = time.monotonic()
        self.stop_kafka()
        try:
            clean = all((data / CLEAN_SHUTDOWN).exists() for data in self.log_dirs())
            if not clean:
                say("warning: Kafka did not stop cleanly; the copy is only crash-consistent")
            to.mkdir(parents=True, exist_ok=True)
            for data in self.log_dirs():
                shutil.copytree(data, to / data.name, ignore=shutil.ignore_patterns(".lock"))
            for name in BACKUP_FILES:
                if self.file(name).exists():
                    shutil.copy2(self.file(name), to / name)
        finally:
            if running:
                self.start_kafka(str(port))
        manifest = {
            "stack": self.name,
            "kafka_version": KAFKA_VERSION,
            "brokers": self.brokers,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "kafka_stopped_s": round(time.monotonic() - stopped_at, 1),
            "clean_shutdown": clean,
            "end_offsets_before_stop": offsets,
        }
        (to / "topic-configs.json").write_text(json.dumps(configs, indent=2, sort_keys=True))
        (to / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        say(
            f"backup of {self.name} in {to}: {len(configs)} topics, "
            f"{sum(sum(o) for o in offsets.values())} records; Kafka was stopped for "
            f"{manifest['kafka_stopped_s']} s"
        )
        return manifest

    def restore(self, source: Path, kafka_port: str, redis_port: str) -> dict[str, str]:
        """A new stack from a backup: its log dirs and files copied in, Kafka and an empty
        Redis started on this stack's own ports, the topics' configs made what the
        backup's dump says, and every partition checked to hold at least the records the
        backup saw. Returns the stack's env, as `up` does."""
        manifest_file = source / "manifest.json"
        if not manifest_file.exists():
            fail(f"{source} holds no backup (no manifest.json)")
        if any(data.exists() for data in self.log_dirs(1)):
            fail(f"stack {self.name} has data in {self.home}: restore into a new name")
        manifest = json.loads(manifest_file.read_text())
        if manifest["kafka_version"] != KAFKA_VERSION:
            say(
                f"warning: the backup is of Kafka {manifest['kafka_version']}, "
                f"this stack runs {KAFKA_VERSION}"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        for name in BACKUP_FILES:
            if (source / name).exists():
                shutil.copy2(source / name, self.file(name))
        for data in self.log_dirs(int(manifest["brokers"])):
            shutil.copytree(source / data.name, data)
        # A restore starts servers of its own, never the ones these name.
        for variable in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL"):
            os.environ.pop(variable, None)
        env = self.up(kafka_port, redis_port)
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        created, changed = apply_topic_configs(
            bootstrap, json.loads((source / "topic-configs.json").read_text())
        )
        if created or changed:
            say(f"topics created from the dump: {created}; configs set again: {changed}")
        saw = manifest["end_offsets_before_stop"]
        have = end_offsets(bootstrap, {t: {"partitions": len(o)} for t, o in saw.items()})
        short = [
            f"{topic}-{p}: {have[topic][p]} < {offset}"
            for topic, offsets in saw.items()
            for p, offset in enumerate(offsets)
            if have[topic][p] < offset
        ]
        if short:
            fail(f"partitions hold fewer records than the backup saw: {short}")
        say(
            f"restored {manifest['stack']} ({manifest['taken_at']}) as {self.name}: "
            f"{len(saw)} topics, every partition holds what the backup saw"
        )
        return env


def uuid_to_kafka_id() -> str:
    """A cluster id as Kafka makes them: never starting with "-", which the storage tool
    would read as an option (1 stack in 64 failed to format before)."""
    import base64

    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found


def create_topics(bootstrap: str, replication: str = "1") -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lumbung.platform.topics"],
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LUMBUNG_REPLICATION_FACTOR": replication,
        },
    )
    if result.returncode != 0:
        fail("creating the registry topics failed")


def topic_configs(bootstrap: str) -> dict[str, dict[str, Any]]:
    """Every topic's partitions, replication factor and the configs set on the topic itself
    (what `kafka-configs --describe` shows for it), by name. The broker's internal topics
    (`__consumer_offsets`, `__transaction_state`) are left out: the broker makes them."""
    from kafka.admin import ConfigResource, ConfigResourceType

    from lumbung.platform.broker import admin_client

    admin = admin_client(bootstrap)
    try:
        topics = {
            str(t.get("name", t.get("topic"))): t["partitions"] for t in admin.describe_topics()
        }
        topics = {name: p for name, p in topics.items() if not name.startswith("__")}
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics]
        described = admin.describe_configs(resources).get("topic", {}) if resources else {}
    finally:
        admin.close()
    return {
        name: {
            "partitions": len(partitions),
            "replication_factor": len(partitions[0]["replica_nodes"]) if partitions else 0,
            "configs": {
                key: entry["value"]
                for key, entry in described.get(name, {}).items()
                if entry["config_source"] == "DYNAMIC_TOPIC_CONFIG"
            },
        }
        for name, partitions in sorted(topics.items())
    }


def apply_topic_configs(
    bootstrap: str, wanted: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """Make a cluster's topics what a `topic_configs` dump says: each missing topic created
    with its partitions, replication factor and configs, each config that differs set.
    Returns (topics created, topics changed). Partition counts are never changed (keys
    would move to other partitions), and configs the dump does not name are left alone."""
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

    from lumbung.platform.broker import admin_client, create_missing

    have = topic_configs(bootstrap)
    missing = [
        NewTopic(
            name, spec["partitions"], spec["replication_factor"], topic_configs=spec["configs"]
        )
        for name, spec in wanted.items()
        if name not in have
    ]
    created = create_missing(bootstrap, missing) if missing else []
    for name, spec in wanted.items():
        if name in have and have[name]["partitions"] != spec["partitions"]:
            say(
                f"warning: {name} has {have[name]['partitions']} partitions, "
                f"the dump {spec['partitions']}"
            )
    changes = {
        name: {k: v for k, v in spec["configs"].items() if have[name]["configs"].get(k) != v}
        for name, spec in wanted.items()
        if name in have
    }
    changes = {name: configs for name, configs in changes.items() if configs}
    if changes:
        admin = admin_client(bootstrap)
        try:
            answers = admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, n, c) for n, c in changes.items()]
            )
        finally:
            admin.close()
        refused = {n: a for n, a in answers.get("topic", {}).items() if a != "OK"}
        if refused:
            fail(f"the cluster refused these topics' configs: {refused}")
    return created, sorted(changes)


def end_offsets(bootstrap: str, topics: dict[str, dict[str, Any]]) -> dict[str, list[int]]:
    """The end offset of every partition of `topics` (name -> {"partitions": n, ...}),
    asked again for up to a minute while a broker that has just started has no leaders."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from lumbung.platform.broker import client_security

    wanted = [TopicPartition(t, p) for t, spec in topics.items() for p in range(spec["partitions"])]
    deadline = time.monotonic() + 60
    while True:
        consumer = KafkaConsumer(
            **client_security(), bootstrap_servers=bootstrap, enable_auto_commit=False
        )
        try:
            ends = consumer.end_offsets(wanted, timeout_ms=30_000) if wanted else {}
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
        finally:
            consumer.close()
    return {
        t: [int(ends[TopicPartition(t, p)]) for p in range(spec["partitions"])]
        for t, spec in topics.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "command",
        choices=[
            "up",
            "down",
            "status",
            "env",
            "kafka-stop",
            "kafka-start",
            "kafka-kill",
            "kafka-freeze",
            "kafka-thaw",
            "backup",
            "restore",
            "topic-configs",
        ],
    )
    parser.add_argument("--name", default=os.environ.get("LUMBUNG_STACK_NAME", "dev"))
    parser.add_argument(
        "--kafka-port", help="9092 (LUMBUNG_KAFKA_PORT) or auto; restore: auto unless given"
    )
    parser.add_argument(
        "--redis-port", help="6379 (LUMBUNG_REDIS_PORT) or auto; restore: auto unless given"
    )
    parser.add_argument("--to", type=Path, help="backup: a new directory; topic-configs: a file")
    parser.add_argument(
        "--from", dest="source", type=Path, help="restore: a backup; topic-configs: a dump"
    )
    parser.add_argument("--wipe", action="store_true", help="with down: delete the data too")
    parser.add_argument(
        "--secure", action="store_true", help="with up: Kafka with SASL/SCRAM, Redis with AUTH"
    )
    parser.add_argument(
        "--brokers",
        type=int,
        default=1,
        help="with up: a cluster of this many Kafka nodes (3: replication factor 3, "
        "min.insync.replicas 2)",
    )
    parser.add_argument(
        "--node",
        type=int,
        help="with kafka-stop/start/kill/freeze/thaw: only this node (default: all)",
    )
    args = parser.parse_args(argv)
    stack = Stack.named(args.name)
    # A restore is a second stack beside the first: free ports unless told otherwise.
    fallback = "auto" if args.command == "restore" else None
    kafka_port = args.kafka_port or fallback or os.environ.get("LUMBUNG_KAFKA_PORT", "9092")
    redis_port = args.redis_port or fallback or os.environ.get("LUMBUNG_REDIS_PORT", "6379")

    if args.command == "up":
        env = stack.up(kafka_port, redis_port, args.secure, args.brokers)
        for key, value in env.items():
            print(f"export {key}={value}")
    elif args.command == "backup":
        if args.to is None:
            fail("backup needs --to DIR")
        stack.backup(args.to.resolve())
    elif args.command == "restore":
        if args.source is None:
            fail("restore needs --from DIR")
        env = stack.restore(args.source.resolve(), kafka_port, redis_port)
        for key, value in env.items():
            print(f"export {key}={value}")
    elif args.command == "topic-configs":
        topic_configs_command(stack, args.to, args.source)
    elif args.command == "down":
        stack.down(args.wipe)
    elif args.command == "env":
        if not stack.file("env").exists():
            fail(f"stack {args.name} has not been started")
        print(stack.file("env").read_text(), end="")
    elif args.command == "status":
        kafka = [f"kafka-{n}" if n > 1 else "kafka" for n in range(1, stack.brokers + 1)]
        for what in (*kafka, "redis"):
            pid = pid_alive(stack.file(f"{what}.pid"))
            port = stack.remembered_port(what)
            print(f"{what}: {'running pid ' + str(pid) if pid else 'stopped'} port {port}")
    elif args.command in ("kafka-stop", "kafka-kill"):
        stack.stop_kafka(args.node, kill=args.command == "kafka-kill")
    elif args.command in ("kafka-freeze", "kafka-thaw"):
        stack.signal_kafka(
            args.node, signal.SIGSTOP if args.command == "kafka-freeze" else signal.SIGCONT
        )
    elif args.command == "kafka-start":
        port = stack.remembered_port("kafka")
        if port is None:
            fail(f"stack {args.name} has not been started")
        os.environ.update(stack.kafka_login())
        stack.start_kafka(str(port), args.node)
    return 0


def topic_configs_command(stack: Stack, to: Path | None, source: Path | None) -> None:
    """Dump the topics' configs of KAFKA_BOOTSTRAP_SERVERS' cluster, or else the stack's
    (to a file, or printed), or make that cluster's topics what a dump says."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        if stack.remembered_port("kafka") is None:
            fail(f"stack {stack.name} has not been started")
        os.environ.update(stack.kafka_login())
        bootstrap = stack.bootstrap()
    if source is not None:
        created, changed = apply_topic_configs(bootstrap, json.loads(source.read_text()))
        say(f"{bootstrap}: topics created {created}; configs set on {changed}")
        return
    dump = json.dumps(topic_configs(bootstrap), indent=2, sort_keys=True)
    if to is None:
        print(dump)
    else:
        to.write_text(dump)
        say(f"the topics' configs of {bootstrap} are in {to}")


if __name__ == "__main__":
    raise SystemExit(main())
