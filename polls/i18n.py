"""Interface languages: English (the source strings) and Korean, via Flask-Babel.

The catalogs live in ``translations/<lang>/LC_MESSAGES/messages.po`` and are
compiled to ``.mo`` by ``make`` (``pybabel compile``). A page's language is the
``lang`` query parameter when it names a supported language, else English; the
widget is chosen this way by the host who embeds it, so a cached widget never
depends on the reader's headers.
"""
from flask import request
from flask_babel import get_locale

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"


def select_locale() -> str:
    lang = request.args.get("lang", "").strip().lower()  # as polls.widgets reads it
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def N_(text: str) -> str:
    """Mark a string for the catalogs where it is defined; it is translated where shown
    (e.g. ``{{ _(METHOD_NAMES[method]) }}``), in the reader's language, not the counter's."""
    return text


def scene_title(candidate) -> str:
    """The scene's title in the page's language: the host's Korean title on Korean pages."""
    if candidate.title_ko and get_locale() is not None and get_locale().language == "ko":
        return candidate.title_ko
    return candidate.title
