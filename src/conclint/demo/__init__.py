"""The demo: one small HTTP app served three ways (prefork, threaded, evented), and scenarios
that turn each static finding into something a person can watch happen."""
