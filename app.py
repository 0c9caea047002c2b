"""Entry point: `flask --app app run` and `gunicorn 'app:create_app()'` find the factory here."""
from polls.factory import create_app

__all__ = ["create_app"]
