"""Photos of field records: cleaned with Pillow, stored by content hash, idempotent by client_id."""
import hashlib
import os
import tempfile

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.images import InvalidImage, clean_photo
from extensions import db
from models import Attachment

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone JPEG is 2-6 MB; the cleaned copy is ~300 kB


class PhotoError(ValueError):
    """A photo that cannot be accepted; `code` is 'too_large' (bytes), 'too_many_pixels', 'not_image'
    or 'format'."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def photo_message(code: str) -> str:
    """The user's-language message for a PhotoError code."""
    from flask_babel import gettext as _

    if code == "too_large":
        return _("The photo is too large (at most 10 MB).")
    if code == "too_many_pixels":
        return _("The picture has too many pixels to be a phone photo (at most 40 megapixels).")
    return _("This file is not a photo (JPEG, PNG or WebP).")


def _path_for(sha256: str) -> str:
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], sha256[:2])
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, sha256 + ".jpg")


def find_attachment(station_id: int, client_id: str, field: str = "photo") -> Attachment | None:
    """The photo already received for this record and field, if any."""
    return db.session.scalars(
        select(Attachment).where(Attachment.station_id == station_id, Attachment.client_id == client_id,
                                 Attachment.field == field)
    ).first()


def record_photo(user, form, field: str = "photo") -> Attachment | None:
    """The photo of the record a validated field form describes.

    Online, the form's own upload, stored by records.submit_online just before (or none: an online
    form without a file has no photo, so nothing is looked up). Synced, the photo the phone uploaded
    before the record, found by the record's client_id.
    """
    if hasattr(form, "stored_photos"):
        return form.stored_photos.get(field)
    return find_attachment(user.station_id, form.client_id.data, field)


def store_photo(user, file_storage, *, client_id: str | None, field: str = "photo") -> Attachment:
    """Clean and store an uploaded photo (not committed); the same client_id + field returns the first."""
    if client_id:
        existing = find_attachment(user.station_id, client_id, field)
        if existing is not None:
            return existing
    data = file_storage.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("too_large")
    try:
        jpeg, width, height = clean_photo(data)
    except InvalidImage as error:
        raise PhotoError(error.code) from None
    digest = hashlib.sha256(jpeg).hexdigest()
    path = _path_for(digest)
    if not os.path.exists(path):
        # A temporary name of its own: two requests may write the same photo at the same moment.
        handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(jpeg)
        os.replace(tmp, path)  # atomic: a crash never leaves half a photo under the final name
    attachment = Attachment(station_id=user.station_id, user_id=user.id, client_id=client_id, field=field,
                            sha256=digest, size=len(jpeg), width=width, height=height)
    try:
        with db.session.begin_nested():
            db.session.add(attachment)
            db.session.flush()
    except IntegrityError:  # the same photo arrived twice at once: keep the first
        return find_attachment(user.station_id, client_id, field)
    return attachment


def attachment_path(attachment: Attachment) -> str:
    return _path_for(attachment.sha256)
