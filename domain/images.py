"""Photo cleaning: decode with limits, re-encode as JPEG without EXIF/GPS, bounded size."""
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# A phone photo is ~12 MP; anything far beyond that is a decompression bomb, not evidence.
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600  # px: enough to recognise a face or a door number, small enough for 3G
JPEG_QUALITY = 80
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


class InvalidImage(ValueError):
    """The bytes are not an acceptable image; `code` is 'not_image', 'too_many_pixels' or 'format'."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean_photo(data: bytes) -> tuple[bytes, int, int]:
    """Return (jpeg_bytes, width, height): decoded, oriented, shrunk, EXIF and GPS dropped.

    Saving without `exif=` writes no EXIF at all, so GPS tags never survive; the original EXIF is
    only used (by exif_transpose) to turn the picture upright.
    """
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise InvalidImage("format")
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidImage("too_many_pixels")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidImage("not_image") from None
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), image.width, image.height
