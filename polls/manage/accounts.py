"""Host accounts: sign-up, login (rate limited), the account page (password, time zone), logout."""
import hmac
import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from polls.extensions import db, login_manager
from polls.forms import LoginForm
from polls.forms.accounts import PasswordChangeForm, SignupForm, TimeZoneForm, normalise_email
from polls.limits import login_account_limit, login_limit, password_check_limit, signup_limit
from polls.manage import bp
from polls.manage.access import MAX_DB_ID, safe_next, see_other
from polls.models import Host

login_manager.login_view = "manage.login"
login_manager.login_message = "Log in to manage your polls."
login_manager.login_message_category = "error"

_DUMMY_HASH = generate_password_hash("not a real password")
# What Host.get_id puts in the session: the id, then a fingerprint of the password hash.
_SESSION_ID = re.compile(r"([0-9]{1,19}):[0-9a-f]{16}")


@login_manager.user_loader
def load_host(session_id) -> Host | None:
    """The host a session names, unless its password changed since (or the id is not ours)."""
    match = _SESSION_ID.fullmatch(session_id) if isinstance(session_id, str) else None
    if match is None or int(match[1]) > MAX_DB_ID:
        return None
    host = db.session.get(Host, int(match[1]))
    if host is None or not hmac.compare_digest(host.get_id(), session_id):
        return None
    return host


def register_host(email: str, password: str, zone: str) -> Host | None:
    """A new host account, or None when the email is taken (also by a sign-up racing this one)."""
    host = Host(email=email, timezone=zone)
    host.set_password(password)
    db.session.add(host)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return host


def _signup_open() -> None:
    if not current_app.config["SIGNUP_OPEN"]:
        abort(404, description="Sign-up is closed on this site: ask its owner for a host account.")


@bp.route("/signup", methods=["GET", "POST"])
@signup_limit
def signup():
    _signup_open()
    form = SignupForm()
    if request.method == "GET":
        return render_template("manage/signup.html", form=form)
    if form.validate_on_submit():
        host = register_host(form.email.data, form.password.data, form.timezone.data)
        if host is not None:
            login_user(host, remember=False)
            flash("Welcome to KissPoll! Your host account is ready: start your first poll.", "success")
            return see_other("manage.dashboard")
        form.email.errors.append("An account with that email already exists; log in instead.")
    return render_template("manage/signup.html", form=form), 400


@bp.route("/login", methods=["GET", "POST"])
@login_limit
@login_account_limit
def login():
    form = LoginForm()
    if request.method == "GET":
        return render_template("manage/login.html", form=form)
    if form.validate_on_submit():
        host = db.session.scalar(select(Host).where(Host.email == normalise_email(form.email.data)))
        if host is None:
            check_password_hash(_DUMMY_HASH, form.password.data)  # same work either way: no email probing
        elif host.check_password(form.password.data):
            login_user(host, remember=False)
            return redirect(safe_next(request.args.get("next")) or url_for("manage.dashboard"), code=303)
        flash("Wrong email or password.", "error")
    return render_template("manage/login.html", form=form), 400


def _account_page(password_form: PasswordChangeForm | None = None, zone_form: TimeZoneForm | None = None):
    """The account page; the form given back (with its errors) replaces a blank one."""
    return render_template(
        "manage/account.html",
        password_form=password_form or PasswordChangeForm(formdata=None, host=current_user),
        zone_form=zone_form or TimeZoneForm(formdata=None, obj=current_user),
    )


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
@password_check_limit
def change_password():
    form = PasswordChangeForm(host=current_user)
    if not form.validate_on_submit():
        return _account_page(password_form=form), 400
    host = current_user._get_current_object()
    host.set_password(form.new_password.data)
    db.session.commit()
    # The session id carries the password's fingerprint: every other session stops
    # matching, and this one is given the new id.
    login_user(host, remember=False)
    flash("Password changed. Any other browser logged in as you has been logged out.", "success")
    return see_other("manage.account")


@bp.post("/account/timezone")
@login_required
def change_timezone():
    form = TimeZoneForm()
    if not form.validate_on_submit():
        return _account_page(zone_form=form), 400
    current_user.timezone = form.timezone.data
    db.session.commit()
    flash(f"Time zone set to {form.timezone.data}.", "success")
    return see_other("manage.account")


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.", "success")
    return see_other("public.index")
