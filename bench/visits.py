"""Part "visits": the server's CPU seconds per student visit, and the bytes a rerun sends.

A room on one laptop: 30 students arriving at once cost the server 30 visits' CPU. One visit is a
fresh browser context (nothing cached by the browser, a new Streamlit session) that opens the Latent
map as a link (``/latent_map?dataset=...``), waits until it is done (title, charts drawn, every live
element running its decoder, the server's CPU quiet), then clicks the Decoder playground in the sidebar
and waits the same way. The server is the classroom-mode dashboard (``LATENT_LAB_CLASSROOM=1``, as
``python -m dashboard --classroom`` sets) on a zoo kept by ``python -m core zoo``.

Measured: the server process's CPU time (``/proc/<pid>/stat`` utime + stime, every thread) from just
before the first page is asked for to the moment the server has been quiet for :data:`QUIET_S`; the
first visit warms the process's caches and is reported on its own; then N visits, median. Beside it,
the bare Streamlit app (``bench/bare_app.py``) visited the same way in the same run: the ratio is the
number that survives the shared machine's load; and that bare app behind the dashboard's static-file
middleware (``bench/bare_served.py``, as ``dashboard/serve.py`` serves the dashboard): Streamlit's floor.
Where nginx is installed, the same visits also go to
the classroom cluster with one dashboard process (``scripts/classroom_cluster.py --workers 1``), where
nginx serves the files that are the same for every browser (Streamlit's web app, the decoder runtime)
from disk: its CPU counts the launcher, the dashboard process and nginx's processes together.

Bytes: every websocket frame the browser receives (Playwright ``framereceived``), on the first open of
each page and on a rerun: the Latent map and the playground rerun in full (Streamlit's ``r`` key), and
the playground's live sliders report a release (a fragment rerun).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import OUT, PAGES, REPO, browser_problem, chromium, exception_text, free_port, stop, streamlit_command, wait_page_done
from bench.common import Options, PartResult, load_average, mnist_dir
from dashboard.__main__ import CLASSROOM_SERVER_OPTIONS
from dashboard.cluster import find_nginx
from dashboard.launch import wait_healthy

NAME = "visits"
TITLE = "Server CPU seconds per student visit (Latent map + Decoder playground, classroom mode) and bytes per rerun"

GOAL_CPU_S = {"digits": 0.2, "mnist": 0.4}  # issue 19 item 6
QUIET_S = 0.6  # the server counts as done once its CPU time has not moved for this long
VISIT_PAGES = ("Latent map", "Decoder playground")
HOOK = "window.__latentLabLive"
ZOO_ENV = {"digits": "LATENT_LAB_BENCH_DIGITS_ZOO", "mnist": "LATENT_LAB_BENCH_MNIST_ZOO"}


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _family(pid: int) -> list[int]:
    """``pid`` and every live process below it (the cluster: its dashboard processes and nginx's)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    family, todo = [], [pid]
    while todo:
        family.append(todo.pop())
        todo += children.get(family[-1], [])
    return family


_FAMILIES: dict[int, tuple[float, list[int]]] = {}  # pid -> (when found, its family): found again every 2 s


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far (all threads) of a process and of every process it started, from
    /proc/<pid>/stat: the classroom server is one process; the cluster a launcher, its dashboard
    processes and nginx, all counted."""
    found, family = _FAMILIES.get(pid, (0.0, []))
    if time.monotonic() - found > 2.0:
        family = _family(pid)
        _FAMILIES[pid] = (time.monotonic(), family)
    total = 0
    for member in family:
        with contextlib.suppress(OSError):
            fields = _stat(member)
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(pid: int, quiet_s: float = QUIET_S, timeout_s: float = 60.0) -> float:
    """Wait until the process's CPU time stops moving for ``quiet_s``; its CPU seconds then."""
    deadline = time.monotonic() + timeout_s
    last, since = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = cpu_seconds(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


class Frames:
    """Bytes of the websocket frames a page receives (Streamlit's forward messages)."""

    def __init__(self, page) -> None:
        self.bytes = 0
        self.count = 0
        self.last = time.monotonic()
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.bytes += len(payload)
        self.count += 1
        self.last = time.monotonic()

    def take(self) -> int:
        """Bytes since the last call."""
        value, self.bytes = self.bytes, 0
        return value


def wait_live(page, timeout_ms: float = 120_000) -> None:
    """Every live element on the page runs its decoder (or has said it cannot)."""
    page.wait_for_function(
        "() => { const roots = Array.from(document.querySelectorAll('*')).flatMap(e => e.shadowRoot ?"
        " Array.from(e.shadowRoot.querySelectorAll('.ll-root')) : []);"
        " return roots.every(r => r.dataset.state === 'live' || r.dataset.state === 'fallback'); }",
        timeout=timeout_ms)
    page.wait_for_function(f"() => !{HOOK} || Object.values({HOOK}.instances).every(i => i.ready || i.failed)",
                           timeout=timeout_ms)


def wait_rerun(page, frames: Frames, before: int, timeout_s: float = 60.0) -> None:
    """After an action that reruns the script: a frame came, the script is not running, frames quiet."""
    deadline = time.monotonic() + timeout_s
    while frames.count == before and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_function("() => document.querySelector(\"[data-testid='stApp']\")"
                           "?.getAttribute('data-test-script-state') === 'notRunning'", timeout=timeout_s * 1000)
    while time.monotonic() - frames.last < 0.5 and time.monotonic() < deadline:
        page.wait_for_timeout(100)


def open_page(page, url: str, name: str, dataset: str, first: bool) -> None:
    if first:
        page.goto(f"{url}/{PAGES[name][0]}?dataset={dataset}")
    else:
        page.locator("[data-testid='stSidebarNav'] a").filter(has_text=name).first.click()
    wait_page_done(page, name)
    wait_live(page)


def visit(browser, url: str, pid: int, dataset: str | None, measure_bytes: bool = False) -> dict:
    """One student: a fresh context opens the map, then the playground (``dataset`` None: the bare app).
    Returns the server's CPU seconds and, with ``measure_bytes``, the bytes of each open and rerun."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    frames = Frames(page)
    out: dict = {}
    try:
        wait_quiet(pid)
        start = cpu_seconds(pid)
        if dataset is None:
            page.goto(url)
            page.wait_for_function("() => document.querySelector(\"[data-testid='stApp']\")?.getAttribute("
                                   "'data-test-script-state') === 'notRunning' && document.querySelector("
                                   "\"[data-testid='stImage'] img\")?.complete", timeout=120_000)
        else:
            for i, name in enumerate(VISIT_PAGES):
                open_page(page, url, name, dataset, first=i == 0)
                out[f"{name} open bytes"] = frames.take()
        out["cpu s"] = wait_quiet(pid) - start
        out["problem"] = exception_text(page) if dataset else ""
        if measure_bytes and dataset is not None:
            out.update(rerun_bytes(page, url, pid, frames, dataset))
    finally:
        context.close()
    return out


def rerun_bytes(page, url: str, pid: int, frames: Frames, dataset: str) -> dict:
    """Bytes and server CPU of reruns: the playground's live slider released (a fragment rerun), then a full
    rerun of the playground and of the map (the ``r`` key)."""
    out = {}
    frames.take()
    slider = page.locator(".ll-root input[type=range]").first
    start, before = cpu_seconds(pid), frames.count
    slider.focus()
    slider.press("ArrowRight")  # input + change: the element reports the release, the fragment reruns
    wait_rerun(page, frames, before)
    out["Decoder playground slider release bytes"], out["Decoder playground slider release cpu s"] = (
        frames.take(), wait_quiet(pid) - start)
    for name in ("Decoder playground", "Latent map"):
        if name == "Latent map":
            open_page(page, url, name, dataset, first=False)
            frames.take()
        page.locator("[data-testid='stMain'] h1").first.click()  # focus off any input, so 'r' reruns
        start, before = cpu_seconds(pid), frames.count
        page.keyboard.press("r")
        wait_rerun(page, frames, before)
        wait_page_done(page, name)
        out[f"{name} rerun bytes"], out[f"{name} rerun cpu s"] = frames.take(), wait_quiet(pid) - start
    return out


def zoo_for(dataset: str, scratch: Path, data_dir: str | None) -> tuple[Path, str]:
    """A zoo kept by ``python -m core zoo`` (from $LATENT_LAB_BENCH_<DATASET>_ZOO, or trained here for a
    few epochs: the CPU per visit does not depend on how long the models trained)."""
    given = os.environ.get(ZOO_ENV[dataset])
    if given and Path(given).is_dir():
        return Path(given), given
    root = scratch / f"{dataset}-zoo"
    extra = ["--data-dir", data_dir] if data_dir else []
    subprocess.run([sys.executable, "-m", "core", "zoo", "--dataset", dataset, "--epochs", "2" if dataset == "digits"
                    else "1", "--checkpoints", str(root), *extra], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return root, f"trained here by python -m core zoo --epochs {2 if dataset == 'digits' else 1}"


@contextlib.contextmanager
def classroom_server(env: dict[str, str], log_name: str, script: str | None = None):
    """``python -m dashboard --classroom`` (the command a teacher runs) on a free loopback port; yields
    (url, process): the process is the Streamlit server itself (the launcher execs it). ``script``:
    ``streamlit run`` that script instead, with the server options classroom mode adds."""
    port = free_port()
    command = ([sys.executable, "-m", "dashboard", "--classroom", "--address", "127.0.0.1", "--port", str(port)]
               if script is None else [*streamlit_command(script, port), *CLASSROOM_SERVER_OPTIONS])
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / log_name, "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield url, process
        finally:
            stop(process)


@contextlib.contextmanager
def cluster_server(env: dict[str, str], log_name: str, workers: int = 1):
    """``scripts/classroom_cluster.py`` (``make classroom-cluster``): nginx in front of ``workers`` classroom
    processes, serving the static files itself, on a free loopback port; yields (url, the launcher): its
    CPU counts every process it started (the dashboards and nginx's)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="latent-lab-visits-cluster-") as tmp, open(OUT / log_name, "w") as log:
        port, run_dir = free_port(), Path(tmp)
        command = [sys.executable, str(REPO / "scripts" / "classroom_cluster.py"), "--workers", str(workers),
                   "--address", "127.0.0.1", "--port", str(port), "--run-dir", str(run_dir)]
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while not (run_dir / "cluster.json").exists():  # written once nginx answers through to a process
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not start: see {OUT / log_name}")
                time.sleep(0.2)
            yield json.loads((run_dir / "cluster.json").read_text())["url"], process
        finally:
            stop(process)


SERVERS = {"classroom": classroom_server, "cluster": cluster_server}
SERVER_WORDS = {"classroom": "classroom", "cluster": "classroom cluster: nginx + 1 process"}


def measure(browser, dataset: str, zoo: Path, data_dir: str | None, n: int, server: str = "classroom") -> dict:
    """Warm-up visit, ``n`` visits (the first also measures bytes) against one classroom server."""
    env = {"LATENT_LAB_CHECKPOINTS": str(zoo), **({"LATENT_LAB_DATA_DIR": data_dir} if data_dir else {})}
    with SERVERS[server](env, f"visits-{dataset}-{server}.log") as (url, process), teacher(browser, url):
        first = visit(browser, url, process.pid, dataset)
        idle = idle_rate(process.pid)
        visits = [visit(browser, url, process.pid, dataset, measure_bytes=i == 0) for i in range(n)]
    return {"first": first, "visits": visits, "idle": idle}


@contextlib.contextmanager
def teacher(browser, url: str):
    """The teacher's page, open for the whole class: with no session left, Streamlit drops its compiled
    page scripts (ScriptCache), so visits one after another with nobody connected between them would
    each pay for compiling every page, which a room arriving together does not."""
    context = browser.new_context()
    try:
        context.new_page().goto(url)
        yield
    finally:
        context.close()


def idle_rate(pid: int, seconds: float = 5.0) -> float:
    """The server's CPU seconds per second with nobody doing anything (its background polling)."""
    start, begun = wait_quiet(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start) / (time.monotonic() - begun)


BARE = {"bare_app.py": "bare app (bench/bare_app.py: one slider, one image)",
        "bare_served.py": "the same bare app behind dashboard.static_cache (bench/bare_served.py)"}


def bare(browser, n: int, script: str = "bare_app.py") -> list[float]:
    """CPU seconds per visit of the bare app, served with the same server options as the classroom."""
    with (classroom_server({}, f"visits-{script}.log", str(REPO / "bench" / script)) as (url, process),
          teacher(browser, url)):
        visit(browser, url, process.pid, None)  # warm: torch imported, the decoder built
        return [visit(browser, url, process.pid, None)["cpu s"] for _ in range(n)]


def rows_for(dataset: str, result: dict, bare_s: float, load: tuple, server: str = "classroom") -> tuple[list[dict], list[str]]:
    cpu = [v["cpu s"] for v in result["visits"]]
    median = statistics.median(cpu)
    row = {"server": f"dashboard on {dataset} ({SERVER_WORDS[server]})", "n": len(cpu), "CPU s per visit (median)": median,
           "min": min(cpu), "max": max(cpu), "first visit (cold process) CPU s": result["first"]["cpu s"],
           "x bare app": median / bare_s if bare_s else "", "idle CPU s per s": result["idle"],
           "load avg": " ".join(f"{x:.1f}" for x in load)}
    sized = result["visits"][0]
    byte_row = {"server": f"bytes on {dataset} ({server})", **{k: v for k, v in sized.items() if k.endswith("bytes")},
                **{k: v for k, v in sized.items() if k.endswith("cpu s") and k != "cpu s"}}
    goal = GOAL_CPU_S[dataset]
    goals = [f"{dataset} ({SERVER_WORDS[server]}): {median:.3f} CPU-s per visit (median of {len(cpu)}) <= {goal} -> "
             f"{'met' if median <= goal else 'missed'}; {median / bare_s:.1f}x the bare app's visit"]
    problems = [f"{dataset}: {v['problem'][:300]}" for v in result["visits"] if v.get("problem")]
    return [row, byte_row], goals + problems


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    n = options.rounds or (3 if options.quick else 10)
    datasets = ["digits"] + ([] if options.quick or not mnist_dir(options) else ["mnist"])
    rows, goals, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-visits-") as tmp, chromium() as browser:
        bare_cpu = {script: bare(browser, n, script) for script in BARE}
        bare_s = statistics.median(bare_cpu["bare_app.py"])
        for dataset in datasets:
            data_dir = mnist_dir(options) if dataset == "mnist" else None
            zoo, origin = zoo_for(dataset, Path(tmp), data_dir)
            for server in ["classroom"] + (["cluster"] if find_nginx() else []):
                load = load_average()
                result = measure(browser, dataset, zoo, data_dir, n, server)
                more_rows, more_goals = rows_for(dataset, result, bare_s, load, server)
                rows += more_rows
                goals += more_goals
            notes.append(f"{dataset} zoo: {origin}")
        rows += [{"server": words, "n": n, "CPU s per visit (median)": statistics.median(bare_cpu[script]),
                  "min": min(bare_cpu[script]), "max": max(bare_cpu[script]),
                  "load avg": " ".join(f"{x:.1f}" for x in load_average())} for script, words in BARE.items()]
    if "mnist" not in datasets:
        notes.append("MNIST not measured (quick run, or no MNIST/raw under the data folder)")
    notes.append(f"a visit: a fresh browser context opens /latent_map?dataset=..., then the playground from the "
                 f"sidebar; CPU = the server's utime+stime from the request until it was quiet for {QUIET_S} s "
                 "(includes serving the page's static files: the onnxruntime wasm to a browser without it)")
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
