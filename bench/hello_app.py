"""The bare Flask "hello" app that bench/load.py and bench/widget.py serve as their baseline.

Every path and method answers "Hello, World!", so the load generator sends it
exactly the requests (ballots: headers, cookies, JSON body; widget GETs) it sends the app.
Served as ``gunicorn --chdir bench hello_app:app``; run as a script it only says so
(``make bench`` runs every bench/*.py).
"""
from flask import Flask

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def hello(path: str) -> str:
    return "Hello, World!"


if __name__ == "__main__":
    print("bench/hello_app.py is the baseline app served by bench/load.py and bench/widget.py; "
          "nothing to run on its own")
