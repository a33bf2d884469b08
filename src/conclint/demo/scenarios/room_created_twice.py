"""CCL102, check-then-act (threaded model): a chat room created twice.

`join` creates the room when it is missing, then adds the user to it. Two requests
for a new room both find it missing, both create it, and the second room replaces the
first one with whoever had joined it. `join_locked` holds `rooms_lock` from the check
to the creation, so one room is made and everyone joins that one.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conclint.demo.http import not_found, query_text

rooms = {}
rooms_lock = threading.Lock()


class Room:
    def __init__(self, name):
        self.name = name
        self.members = set()


def open_room(name):
    """Set a room up: load its history, register it with the presence service (a millisecond or two)."""
    time.sleep(random.uniform(0.0005, 0.002))
    return Room(name)


def join(request):
    """POST /join?room=R&user=U: join a room, creating it if it does not exist yet."""
    name, user = query_text(request, "room", "lobby"), query_text(request, "user", "anonymous")
    if name not in rooms:
        rooms[name] = open_room(name)  # expect: CCL102
    rooms[name].members.add(user)
    return {"room": name, "members": len(rooms[name].members)}


def join_locked(request):
    """POST /join-locked?room=R&user=U: the same, with the check and the creation under one lock."""
    name, user = query_text(request, "room", "lobby"), query_text(request, "user", "anonymous")
    with rooms_lock:
        if name not in rooms:
            rooms[name] = open_room(name)
        room = rooms[name]
    room.members.add(user)
    return {"room": name, "members": len(room.members)}


def members(request):
    """GET /members?room=R: who is in the room."""
    room = rooms.get(query_text(request, "room", "lobby"))
    return {"members": sorted(room.members) if room else []}


def route(request):
    if (request.method, request.path) == ("POST", "/join"):
        return join(request)
    if (request.method, request.path) == ("POST", "/join-locked"):
        return join_locked(request)
    if (request.method, request.path) == ("GET", "/members"):
        return members(request)
    raise not_found(request)


def handle(connection):
    """One connection, on a worker thread: answer its requests in turn."""
    with connection:
        for exchange in connection.exchanges():
            exchange.respond(route(exchange.request))


def serve(server):
    """The threaded model serving this app: a pool of worker threads answers the requests."""
    with ThreadPoolExecutor(max_workers=server.workers, thread_name_prefix="worker") as pool:
        for connection in server.connections():
            pool.submit(handle, connection)
