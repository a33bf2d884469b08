"""CCL303 assumes several workers for a web app unless deployment evidence says one process, and says so."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, write

APP = """\
from flask import Flask

app = Flask(__name__)
hits = {}


@app.route("/hit/<page>")
def hit(page):
    hits[page] = hits.get(page, 0) + 1
    return str(hits[page])
"""


def _ccl303(tree):
    write(tree, "app.py", APP)
    done = run_cli("check", "--no-cache", "--output-format", "json", "--select", "CCL303", ".", cwd=tree)
    assert done.returncode in (0, 1), done.stderr
    return [f["message"] for f in json.loads(done.stdout)]


def test_without_deployment_files_several_workers_are_assumed_and_said(tree):
    (message,) = _ccl303(tree)
    assert "assumed: served by several worker processes; set `workers = 1` if it is not" in message


@pytest.mark.parametrize(
    "path,text",
    [
        ("pyproject.toml", "[tool.conclint]\nworkers = 1\n"),
        ("pyproject.toml", '[tool.conclint]\nserver = "threaded"\n'),
        ("gunicorn.conf.py", 'bind = "127.0.0.1:8000"\n'),  # gunicorn's default: one worker
        ("Procfile", "web: uvicorn app:app --port $PORT\n"),
    ],
)
def test_evidence_of_one_process_silences_it(tree, path, text):
    write(tree, path, text)
    assert _ccl303(tree) == []


def test_an_app_that_serves_itself_in_one_process_is_one_worker(tree):
    write(tree, "serve.py", "from app import app\n\n\ndef main():\n    app.run(host='0.0.0.0', port=8080)\n")
    assert _ccl303(tree) == []


TORNADO_SERVED = """\
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.wsgi import WSGIContainer

from app import app


class CustomHTTPServer(HTTPServer):
    pass


def main():
    server = CustomHTTPServer(WSGIContainer(app))
    server.listen(5000)
    IOLoop.current().start()
"""


def test_an_app_served_by_tornado_listen_is_one_worker(tree):
    # (reviewed on real code: a Flask app wrapped in a subclass of tornado's HTTPServer, in one process)
    write(tree, "serve.py", TORNADO_SERVED)
    assert _ccl303(tree) == []


def test_tornado_started_with_several_processes_is_no_evidence_of_one(tree):
    forked = TORNADO_SERVED.replace("server.listen(5000)", "server.bind(5000)\n    server.start(4)")
    write(tree, "serve.py", forked)
    assert len(_ccl303(tree)) == 1


def test_an_app_that_serves_itself_with_several_workers_says_so(tree):
    write(tree, "serve.py", "import uvicorn\n\n\ndef main():\n    uvicorn.run('app:app', workers=4)\n")
    (message,) = _ccl303(tree)
    assert "4 worker processes (uvicorn.run(workers=4) at serve.py)" in message


def test_a_gunicorn_command_without_workers_leaves_it_to_the_environment(tree):
    write(tree, "Procfile", "web: gunicorn app:app\n")  # gunicorn reads WEB_CONCURRENCY
    (message,) = _ccl303(tree)
    assert "assumed: served by several worker processes" in message


def test_evidence_of_several_workers_is_named(tree):
    write(tree, "gunicorn.conf.py", "workers = 4\n")
    (message,) = _ccl303(tree)
    assert "4 worker processes (gunicorn.conf.py:1)" in message and "assumed" not in message
