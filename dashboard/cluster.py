"""A classroom cluster: N read-only dashboard processes behind nginx, one browser stays on one process.

``scripts/classroom_cluster.py`` (``make classroom-cluster N=4``) runs :func:`main`. Each backend is
``python -m dashboard --classroom`` (the same flags and policy as ``make classroom``) on a free loopback
port, so students reach them only through the proxy; all read the one model store named by
``LATENT_LAB_CHECKPOINTS`` (default ``checkpoints/``), and none trains (classroom mode).

Why sticky, and why a cookie: a Streamlit session lives in one process: its websocket, and the images
it shows (``/media/<hash>.png``), which exist only in the memory of the process that drew them. Every
request of a browser must reach the process that holds its session. nginx (open source; its ``sticky``
directive is nginx Plus only) picks a process for a browser's first request at random
(``split_clients`` on ``$request_id``) and sets a session cookie ``ll_backend`` naming it; later
requests (pages, websocket, media) are routed by that cookie. ``ip_hash`` would put a whole room
behind one school NAT (one public address) on one process, and ``$remote_addr$http_user_agent``
would do the same for a lab of identical machines; a cookie is per browser. If a process dies, its
upstream's ``backup`` (the next process) takes its browsers: Streamlit reconnects and starts a new
session there.

nginx runs as the current user in the foreground (``-p run_dir -c run_dir/nginx.conf``): no file
under /etc is read or written. Ctrl+C stops nginx and every backend.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from core.store.checkpoints import CHECKPOINTS_ENV, DEFAULT_ROOT
from dashboard.launch import REPO, free_port, stop, wait_healthy
from dashboard.policy import CLASSROOM_UPLOAD_MB

COOKIE = "ll_backend"  # the sticky cookie: the name of the upstream that holds this browser's session
NGINX_INSTALL = ("nginx is not installed (the cluster needs it as its reverse proxy): "
                 "sudo apt-get install nginx  (Fedora: sudo dnf install nginx; macOS: brew install nginx)")
# where Debian and others put nginx; /usr/sbin is often not on a normal user's PATH
NGINX_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/usr/local/bin")


def find_nginx() -> str | None:
    """The nginx executable on PATH or in the usual sbin folders, or None."""
    return shutil.which("nginx") or shutil.which("nginx", path=os.pathsep.join(NGINX_DIRS))


def upstream_name(index: int) -> str:
    return f"ll_b{index}"


def split_rules(count: int) -> list[str]:
    """``split_clients`` lines giving each upstream an equal share of new browsers (the last takes the rest)."""
    share = f"{100 / count:.2f}".rstrip("0").rstrip(".")
    return [f"{share}% {upstream_name(i)};" for i in range(count - 1)] + [f"* {upstream_name(count - 1)};"]


def upstream_blocks(backends: Sequence[str]) -> list[str]:
    """One upstream per backend address, the next backend as its ``backup`` (used only while it is down)."""
    blocks = []
    for i, address in enumerate(backends):
        backup = f" server {backends[(i + 1) % len(backends)]} backup;" if len(backends) > 1 else ""
        blocks.append(f"upstream {upstream_name(i)} {{ server {address};{backup} }}")
    return blocks


DASHBOARD_STATIC = REPO / "dashboard" / "static"  # what Streamlit serves at /app/static (server.enableStaticServing)


#: the content types of what those folders hold (this nginx.conf reads no system mime.types): a module
#: script served as text/plain is refused by the browser
STATIC_TYPES = ("types { application/javascript js mjs; text/css css; application/json json; image/png png; "
                "image/gif gif; image/svg+xml svg; font/woff2 woff2; application/wasm wasm; application/gzip gz; } "
                "default_type application/octet-stream; add_header X-Content-Type-Options nosniff;")


def streamlit_static() -> Path:
    """The folder of Streamlit's built web app (index.html, and static/ with its JavaScript, CSS and fonts)."""
    from importlib.util import find_spec

    return Path(find_spec("streamlit").origin).resolve().parent / "static"


