"""Installing Debian packages a test needs (PostgreSQL, MariaDB, Chromium), one install at a time.

Test workers run in parallel and CI starts from a bare image, so several of them may want apt at
once: each waits for the others (a file lock of ours, then apt's own lock with a timeout) instead
of failing on "Could not get lock /var/lib/dpkg/lock-frontend".
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

_OUR_LOCK = Path("/tmp/herald-tests-apt.lock")
_APT_WAIT = ["-o", "DPkg::Lock::Timeout=900", "-o", "APT::Get::Assume-Yes=true"]


def apt_install(*packages: str) -> None:
    """`apt-get install` the packages (running `apt-get update` first if they are not found), waiting for locks."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    with _OUR_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test worker of ours installs: wait for it
        for attempt in range(3):
            update = subprocess.run([*sudo, "apt-get", *_APT_WAIT, "update", "-q"], env=env, capture_output=True)
            install = subprocess.run(
                [*sudo, "apt-get", *_APT_WAIT, "install", "-y", "-q", *packages], env=env, capture_output=True
            )
            if install.returncode == 0:
                return
            time.sleep(5 * (attempt + 1))  # apt of somebody else's (unattended upgrades) still busy
        raise RuntimeError(
            f"apt-get install {' '.join(packages)} failed: {install.stderr.decode(errors='replace')[-800:]}"
            f" (apt-get update said: {update.stderr.decode(errors='replace')[-300:]})"
        )
