"""Interface languages: English (the source strings) and Korean, via Flask-Babel.

The catalogs live in ``translations/<lang>/LC_MESSAGES/messages.po`` and are
compiled to ``.mo`` by ``make`` (``pybabel compile``).

A page's language is, in order: the ``lang`` query parameter when it names a
supported language; the ``lang`` cookie set by the language switch
(``GET /language/<code>``, polls.language); the best match of the browser's
``Accept-Language``; else English. A page whose language was negotiated that
way says ``Vary: Accept-Language, Cookie``. Frameable views (widgets, oEmbed)
read only ``?lang=``: the host who embeds one chooses its language, so a
cached widget never depends on the reader's headers or cookies.
"""
from collections import Counter
from typing import Any

from flask import g, has_request_context, request
from flask_babel import get_locale

from polls.security import _is_frameable
from polls.tally import RESERVED_NAMES

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"  # set by the language switch (polls.language)


def _supported(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else None


def select_locale() -> str:
    """The request's language (see the module docstring); English outside a request (the CLI)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = _supported(request.args.get("lang"))  # as polls.widgets reads it
    if chosen or _is_frameable():
        return chosen or DEFAULT_LANGUAGE
    # From here on the answer depends on these headers, even when it is English.
    g.language_negotiated = True
    return _supported(request.cookies.get(COOKIE)) or _browser_language() or DEFAULT_LANGUAGE


def _browser_language() -> str | None:
    """The first supported language in Accept-Language, by quality. Werkzeug's best_match
    prefers any exact match, so "en-US,ko;q=0.5" would read as Korean: compare primary tags."""
    for tag, quality in request.accept_languages:  # best quality first
        primary = _supported(tag.replace("_", "-").split("-")[0])
        if primary and quality > 0:
            return primary
    return None


def vary_on_negotiated_language(response):
    """Tell caches the page differs by Accept-Language and the switch's cookie (merged into any Vary)."""
    if g.get("language_negotiated"):
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def current_language() -> str:
    """The page's language code ("en" or "ko"), e.g. for ``<html lang>``."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def N_(text: str) -> str:
    """Mark a string for the catalogs where it is defined; it is translated where shown
    (e.g. ``{{ _(METHOD_NAMES[method]) }}``), in the reader's language, not the counter's."""
    return text


def scene_title(candidate) -> str:
    """The scene's title in the page's language: the host's Korean title on Korean pages."""
    if candidate.title_ko and current_language() == "ko":
        return candidate.title_ko
    return candidate.title


def display_titles(candidates) -> dict[str, str]:
    """English title -> the title to show (``scene_title``), for the scenes of one count.

    Where two scenes would show the same title (or one would show a word of the count's
    report), those keep their English titles: renaming must never merge two rows."""
    shown = {candidate.title: scene_title(candidate) for candidate in candidates}
    while True:
        uses = Counter(shown.values())
        clashes = [title for title, name in shown.items()
                   if name != title and (uses[name] > 1 or name.lower() in RESERVED_NAMES)]
        if not clashes:
            return shown
        for title in clashes:  # each pass restores at least one English (unique) title
            shown[title] = title


def localized_results(results: dict, candidates) -> dict:
    """A copy of ``results`` (polls.results) with every scene named in the page's language;
    the count itself is untouched. Tie-break explanations are the engine's English prose
    and stay as they are."""
    names = display_titles(candidates)
    if all(name == title for title, name in names.items()):
        return results

    def name(value: Any) -> Any:
        return names.get(value, value) if isinstance(value, str) else value

    def keys(mapping: Any) -> Any:
        return {name(key): value for key, value in mapping.items()} if isinstance(mapping, dict) else mapping

    def renamed(entry: Any, fields: tuple[str, ...]) -> Any:
        if not isinstance(entry, dict):
            return entry
        return {**entry, **{field: name(entry[field]) for field in fields if field in entry}}

    def tally_result(entry: Any) -> Any:
        entry = renamed(entry, ("elected", "eliminated"))
        if isinstance(entry, dict) and "transfers" in entry:
            entry["transfers"] = keys(entry["transfers"])
        return entry

    def tie(entry: Any) -> Any:
        if not isinstance(entry, dict) or not isinstance(entry.get("tied"), list):
            return entry
        return {**entry, "tied": [name(n) for n in entry["tied"]]}

    out = dict(results)
    out["winners"] = [name(n) for n in results.get("winners", [])]
    out["ranking"] = [name(n) for n in results.get("ranking", [])]
    out["leaderboard"] = [renamed(row, ("title",)) for row in results.get("leaderboard", [])]
    out["rounds"] = [{**r, "tally": keys(r.get("tally", {})),
                      "tallyResults": [tally_result(e) for e in r.get("tallyResults", [])]}
                     for r in results.get("rounds", [])]
    out["tie_breaks"] = [tie(t) for t in results.get("tie_breaks", [])]
    for field in ("pairwise", "strongestPaths"):
        if isinstance(results.get(field), dict):
            out[field] = {name(a): keys(row) for a, row in results[field].items()}
    if "scores" in results:
        out["scores"] = keys(results["scores"])
    for field in ("lockedPairs", "skippedPairs"):
        if isinstance(results.get(field), list):
            out[field] = [renamed(pair, ("winner", "loser")) for pair in results[field]]
    if "condorcetWinner" in results:
        out["condorcetWinner"] = name(results["condorcetWinner"])
    if "unresolvedTie" in results:
        out["unresolvedTie"] = tie(results["unresolvedTie"])
    return out