def nginx_conf(backends: Sequence[str], address: str, port: int, run_dir: Path) -> str:
    """The whole nginx.conf: ``backends`` are ``host:port`` of the dashboard processes."""
    run = run_dir.resolve()
    known = "\n".join(f"        {upstream_name(i)} {upstream_name(i)};" for i in range(len(backends)))
    kept = "\n".join(f'        {upstream_name(i)} "";' for i in range(len(backends)))
    nl = "\n    "
    return f"""# written by dashboard/cluster.py for this run only
daemon off;
worker_processes auto;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
# a browser holds about two connections (its own, and one to its process); a user may open 1024 files
events {{ worker_connections 1000; }}

http {{
    log_format sticky '$time_iso8601 $remote_addr "$request" $status cookie=$cookie_{COOKIE} upstream=$upstream_addr';
    access_log {run}/access.log sticky;
    # all temporary files inside the run folder (nginx's defaults are under /var, not writable by a user);
    # large responses (the 10 MB decoder runtime) and uploads are streamed, never spooled to disk
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    proxy_max_temp_file_size 0;
    proxy_request_buffering off;
    # Streamlit itself refuses files over server.maxUploadSize; nginx must not refuse them first (its default is 1 MB)
    client_max_body_size {CLASSROOM_UPLOAD_MB + 1}m;

    {nl.join(upstream_blocks(backends))}

    # a browser without a (known) cookie: an equal random share of new browsers per process
    split_clients "$request_id" $ll_new {{
        {" ".join(split_rules(len(backends)))}
    }}
    map $cookie_{COOKIE} $ll_backend {{
{known}
        default $ll_new;
    }}
    # set the cookie only where it is missing or names no process of this cluster
    map $cookie_{COOKIE} $ll_set_cookie {{
{kept}
        default "{COOKIE}=$ll_new; Path=/; HttpOnly; SameSite=Lax";
    }}
    # Streamlit's websocket (/_stcore/stream) needs the upgrade passed on; other requests close normally
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" close;
    }}

    server {{
        listen {address}:{port};
        # Files that are the same for every browser come from disk, not through a dashboard process:
        # Streamlit's own web app (about 7 MB in 114 files per new browser, whose serving through Python
        # was half of a student's visit: 0.14-0.2 CPU-s of 0.31; bench part "visits") and the dashboard's
        # static folder (the decoder runtime). Streamlit's file names carry a content hash.
        location /static/ {{
            alias {streamlit_static()}/static/;
            expires 7d;
            {STATIC_TYPES}
        }}
        location /app/static/ {{
            alias {DASHBOARD_STATIC}/;
            {STATIC_TYPES}
        }}
        location / {{
            proxy_pass http://$ll_backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with its port: Streamlit checks the websocket's Origin against it
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;  # a student reading a page keeps an idle websocket open
            proxy_send_timeout 1d;
            add_header Set-Cookie $ll_set_cookie always;
        }}
    }}
}}
"""


def nginx_command(nginx: str, run_dir: Path, *extra: str) -> list[str]:
    """nginx with this run's prefix, config and startup error log (-e: not /var/log/nginx)."""
    run = run_dir.resolve()
    return [nginx, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "nginx-error.log"), *extra]


def write_conf(nginx: str, backends: Sequence[str], address: str, port: int, run_dir: Path) -> None:
    """Write nginx.conf into ``run_dir`` and have nginx check it (``-t``) before any process starts."""
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    (run_dir / "nginx.conf").write_text(nginx_conf(backends, address, port, run_dir))
    checked = subprocess.run(nginx_command(nginx, run_dir, "-t", "-q"), capture_output=True, text=True)
    if checked.returncode:
        raise RuntimeError(f"nginx refused {run_dir / 'nginx.conf'}: {checked.stderr.strip()}")


def model_store() -> Path:
    """The one model store every backend reads: ``$LATENT_LAB_CHECKPOINTS`` or checkpoints/, from here."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or DEFAULT_ROOT).resolve()


def start_backend(port: int, folder_roots: Sequence[Path], store: Path, log: Path) -> subprocess.Popen:
    """``python -m dashboard --classroom`` on 127.0.0.1:port (students reach it only through nginx)."""
    command = [sys.executable, "-m", "dashboard", "--classroom", "--address", "127.0.0.1", "--port", str(port)]
    for root in folder_roots:
        command += ["--folder-root", str(root)]
    # cwd: the repo root, where Streamlit reads .streamlit/config.toml (static serving for live decoding);
    # so the store and the folders are passed as absolute paths, resolved where the cluster was started
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, CHECKPOINTS_ENV: str(store)},
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def port_taken(address: str, port: int) -> bool:
    """Whether something already listens on address:port (checked before the backends spend time loading)."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds: a closing connection is no obstacle
        try:
            sock.bind((address.strip("[]"), port))
        except OSError:
            return True
    return False


