"""Flask extensions, created once here and bound to the app in create_app().

Nothing in this module imports the app, so models and blueprints can import it freely.
"""
from flask import has_request_context, request
from flask_babel import Babel, Domain
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base whose constraints have stable names (Alembic batch mode needs them)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the request's catalogue found once per request.

    Flask-Babel looks up the context, the locale and its cache again for every word (~7 µs): a page
    of fifty rows asks for a hundred words. The locale is settled at the first word of a request (the
    app never changes it mid-request), so its catalogue is kept on the request. Outside a request
    (the command line, jobs) every word is looked up as before.
    """

    def get_translations(self):
        if not has_request_context():
            return super().get_translations()
        try:
            return request.pingan_translations
        except AttributeError:
            translations = request.pingan_translations = super().get_translations()
            return translations


babel = Babel()
babel.domain_instance = RequestDomain()  # Flask-Babel's default domain ("messages"), looked up per request
htmx = HTMX()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// or redis://), set in config.py.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
