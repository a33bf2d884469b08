"""CCL301, the winner (prefork model).

The master sets `winner` before it forks its workers (`spawn_worker`, below).
POST /final sets it in the one worker that serves that request; the master and every
other worker have their own copy and still say "The Netherlands". The fixed routes
keep the winner in a file that every process reads.
"""

import os

from conclint.demo.http import HTTPError, not_found
from conclint.demo.storage import state_path

winner = "The Netherlands"


def team_of(request):
    team = request.text().strip() or "Argentina"
    if len(team) > 60:
        raise HTTPError(400, "a team name is at most 60 characters")
    return team


def final(request):
    """POST /final: the worker serving this request records the winner."""
    global winner
    winner = team_of(request)  # expect: CCL301
    return {"winner": winner, "worker": os.getpid()}


def who_won(request):
    """GET /winner: what this worker says."""
    return {"winner": winner, "worker": os.getpid()}


def read_shared_winner():
    try:
        with open(state_path("winner.txt"), encoding="utf-8") as stored:
            return stored.read()
    except FileNotFoundError:
        return "The Netherlands"


def final_shared(request):
    """POST /final-shared: record the winner in a file every process reads."""
    team = team_of(request)
    path = state_path("winner.txt")
    draft = f"{path}.{os.getpid()}"
    with open(draft, "w", encoding="utf-8") as stored:
        stored.write(team)
    os.replace(draft, path)
    return {"winner": team, "worker": os.getpid()}


def who_won_shared(request):
    """GET /winner-shared"""
    return {"winner": read_shared_winner(), "worker": os.getpid()}


def master_view():
    """What the master itself holds (the prefork master serves no requests; SIGUSR1 asks it)."""
    return {"winner": winner, "shared_winner": read_shared_winner()}


def route(request):
    if (request.method, request.path) == ("POST", "/final"):
        return final(request)
    if (request.method, request.path) == ("GET", "/winner"):
        return who_won(request)
    if (request.method, request.path) == ("POST", "/final-shared"):
        return final_shared(request)
    if (request.method, request.path) == ("GET", "/winner-shared"):
        return who_won_shared(request)
    raise not_found(request)


def work(server):
    """A worker: serve connections from the shared socket, one at a time."""
    for connection in server.connections():
        with connection:
            for exchange in connection.exchanges():
                exchange.respond(route(exchange.request))


def spawn_worker(server):
    """How the prefork master starts one worker: fork, and serve in the child."""
    pid = os.fork()
    if pid == 0:
        try:
            work(server)
        finally:
            os._exit(0)
    return pid
