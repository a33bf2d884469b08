"""The demo servers' limits, in a module of their own so the command line can show the
defaults without importing the servers."""

MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD_BYTES = 16 * 1024  # request line and every header line
MAX_HEADERS = 64
MAX_BODY_BYTES = 64 * 1024
READ_TIMEOUT = 10.0  # seconds to receive one whole request once it has begun
IDLE_TIMEOUT = 5.0  # seconds a connection may wait, sending nothing, for its next request
WRITE_TIMEOUT = 10.0  # seconds a client may take to receive a response
MAX_CONNECTIONS = 1000  # open connections one accepting process holds (gunicorn's worker_connections)
