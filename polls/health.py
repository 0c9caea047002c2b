"""GET /healthz: is the database answering, is Redis?"""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from polls.extensions import db, redis_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    redis_state = redis_store.ping()
    if database != "ok":
        status, code = "down", 503
    elif redis_state == "unreachable":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return jsonify(status=status, database=database, redis=redis_state), code
