import threading

_renders = 0


def render(x, y):
    global _renders
    _renders += 1
    return f"tile {x},{y}"


class TileCache:
    def __init__(self):
        self._tiles = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, x, y):
        key = (x, y)
        if key not in self._tiles:
            self.misses += 1
            self._tiles[key] = render(x, y)
        else:
            self.hits += 1
        return self._tiles[key]

    def get_locked(self, x, y):
        with self._lock:
            key = (x, y)
            if key not in self._tiles:
                self.misses += 1
                self._tiles[key] = render(x, y)
            return self._tiles[key]