def local_url(address: str, port: int) -> str:
    """A URL this machine can open for a listening address (0.0.0.0: via loopback)."""
    return f"http://{'127.0.0.1' if address in ('0.0.0.0', '::', '[::]') else address}:{port}"


def serve(processes: dict[str, subprocess.Popen]) -> int:
    """Wait while nginx runs; a backend that dies is reported once (its browsers move to its backup)."""
    reported: set[str] = set()
    while processes["nginx"].poll() is None:
        for name, process in processes.items():
            if name not in reported and process.poll() is not None:
                reported.add(name)
                print(f"{name} stopped (exit code {process.poll()}); nginx sends its browsers to the next process",
                      file=sys.stderr)
        if len(reported) == len(processes) - 1:
            print("every dashboard process has stopped", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(f"nginx stopped (exit code {processes['nginx'].poll()})", file=sys.stderr)
    return 1


def run_cluster(workers: int, address: str, port: int, run_dir: Path, folder_roots: Sequence[Path], nginx: str) -> int:
    """Start the backends, then nginx in front of them; serve until Ctrl+C (or SIGTERM); stop them all."""
    ports = [free_port() for _ in range(workers)]
    backends = [f"127.0.0.1:{p}" for p in ports]
    write_conf(nginx, backends, address, port, run_dir)
    store = model_store()
    processes: dict[str, subprocess.Popen] = {}
    try:
        for i, backend_port in enumerate(ports):
            processes[upstream_name(i)] = start_backend(backend_port, folder_roots, store, run_dir / f"{upstream_name(i)}.log")
        for i, backend_port in enumerate(ports):  # started together: they load in parallel
            wait_healthy(f"http://127.0.0.1:{backend_port}", processes[upstream_name(i)], timeout=300)
        processes["nginx"] = subprocess.Popen(nginx_command(nginx, run_dir))
        url = local_url(address, port)
        wait_healthy(url, processes["nginx"], timeout=30.0, what="nginx")
        # written aside and renamed into place: a script waiting for this file never reads half of it
        (run_dir / "cluster.json.tmp").write_text(json.dumps(
            {"url": url, "backends": {upstream_name(i): f"http://{b}" for i, b in enumerate(backends)},
             "pids": {name: process.pid for name, process in processes.items()},
             "access_log": str(run_dir / "access.log"), "cookie": COOKIE, "model_store": str(store)}, indent=1))
        os.replace(run_dir / "cluster.json.tmp", run_dir / "cluster.json")
        print(f"classroom cluster: {workers} read-only dashboards of the models in {store} behind nginx, listening on "
              f"{address}:{port} (open {url}); logs and config in {run_dir}; Ctrl+C stops all", file=sys.stderr, flush=True)
        return serve(processes)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes.values()):  # nginx first: no browser is sent to a stopping process
            stop(process)


def raise_interrupt(signum, frame) -> None:
    """SIGTERM (a service manager, a test) stops everything as Ctrl+C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/classroom_cluster.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", "-n", type=int, default=2, help="dashboard processes (about one per core; default 2)")
    parser.add_argument("--address", default="0.0.0.0", help="where nginx listens (default 0.0.0.0: the room)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--folder-root", action="append", default=[], metavar="DIR",
                        help="a folder whose sub-folders students may open as datasets (repeatable)")
    parser.add_argument("--run-dir", type=Path, help="where nginx.conf, logs and temporary files go (default: a new temporary folder)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.exit(2, "error: --workers must be at least 1\n")
    nginx = find_nginx()
    if nginx is None:
        parser.exit(2, f"error: {NGINX_INSTALL}\n")
    roots = [Path(root).resolve() for root in args.folder_root]  # the backends run in the repo root
    missing = [root for root in roots if not root.is_dir()]
    if missing:  # said once here, not by every backend failing to start
        parser.exit(2, f"error: --folder-root {missing[0]} is not a folder\n")
    if port_taken(args.address, args.port):
        parser.exit(2, f"error: port {args.port} is in use on {args.address} (pick another with --port)\n")
    run_dir = (args.run_dir or Path(tempfile.mkdtemp(prefix="latent-lab-cluster-"))).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell starting this in the background ignores it
        signal.signal(signum, raise_interrupt)
    try:
        return run_cluster(args.workers, args.address, args.port, run_dir, roots, nginx)
    except RuntimeError as error:  # a process that did not start (a port in use, a broken model store)
        print(f"error: {error}; the logs are in {run_dir}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
