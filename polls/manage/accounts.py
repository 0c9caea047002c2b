"""Host accounts: login (rate limited), logout."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from polls.extensions import db, login_manager
from polls.forms import LoginForm
from polls.limits import login_limit
from polls.manage import bp
from polls.manage.access import MAX_DB_ID, safe_next, see_other
from polls.models import Host

login_manager.login_view = "manage.login"
login_manager.login_message = "Log in to manage your polls."
login_manager.login_message_category = "error"

_DUMMY_HASH = generate_password_hash("not a real password")


@login_manager.user_loader
def load_host(host_id: str) -> Host | None:
    return db.session.get(Host, int(host_id)) if host_id.isdigit() and int(host_id) <= MAX_DB_ID else None



@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login():
    form = LoginForm()
    if request.method == "GET":
        return render_template("manage/login.html", form=form)
    if form.validate_on_submit():
        host = db.session.scalar(select(Host).where(Host.email == form.email.data.lower()))
        if host is None:
            check_password_hash(_DUMMY_HASH, form.password.data)  # same work either way: no email probing
        elif host.check_password(form.password.data):
            login_user(host, remember=False)
            return redirect(safe_next(request.args.get("next")) or url_for("manage.dashboard"), code=303)
        flash("Wrong email or password.", "error")
    return render_template("manage/login.html", form=form), 400


@bp.post("/logout")
def logout():
    logout_user()
    return see_other("public.index")


