"""The interface languages: every string in the code and templates has a Korean translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def messages(path: Path) -> dict:
    with open(path, "rb") as catalog:
        return {message.id: message.string for message in read_po(catalog) if message.id}


def test_every_interface_string_is_translated_into_korean(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True)
    wanted = messages(pot)
    korean = messages(ROOT / "translations/ko/LC_MESSAGES/messages.po")
    assert len(wanted) > 30
    def translated(msgid) -> bool:
        found = korean.get(msgid) or ""
        return all(found) if isinstance(found, tuple) else bool(found)  # plural forms are tuples

    missing = [msgid for msgid in wanted if not translated(msgid)]
    assert missing == [], "run `make messages` and translate these in translations/ko/LC_MESSAGES/messages.po"


def test_korean_catalog_is_compiled_and_used(client, make_poll):
    make_poll()
    page = client.get("/embed/test-poll?lang=ko").get_data(as_text=True)
    assert "전체 결과" in page and "Full results" not in page
