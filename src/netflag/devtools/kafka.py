"""A throwaway single-node Kafka broker on loopback, for the tests and the benchmarks.

Apache Kafka's own jars come from Maven Central, fetched once into
``~/.cache/netflag/kafka-VERSION/lib`` (``$XDG_CACHE_HOME`` is honoured) by a
generated pom and ``mvn dependency:copy-dependencies``; nothing else is
downloaded. A broker is one JVM in KRaft combined mode (broker and
controller, node 1) with its log directory in a folder of its own, formatted
once, so it can be stopped and started again with its data. ``scripts/kafka``
is the command-line face of this module::

    scripts/kafka fetch                 # the jars, once
    scripts/kafka start DIR [PORT]      # prints "BOOTSTRAP PID"; the broker runs on
    scripts/kafka stop PID
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from netflag.devtools.servers import LocalServer, free_port, native_env
from netflag.errors import InputError

KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.5"  # the log4j Kafka depends on; its slf4j binding routes the logs
START_SECONDS = 60.0  # a cold JVM on a loaded 2-core machine; it usually takes 2 s
HEAP = "-Xmx512m"
# The second listener, SASL/PLAIN with an authorizer: "admin" may do anything, "reader" has
# no ACL at all (so every request of it is refused), as on a secured cluster. The plain
# listener is for everything else (its clients are super users).
SASL_USERS = {"admin": "admin-secret", "reader": "reader-secret"}
JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required "
    + " ".join(f'user_{name}="{password}"' for name, password in SASL_USERS.items())
    + ";"
)
READY = b"Kafka Server started"

POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>netflag</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_VERSION}</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId><version>{LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
"""
LOG4J = """status=error
appender.file.type=File
appender.file.name=file
appender.file.fileName={log}
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
"""
SERVER = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:admin
log.dirs={data}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
"""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netflag" / f"kafka-{KAFKA_VERSION}"


def _need(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise InputError(f"{program} is not installed: apt-get install {package}")
    return found


def fetch() -> Path:
    """The folder of Kafka's jars, fetched through Maven the first time."""
    lib = cache_root() / "lib"
    if (lib / ".complete").exists():
        return lib
    mvn = _need("mvn", "maven")
    _need("java", "default-jre-headless")
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib.parent) as scratch:
        work = Path(scratch)
        (work / "pom.xml").write_text(POM)
        command = [mvn, "-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime"]
        command.append(f"-DoutputDirectory={work / 'lib'}")
        done = subprocess.run(
            command, cwd=work, capture_output=True, text=True, check=False, env=native_env()
        )
        if done.returncode != 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            raise InputError(f"cannot fetch Kafka {KAFKA_VERSION} through Maven: {last[0]}")
        (work / "lib" / ".complete").touch()
        shutil.rmtree(lib, ignore_errors=True)
        (work / "lib").rename(lib)
    return lib


class KafkaBroker(LocalServer):
    """``with KafkaBroker(folder) as broker:`` a broker at ``broker.bootstrap``; :meth:`stop`
    is a controlled shutdown, the log flushed."""

    stop_seconds = 60.0

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.controller = free_port()
        self.sasl_port = free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def sasl_settings(self, user: str, password: str | None = None) -> dict[str, str]:
        """Client settings for the SASL listener (at :meth:`url` with ``sasl=True``) as
        ``user``, with its password unless given."""
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": SASL_USERS[user] if password is None else password,
        }

    def url(self, topic: str, *, sasl: bool = False, **query: str) -> str:
        """A netflag URL for ``topic`` on this broker, e.g. ``kafka://127.0.0.1:9092/events``
        (``sasl``: on the SASL listener)."""
        options = "&".join(f"{key}={value}" for key, value in query.items())
        where = f"127.0.0.1:{self.sasl_port}" if sasl else self.bootstrap
        return f"kafka://{where}/{topic}" + (f"?{options}" if options else "")

    def _java(self, lib: Path, main: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j2.configurationFile={self.folder / 'log4j2.properties'}"
        java = _need("java", "default-jre-headless")
        return [java, HEAP, "-XX:+UseSerialGC", log4j, "-cp", f"{lib}/*", main, *args]

    def _configure(self, lib: Path) -> Path:
        """Write the configuration (ports may change between starts) and format once."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "log4j2.properties").write_text(LOG4J.format(log=self.folder / "broker.log"))
        config = self.folder / "server.properties"
        data = self.folder / "data"
        config.write_text(
            SERVER.format(
                port=self.port,
                sasl=self.sasl_port,
                controller=self.controller,
                data=data,
                jaas=JAAS,
            )
        )
        if not (data / "meta.properties").exists():
            cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            # One id in 64 starts with "-": as a separate argument it would read as an option.
            formatting = self._java(
                lib, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster}"
            )
            done = subprocess.run(
                [*formatting, "-c", str(config)],
                capture_output=True,
                text=True,
                check=False,
                env=native_env(),
            )
            if done.returncode != 0:
                raise InputError(f"cannot format {data}: {done.stderr.strip()[-300:]}")
        return config

    def start(self, *, detach: bool = False) -> None:
        """Start the broker and wait until it serves; ``detach``: let it outlive this process."""
        lib = fetch()
        config = self._configure(lib)
        log = self.folder / "broker.log"
        before = log.stat().st_size if log.exists() else 0
        with (self.folder / "stdout.log").open("ab") as out:
            self.process = subprocess.Popen(
                self._java(lib, "kafka.Kafka", str(config)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
                env=native_env(),
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise InputError(f"the Kafka broker exited at once; see {self.folder}/*.log")
            if log.exists():
                with log.open("rb") as handle:
                    handle.seek(before)
                    if READY in handle.read():
                        return
            time.sleep(0.05)
        self.kill()
        raise InputError(f"the Kafka broker did not start within {START_SECONDS:.0f} s")

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` and wait until it is there (the client is imported only here)."""
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.cimpl import NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(timeout=30)


def main(argv: list[str]) -> int:
    """``fetch``, ``start DIR [PORT]`` (prints the bootstrap address and the PID), ``stop PID``."""
    try:
        if argv[:1] == ["fetch"] and len(argv) == 1:
            print(fetch())
            return 0
        if argv[:1] == ["start"] and len(argv) in (2, 3):
            broker = KafkaBroker(Path(argv[1]).resolve(), int(argv[2]) if len(argv) == 3 else None)
            broker.start(detach=True)
            assert broker.process is not None  # noqa: S101 - start() set it or raised
            print(broker.bootstrap, broker.process.pid)
            return 0
        if argv[:1] == ["stop"] and len(argv) == 2:
            pid = int(argv[1])
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)  # a controlled shutdown flushes the log first
            return 0
    except (InputError, OSError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    sys.stderr.write("usage: scripts/kafka fetch | start DIR [PORT] | stop PID\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
