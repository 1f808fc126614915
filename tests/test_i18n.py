"""Every user-facing string has a Chinese translation (Chinese is the default UI)."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
METHOD_MAP = [
    ("*.py", "python"), ("blueprints/**.py", "python"), ("domain/**.py", "python"),
    ("models/**.py", "python"), ("templates/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS,
        directory_filter=lambda d: not any(p in d for p in (".venv", "node_modules", "tests", "bench")),
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation():
    with open(ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else m.string[0]) and "fuzzy" not in m.flags
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, "untranslated (run `make i18n-update` and translate): " + "; ".join(missing[:20])


def test_every_form_field_has_its_own_label():
    """A field without a label gets one made through WTForms' own catalogue, which is then read from
    disk on every request that builds the form (about 0.5 ms of each such page or POST)."""
    import importlib

    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    for forms_module in sorted(ROOT.glob("blueprints/*/forms.py")):
        importlib.import_module(f"blueprints.{forms_module.parent.name}.forms")
    forms, pending = set(), [FlaskForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            forms.add(sub)
            pending.append(sub)
    unlabelled = sorted(f"{form.__module__}.{form.__name__}.{name}"
                        for form in forms if form.__module__.startswith("blueprints.")
                        for name in dir(form) if isinstance(getattr(form, name), UnboundField)
                        and not (getattr(form, name).args or getattr(form, name).kwargs.get("label")))
    assert len(forms) > 10 and not unlabelled, unlabelled
