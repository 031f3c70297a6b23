"""The child process of tests/io/test_publish.py's fault tests: publishes a folder with
simcore.io.publish, loaded from its file (not the package, so the child starts in milliseconds),
and SIGKILLs itself before the k-th filesystem call of the publish.

    python publish_child.py OUT TAG K NAMES USE_EXCHANGE

prints the number of filesystem calls the publish made (when it was not killed).
"""

import hashlib
import importlib.util
import json
import os
import signal
import sys
from pathlib import Path

# every os function the publish (and shutil.rmtree under it) may touch the filesystem with
FS_CALLS = (
    "rename",
    "replace",
    "unlink",
    "rmdir",
    "mkdir",
    "open",
    "fsync",
    "close",
    "scandir",
    "chmod",
    "stat",
    "lstat",
)
KNOWN_NAMES = {"a.csv", "b.csv", "c.npz", "d.csv", "manifest.json"}


def write_folder(d: Path, tag: str, names=("a.csv", "b.csv", "c.npz")) -> None:
    """Files ``names`` tagged ``tag`` and a manifest listing their sha256."""
    files = []
    for n in names:
        data = f"{tag}:{n}\n".encode() * 1000
        (d / n).write_bytes(data)
        files.append({"name": n, "sha256": hashlib.sha256(data).hexdigest()})
    (d / "manifest.json").write_text(json.dumps({"tag": tag, "files": files}))


def main(out, tag, kill_at, names, use_exchange) -> None:
    path = Path(__file__).resolve().parents[2] / "simcore" / "io" / "publish.py"
    spec = importlib.util.spec_from_file_location("_publish", path)
    pub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pub)
    calls = 0
    armed = False
    real = {n: getattr(os, n) for n in FS_CALLS}

    def tick():
        nonlocal calls
        if armed:
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    def counted(name):
        def f(*a, **k):
            tick()
            return real[name](*a, **k)

        return f

    real_exchange = pub.exchange

    def exchange(a, b):
        tick()
        return real_exchange(a, b) if use_exchange else False

    pub.exchange = exchange
    folder = pub.OutputFolder(out, KNOWN_NAMES.__contains__)
    folder.prepare()
    with folder.staging() as stage:
        write_folder(stage, tag, names)
        for n in FS_CALLS:
            setattr(os, n, counted(n))
        armed = True
        folder.publish()
    armed = False
    for n in FS_CALLS:
        setattr(os, n, real[n])
    print(calls)


if __name__ == "__main__":
    out, tag, k, names, use_exchange = sys.argv[1:]
    main(out, tag, int(k), names.split(","), use_exchange == "1")
