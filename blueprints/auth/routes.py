"""Views for logging in and out."""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth import bp, services
from blueprints.auth.forms import LoginForm, PasswordChangeForm
from config import Config
from extensions import db, limiter
from models import audit
from web import render, see_other


def _login_rate_key() -> str:
    """Limit per account and address: carrier NAT puts many phones behind one IP."""
    login = (request.form.get("login") or "").strip().lower()[:40]
    return f"{login}|{request.remote_addr}"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.get("/login")
def login():
    """Show the login form (or go home when already logged in)."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render("auth/login.html", form=LoginForm())


@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_rate_key, methods=["POST"])
def create_session():
    """Check the credentials and start a session."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render("auth/login.html", "auth/_login_form.html", form=form, status=422)
    user, reason = services.authenticate(form.login.data, form.password.data)
    if user is None:
        form.form_errors.append(_refusal_message(reason))
        return render("auth/login.html", "auth/_login_form.html", form=form, status=401)
    # A new session: nothing of the anonymous one (its CSRF token, a planted value) carries over.
    session.clear()
    login_user(user)
    target = _safe_next(session.pop("next", None))
    return see_other(target)


def _refusal_message(reason: str) -> str:
    if reason == "locked":
        return _("This account is locked after too many failed logins. Ask your station leader to unlock it.")
    if reason == "inactive":
        return _("This account is deactivated. Ask your station leader.")
    return _("Wrong username, badge number or password.")


@bp.post("/logout")
@login_required
def logout():
    """End the session; the page then asks the service worker to clear its caches."""
    audit("logout")
    db.session.commit()
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login", bye=1), code=303)
    # Browsers drop every cache and storage of this origin on this header (the outbox survives
    # because "storage" is not listed: queued field records must never be lost on logout).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.post("/language")
def set_language():
    """Switch language; remembered in a cookie and, when logged in, on the account."""
    lang = request.form.get("lang")
    if lang not in Config.LANGUAGES:
        lang = Config.BABEL_DEFAULT_LOCALE
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    response = redirect(_safe_next(request.form.get("next")), code=303)
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@bp.get("/password")
@login_required
def password():
    """Show the change-password form."""
    return render("auth/password.html", form=PasswordChangeForm())


@bp.post("/password")
@login_required
def update_password():
    """Change one's own password, then log in again with the new one."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if current_user.check_password(form.current.data):
            services.change_password(current_user, form.new.data)
            login_user(current_user._get_current_object())  # this session goes on, new version
            flash(_("Password changed. Other devices have been logged out."), "success")
            return redirect(url_for("home.index"), code=303)
        form.current.errors.append(_("The current password is wrong."))
    return render("auth/password.html", "auth/_password_form.html", form=form, status=422)
