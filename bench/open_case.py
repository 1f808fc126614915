"""Open one missing-person case on the bench database, the way an officer does, and print its id.

Run by bench/run.py as a child process after the seed (the demo leaves no case open, so without
this the bench would never time the banner with an open case or a case page):
`python bench/open_case.py`, with DATABASE_URL and the rest of the bench environment set.
The officer opens /missing/new and posts the report form (CSRF token, client_id and recorded_at
as the page gives them) near the demo station's centre; the case page's id is printed as JSON.
"""
import html
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from queries import login  # noqa: E402

# Where the demo station is (bench/run.py's /visits/plan position); the case is reported near it.
NEAR = (35.7991, 112.9507)
INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def form_values(page: str) -> dict:
    """The name -> value of every <input> with a value on the page (hidden fields included)."""
    values = {}
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        if "name" in attrs and "value" in attrs:
            values[attrs["name"]] = html.unescape(attrs["value"])
    return values


def main(officer: str) -> None:
    from app import create_app

    app = create_app()
    client = login(app, officer)
    page = client.get("/missing/new")
    if page.status_code != 200:
        raise SystemExit(f"/missing/new answered {page.status_code}")
    values = form_values(page.get_data(as_text=True))
    data = {name: values[name] for name in ("csrf_token", "client_id", "recorded_at", "last_seen_at")}
    data.update(name="测试走失", sex="male", age="78", risk="dementia", last_seen_place="城东菜市场",
                clothing="蓝色外套", lat=str(NEAR[0]), lon=str(NEAR[1]))
    response = client.post("/missing/", data=data)
    match = re.search(r"/missing/(\d+)", response.headers.get("Location", ""))
    if response.status_code != 303 or not match:
        raise SystemExit(f"reporting the case failed: HTTP {response.status_code}")
    print(json.dumps({"case_id": int(match.group(1))}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "demo-officer")
