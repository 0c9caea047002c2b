"""The host's desk (``/manage``): one module per part of the desk.

- ``accounts``: sign-up, login, password, logout
- ``desk``: the poll list, new polls, settings and the poll's life
- ``candidates``: the poll builder (scenes)
- ``ballot_box``: integrity report, quarantine, invite codes
- ``nominations``: fans' suggested scenes: merge, accept, decline
- ``exports``: results and ballots to download, ballots to import

Every poll route loads its poll through ``owned_poll_or_404``, so a host can
only see and change their own polls; another host's poll is a plain 404.
"""
from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")

# The views register themselves on bp when imported.
from polls.manage import accounts, ballot_box, candidates, desk, exports, nominations  # noqa: E402,F401
