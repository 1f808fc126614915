"""Hostile uploads: each is refused or cleaned, never stored as sent.

Sent to the online field forms (a patrol check-in, a resident visit: both go through
records.submit_online) and to POST /api/sync/attachments: a 50 MB file, a photo just over the 10 MB
photo limit, a zip (and an HTML page, and a cut-off JPEG) named .jpg, decompression bombs (PNGs that
declare 30000x30000 and 7000x7000 pixels, built small with zlib), and a PNG carrying GPS EXIF, which
is accepted and stored re-encoded as a JPEG without any EXIF. After each refusal the upload folder
and the attachments table are exactly as before, and no record was made.
"""
import hashlib
import io
import os
import struct
import uuid
import zipfile
import zlib
from datetime import datetime, timezone

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from extensions import db
from models import Attachment, CheckIn
from models.visits import Visit
from tests import factories

SYNC_HEADERS = {"X-Requested-With": "pingan-sync"}
POSITION = (35.7986, 112.9237)
MB = 1024 * 1024


# --- hostile files -------------------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height white pixels: megabytes of pixels in a few kB.

    30000x30000 is 900 million pixels (2.7 GB decoded as RGB) from a ~110 kB file.
    """
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    chunks = [packer.compress(row) for _ in range(height)]
    idat = b"".join(chunks) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def zip_named_jpg() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.exe", b"MZ" + os.urandom(2000))
    return out.getvalue()


def png_with_gps() -> bytes:
    """A real PNG photo whose eXIf chunk holds a GPS position (and a camera make); a new colour each
    time, so its cleaned copy is a new file (photos are stored by content hash)."""
    image = Image.new("RGB", (64, 48), tuple(os.urandom(3)))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyPhone"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (35.0, 47.0, 55.0),
                                   ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (112.0, 55.0, 25.0)}
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test PNG must carry GPS"
    return data


def big_jpeg(size: int) -> bytes:
    """A real JPEG padded with a trailing comment-like tail to `size` bytes (a phone photo's size)."""
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, "JPEG")
    return out.getvalue() + os.urandom(size - out.tell())


def cut_off_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, "JPEG")
    return out.getvalue()[: out.tell() // 3]


def test_the_bomb_is_small_and_really_declares_its_size():
    data = png_bomb(30000, 30000)
    assert len(data) < 200_000
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    assert zlib.decompressobj().decompress(data[41:41 + 1000], 10_000_000)[:5] == b"\x00" * 5, "real pixel rows"


# --- where uploads go -----------------------------------------------------------------------------------

@pytest.fixture
def officer(auth, client, station):
    auth.login("demo-officer")
    client.set_cookie("lang", "en")
    return station.officer


@pytest.fixture
def resident(station):
    return factories.make_resident(station.station, factories.make_address(station.station, station.grid_a))


def _check_in(auth, resident, photo: bytes, name: str):
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "lat": str(POSITION[0]), "lon": str(POSITION[1]), "accuracy": "12",
            "photo": (io.BytesIO(photo), name, "image/jpeg")}
    return auth.post("/patrol/check-ins", data, content_type="multipart/form-data")


def _visit(auth, resident, photo: bytes, name: str):
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "subject_type": "resident", "subject_id": str(resident.id), "purpose": "routine", "outcome": "met",
            "lat": str(POSITION[0]), "lon": str(POSITION[1]), "accuracy": "12",
            "photo": (io.BytesIO(photo), name, "image/jpeg")}
    return auth.post("/visits/", data, content_type="multipart/form-data")


def _sync_attachment(auth, resident, photo: bytes, name: str):
    return auth.client.post("/api/sync/attachments", headers=SYNC_HEADERS,
                            data={"client_id": str(uuid.uuid4()), "field": "photo",
                                  "file": (io.BytesIO(photo), name, "image/jpeg")},
                            content_type="multipart/form-data")


TARGETS = {"check-in form": _check_in, "visit form": _visit, "sync attachments": _sync_attachment}


def stored_files(app) -> dict[str, bytes]:
    files = {}
    for folder, _dirs, names in os.walk(app.config["UPLOAD_FOLDER"]):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                files[path] = handle.read()
    return files


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Attachment, CheckIn, Visit))


# --- refused ---------------------------------------------------------------------------------------------

HOSTILE = {
    # name: (bytes factory, file name, status of a form, status of the API, words of the message)
    "50 MB file": (lambda: big_jpeg(50 * MB), "IMG_0001.jpg", 413, 413, "The upload is too large"),
    "11 MB photo": (lambda: big_jpeg(11 * MB), "IMG_0002.jpg", 422, 413, "The photo is too large"),
    "zip named .jpg": (zip_named_jpg, "photo.jpg", 422, 422, "This file is not a photo"),
    "HTML named .jpg": (lambda: b"<html><script>alert(1)</script></html>", "x.jpg", 422, 422,
                        "This file is not a photo"),
    "cut-off JPEG": (cut_off_jpeg, "cut.jpg", 422, 422, "This file is not a photo"),
    "30000x30000 PNG bomb": (lambda: png_bomb(30000, 30000), "bomb.jpg", 422, 422, "too many pixels"),
    "7000x7000 PNG bomb": (lambda: png_bomb(7000, 7000), "bomb.png", 422, 422, "too many pixels"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_upload_is_refused_and_nothing_is_stored(app, auth, officer, resident, target, case):
    """A clear 413/422 with the reason (beside the photo field on a form); no file, no row, no record."""
    make, name, form_status, api_status, message = HOSTILE[case]
    payload = make()
    files_before, counts_before = stored_files(app), counts()
    response = TARGETS[target](auth, resident, payload, name)
    api = target == "sync attachments"
    assert response.status_code == (api_status if api else form_status)
    if api:
        body = response.get_json()
        assert body["error"] and message in body["message"]
    else:
        page = response.get_data(as_text=True)
        assert message in page
        if response.status_code == 422:
            assert 'id="photo-error"' in page, "the message sits beside the photo field"
    assert stored_files(app) == files_before, "nothing was written to the upload folder"
    assert counts() == counts_before, "no attachment row and no record"


# --- cleaned ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_png_with_gps_is_accepted_and_stored_reencoded_without_exif(app, auth, officer, resident, target):
    """The photo is kept, but only as a new JPEG: no EXIF, no GPS, not the bytes that were sent."""
    payload = png_with_gps()
    files_before = stored_files(app)
    response = TARGETS[target](auth, resident, payload, "IMG_0003.png")
    assert response.status_code == (201 if target == "sync attachments" else 303)
    new_files = {p: b for p, b in stored_files(app).items() if p not in files_before}
    assert len(new_files) == 1
    (path, stored), = new_files.items()
    attachment = db.session.scalars(select(Attachment)).one()
    assert stored != payload and b"SpyPhone" not in stored and b"Exif" not in stored
    assert hashlib.sha256(stored).hexdigest() == attachment.sha256 and path.endswith(attachment.sha256 + ".jpg")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and (image.width, image.height) == (64, 48)
        assert len(image.getexif()) == 0 and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in image.info
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/jpeg", 64, 48)
    if target != "sync attachments":
        record = db.session.scalars(select(CheckIn if target == "check-in form" else Visit)).one()
        assert record.photo_id == attachment.id
