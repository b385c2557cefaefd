"""A throw-away MariaDB server for the test session: found or installed, started on a free port, removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from herald.demo.servers import free_port
from tests.debian import apt_install

# herald's admin account on the test server; root stays on the unix socket only.
_ADMIN = "herald"
# Durability is worth nothing in a server that lives for one test session: skip the fsyncs.
_FAST = (
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--sync-binlog=0",
    "--skip-log-bin",
    "--skip-name-resolve",
    "--skip-performance-schema",
    "--innodb-flush-method=nosync",
    "--innodb-file-per-table=0",
)
# MySQL 8's default mode (ONLY_FULL_GROUP_BY included), so a rule MariaDB alone would accept fails here.
_SQL_MODE = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


def _server_binary() -> Path | None:
    for name in ("mariadbd", "mysqld"):
        for folder in (None, "/usr/sbin", "/usr/libexec"):
            found = shutil.which(name, path=folder)
            if found:
                return Path(found)
    return None


def _install() -> Path:
    """Install Debian's mariadb-server when the machine has none (CI starts from a bare image)."""
    apt_install("mariadb-server")
    found = _server_binary()
    if found is None:
        raise RuntimeError("mariadb-server was installed but neither mariadbd nor mysqld is found")
    return found


def _install_db_script() -> str:
    for name in ("mariadb-install-db", "mysql_install_db"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("mariadb-install-db is missing: is the mariadb-server package complete?")


def _user_options() -> list[str]:
    """mariadbd refuses to run as root unless told to; as anyone else it runs as that user."""
    return ["--user=root"] if os.geteuid() == 0 else []


@contextmanager
def mariadb_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL (pymysql) of an admin account on a fresh server; stop and delete it afterwards."""
    server = _server_binary() or _install()
    # In memory when the machine offers it: creating a database's tables then takes milliseconds.
    shm = Path("/dev/shm")
    scratch = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="herald-mariadb-", dir=scratch))
    data, sock, port = root / "data", root / "mysqld.sock", free_port()
    # Its own tmpdir for the set-up too: two set-ups sharing /tmp (two test workers) clash on temp tables.
    common = ["--no-defaults", f"--datadir={data}", f"--tmpdir={root}", *_user_options()]
    try:
        initialised = subprocess.run(
            [
                _install_db_script(),
                *common,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                "--innodb-doublewrite=0",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if initialised.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {initialised.stderr.decode(errors='replace')[-2000:]}")
        with open(root / "log", "wb") as log:
            process = subprocess.Popen(
                [
                    str(server),
                    *common,
                    f"--socket={sock}",
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    f"--pid-file={root / 'mysqld.pid'}",
                    f"--sql-mode={_SQL_MODE}",
                    "--character-set-server=utf8mb4",
                    "--collation-server=utf8mb4_unicode_ci",
                    *_FAST,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_and_create_admin(process, sock, root / "log")
                yield f"mysql+pymysql://{_ADMIN}@127.0.0.1:{port}/mysql?charset=utf8mb4"
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_and_create_admin(process: subprocess.Popen[bytes], sock: Path, log: Path) -> None:
    """Wait until root answers on the socket, then add an admin account reachable over TCP."""
    import pymysql

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"mariadbd did not answer within 60 s: {log.read_text(errors='replace')[-2000:]}"
                ) from None
            time.sleep(0.05)
    with conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{_ADMIN}'@'127.0.0.1'")
        cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{_ADMIN}'@'127.0.0.1' WITH GRANT OPTION")


def create_database(server_url: str, name: str) -> str:
    """Create an empty database on the test server and return its URL (one per test keeps tests apart)."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    return _with_database(server_url, name)


def create_reader(server_url: str, database: str) -> str:
    """An account that may only SELECT from `database`, as herald should be given; returns its URL."""
    import sqlalchemy as sa

    user = f"reader_{database}"[:32]
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'127.0.0.1'"))
        conn.execute(sa.text(f"GRANT SELECT ON `{database}`.* TO '{user}'@'127.0.0.1'"))
    engine.dispose()
    url = sa.make_url(_with_database(server_url, database))
    return url.set(username=user).render_as_string(hide_password=False)


def _with_database(server_url: str, name: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
