"""The per-worker-state scenario, deployed as it usually is: gunicorn, four workers.

    gunicorn -c src/conclint/demo/scenarios/gunicorn.conf.py

(`conclint demo reproduce per-worker-state` runs it on the demo's own prefork server.)
"""

wsgi_app = "conclint.demo.scenarios.per_worker_state:application"
bind = "127.0.0.1:8000"
workers = 4
