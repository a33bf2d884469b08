"""`conclint demo serve`, `reproduce` and `compare` as users run them: the JSON report, the
100-column table, the HTML page opened in a real headless Chromium, the route listings, exit
codes, bad arguments, the real gunicorn and uvicorn (when installed), and an interrupted run
that leaves no process behind."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import conclint_command, run_cli
from headless import find_chromium, near, rendered_charts

from conclint.demo import client, registry
from conclint.demo.app import routes_of
from conclint.demo.launch import ServerProcess
from conclint.demo.report import FIXED, HAZARD, missing_plotting

REPO = Path(__file__).resolve().parent.parent
KEYS = {
    "scenario",
    "rule",
    "model",
    "variant",
    "expected",
    "observed",
    "expected_value",
    "observed_value",
    "unit",
    "reproduced",
    "as_expected",
    "detail",
    "data",
}
# one scenario of each chart kind: counts, latency, what each worker saw
SOME = ("cache-stampede", "blocking-wait", "winner")
NOT_REPRODUCED = {"CCL001", "CCL002", "CCL209"}  # see test_demo_scenarios.py


def _processes_marked(mark: str):
    """Pids of live processes whose environment carries ``mark`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if mark.encode() not in environ.read():
                    continue
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """``conclint demo reproduce`` on one scenario of each chart kind, with --json and --html."""
    if missing_plotting():
        pytest.skip(f"the demo extra is not installed: {missing_plotting()}")
    folder = tmp_path_factory.mktemp("reproduce")
    page = folder / "report.html"
    completed = run_cli("demo", "reproduce", *SOME, "--json", "--html", str(page), cwd=folder, timeout=120)
    return completed, page


def _check_variants(results, rules):
    for result in results:
        assert set(result) == KEYS, result
        if result["variant"] == "hazard":
            assert result["reproduced"] is True and result["as_expected"] is None, result
        else:
            assert result["as_expected"] is True and result["reproduced"] is None, result
        assert isinstance(result["expected_value"], (int, float)) and isinstance(result["observed_value"], (int, float))
        assert result["unit"]
    assert sorted((r["rule"], r["variant"]) for r in results) == sorted(
        (rule, variant) for rule in rules for variant in ("hazard", "fixed")
    )


def test_reproduce_json_reports_each_variant_with_its_numbers(reproduced):
    completed, _ = reproduced
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads(completed.stdout)
    assert [r["scenario"] for r in results] == [name for name in SOME for _ in range(2)]
    _check_variants(results, ["CCL112", "CCL205", "CCL301"])
    latency = next(r for r in results if r["rule"] == "CCL205" and r["variant"] == "hazard")
    assert latency["unit"] == "ms" and latency["observed_value"] >= latency["expected_value"]
    assert len(latency["data"]["latencies_ms"]) > 1


def _check_page(page, names):
    browser = find_chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the page was not opened in a browser")
    charts, fetched = rendered_charts(browser, str(page))
    assert fetched == [page.resolve().as_uri()]  # the page itself, nothing from the network
    assert [chart["name"] for chart in charts] == list(names)
    for chart in charts:
        assert chart["width"] > 200 and chart["height"] > 100, chart["name"]
        assert chart["shapes"] > 10, chart["name"]
        # painted: the hazard's red and the fix's green are on screen, not only in the markup
        assert near(chart["colours"], HAZARD) and near(chart["colours"], FIXED), chart["name"]


def test_reproduce_html_has_a_chart_per_scenario_that_a_browser_renders(reproduced):
    completed, page = reproduced
    assert completed.returncode == 0, completed.stderr
    _check_page(page, SOME)


def test_reproduce_html_without_matplotlib_says_how_to_get_it(tmp_path):
    broken = tmp_path / "site" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('no matplotlib here')\n", encoding="utf-8")
    completed = run_cli(
        "demo",
        "reproduce",
        "winner",
        "--html",
        str(tmp_path / "r.html"),
        cwd=tmp_path,
        env_extra={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert completed.returncode == 2
    assert "matplotlib" in completed.stderr and "conclint[demo]" in completed.stderr
    assert "Traceback" not in completed.stderr and not (tmp_path / "r.html").exists()


def test_reproduce_table_fits_100_columns_with_hazard_and_fix_on_one_row(tmp_path):
    completed = run_cli("demo", "reproduce", "fork-with-threads", "lost-update-evented", cwd=tmp_path, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["scenario", "rule", "model", "expected", "hazard", "fix", "result"]
    assert lines[2].split()[:2] == ["fork-with-threads", "CCL302"] and lines[2].endswith("ok")
    assert "hung >" in lines[2] and "exited" in lines[2]
    assert [line.split()[:2] for line in lines[3:5]] == [
        ["lost-update-evented", "CCL111"],
        ["lost-update-evented", "CCL113"],
    ]
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)


@pytest.mark.slow
def test_the_full_reproduce_shows_every_rule_and_draws_every_chart(tmp_path):
    """The done-when of the demo: every hazard rule `conclint rules` lists reproduced, every fix
    as expected, and a page with a chart per scenario."""
    page = tmp_path / "report.html"
    completed = run_cli("demo", "reproduce", "--json", "--html", str(page), cwd=tmp_path, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads(completed.stdout)
    listed = {line.split()[0] for line in run_cli("rules", cwd=tmp_path).stdout.splitlines() if line.strip()}
    hazard_rules = sorted(listed - NOT_REPRODUCED)
    _check_variants([r for r in results if r["rule"]], hazard_rules)
    assert {r["rule"] for r in results} == {*hazard_rules, None}
    _check_page(page, registry.names())


def test_reproduce_rejects_an_unknown_scenario(tmp_path):
    completed = run_cli("demo", "reproduce", "no-such-scenario", cwd=tmp_path)
    assert completed.returncode == 2
    assert "unknown scenario no-such-scenario" in completed.stderr and "lost-update-threaded" in completed.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clients", "1,501"], "1 to 500 clients"),
        (["--clients", "ten"], "numbers separated by commas"),
        (["--workers", "0"], "--workers must be between 1 and 64"),
    ],
)
def test_compare_refuses_bad_arguments(tmp_path, args, message):
    completed = run_cli("demo", "compare", *args, cwd=tmp_path)
    assert completed.returncode == 2 and message in completed.stderr, completed.stderr


@pytest.mark.slow
def test_compare_measures_the_three_models_side_by_side(tmp_path):
    page = tmp_path / "compare.html"
    completed = run_cli(
        "demo",
        "compare",
        "--clients",
        "1,10",
        "--workers",
        "2",
        "--json",
        "--html",
        str(page),
        cwd=tmp_path,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(completed.stdout)["rows"]
    assert [(r["model"], r["clients"], r["blocking"]) for r in rows] == [
        (model, clients, blocking)
        for model in ("prefork", "threaded", "evented")
        for clients, blocking in ((1, False), (10, False), (30, True))
    ]
    for row in rows:
        assert row["errors"] == 0 and row["requests"] >= row["clients"], row
        assert row["throughput"] > 0 and row["p50_ms"] >= 100 and row["p99_ms"] >= row["p50_ms"], row
        assert row["rss_mb"] > 0 and row["processes"] == (3 if row["model"] == "prefork" else 1), row
    _check_page_charts(page, ["compare-0", "compare-1"])


def _check_page_charts(page, names):
    browser = find_chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the page was not opened in a browser")
    charts, fetched = rendered_charts(browser, str(page))
    assert fetched == [page.resolve().as_uri()]
    assert [chart["name"] for chart in charts] == names
    assert all(chart["width"] > 200 and chart["height"] > 100 and len(chart["colours"]) > 4 for chart in charts)


def test_serve_lists_each_scenarios_routes():
    with ServerProcess("threaded", workers=2) as server:
        listing = client.request(server.port, "GET", "/lost-update-threaded/").body
        assert listing["rules"] == ["CCL101"] and listing["model"] == "threaded"
        routes = {(r["method"], r["path"]): r for r in listing["routes"]}
        assert set(routes) == {
            ("POST", "/lost-update-threaded/hit"),
            ("POST", "/lost-update-threaded/hit-locked"),
            ("GET", "/lost-update-threaded/hits"),
        }
        assert routes[("POST", "/lost-update-threaded/hit")]["doc"] == "POST /hit: count one visit."
        reply = client.request(server.port, "POST", "/lost-update-threaded/hit")
        assert reply.ok and reply.body["hits"] == 1  # a listed route is served where it is listed
        assert client.request(server.port, "GET", "/").body["scenarios"]["winner"] == "/winner/"
        forks = client.request(server.port, "GET", "/fork-with-threads/").body
        assert forks["routes"] == [] and "serves no requests" in forks["note"]
    with ServerProcess("prefork", "per-worker-state", workers=1) as server:  # a WSGI application
        listing = client.request(server.port, "GET", "/").body
        assert {(r["method"], r["path"]) for r in listing["routes"]} == {("GET", "/hit"), ("GET", "/hit-shared")}


def test_every_listed_route_is_served_by_its_scenario():
    """The listing is read from each module's dispatcher: every path it lists answers (not 404)."""
    for name in registry.names():
        module = importlib.import_module(registry.scenario(name).module)
        for route in routes_of(module):
            assert route["handler"] and route["path"].startswith("/"), (name, route)
            assert hasattr(module, route["handler"]), (name, route)


def test_an_interrupted_reproduce_stops_every_server(tmp_path):
    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc to find the processes")
    mark = f"CONCLINT_DEMO_TEST_RUN={uuid.uuid4().hex}"
    env = dict(os.environ, **dict([mark.split("=", 1)]))
    process = subprocess.Popen(
        [*conclint_command(), "demo", "reproduce", "worker-isolation", "winner"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while len(_processes_marked(mark)) < 3 and time.monotonic() < deadline:  # reproduce, a server, its workers
            time.sleep(0.05)
        assert len(_processes_marked(mark)) >= 3
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "interrupted" in err
    deadline = time.monotonic() + 5
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_marked(mark) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "prefork", "--workers", "0"], "--workers must be between 1 and 64"),
        (["--model", "prefork", "--server", "uvicorn"], "uvicorn serves the evented model"),
        (["--model", "threaded", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["--model", "prefork", "--scenario", "fork-with-threads"], "serves no requests"),
        (["--model", "evented", "--read-timeout", "nan"], "--read-timeout must be between"),
        (["--model", "evented", "--max-connections", "0"], "--max-connections must be between"),
    ],
)
def test_serve_refuses_bad_arguments(tmp_path, args, message):
    completed = run_cli("demo", "serve", *args, cwd=tmp_path, timeout=30)
    assert completed.returncode == 2 and message in completed.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "model, server, package", [("prefork", "gunicorn", "gunicorn"), ("evented", "uvicorn", "uvicorn")]
)
def test_serve_under_a_real_server(tmp_path, model, server, package):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed (pip install 'conclint[demo]')")
    port = _free_port()
    process = subprocess.Popen(
        [
            *conclint_command(),
            "demo",
            "serve",
            "--model",
            model,
            "--server",
            server,
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        reply = client.request(port, "GET", "/ping", timeout=2)
        while not reply.ok and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            reply = client.request(port, "GET", "/ping", timeout=2)
        assert reply.ok and reply.body["pong"] is True
        stampede = client.request(port, "GET", "/cache-stampede/report-shared?key=k")
        assert stampede.ok and stampede.body["report"] == "the report on k"
        assert client.request(port, "GET", "/nowhere").status == 404
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
