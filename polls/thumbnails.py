"""Scene thumbnails: the host's upload re-encoded here, so fans' pages load pictures from this site alone.

Whatever the host sends (JPEG, PNG, WebP or GIF, its first frame) is opened with Pillow
only after its size and pixel count are checked, turned upright by its EXIF orientation,
centre-cropped to 16:9 and shrunk to 320×180, then written anew as a small WebP without
any of the original's metadata (camera, place, time).  The bytes live in
``SceneThumbnail``; ``Candidate.thumbnail_digest`` names this version of them, so that
pages can link to it (and caches keep it for ever) without loading the bytes.
"""
import hashlib
import io
import logging
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps

from polls.models import Candidate, SceneThumbnail

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 320, 180
CONTENT_TYPE = "image/webp"
# Lossy WebP at this quality keeps a photo-like still near 10 KB at 320×180.
WEBP_QUALITY = 70
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# The file input's accept attribute: the same formats, for the browser's file picker.
ACCEPT = ",".join(f"image/{name.lower()}" for name in ACCEPTED_FORMATS)
DIGEST_LENGTH = 16


class ThumbnailError(ValueError):
    """The upload cannot be a thumbnail; the message (one line) says why, for the host."""


@dataclass(frozen=True)
class Thumbnail:
    """A finished thumbnail, not yet stored."""

    data: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:DIGEST_LENGTH]


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def make_thumbnail(upload: BinaryIO, *, max_bytes: int | None = None, max_pixels: int | None = None) -> Thumbnail:
    """The thumbnail of an uploaded picture (a FileStorage or any binary file); ThumbnailError
    when it is too big, has too many pixels, or is no picture in an accepted format.

    The limits default to THUMBNAIL_UPLOAD_MAX_BYTES and THUMBNAIL_MAX_PIXELS.
    """
    config = current_app.config
    max_bytes = config["THUMBNAIL_UPLOAD_MAX_BYTES"] if max_bytes is None else max_bytes
    max_pixels = config["THUMBNAIL_MAX_PIXELS"] if max_pixels is None else max_pixels
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ThumbnailError(f"That picture is over {megabytes(max_bytes)}, the most a thumbnail may be: "
                             "upload a smaller one (a screenshot of the scene is plenty).")
    too_many_pixels = ThumbnailError(f"That picture has more than {max_pixels / 1e6:.3g} million pixels: "
                                     "upload a smaller one (a screenshot of the scene is plenty).")
    try:
        # Only the header is read here: nothing is decoded before the pixel count is known.
        image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own ceiling (Image.MAX_IMAGE_PIXELS), past ours; the warning is an error under pytest.
        raise too_many_pixels from None
    except Exception:  # noqa: BLE001 - not an image Pillow knows in these formats
        raise ThumbnailError("That file is not a picture KissPoll can read: "
                             "upload a JPEG, PNG, WebP or GIF image.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise too_many_pixels
    try:
        return _encode(image)
    except Exception as error:  # noqa: BLE001 - Pillow's decoders raise many kinds of error on a broken file
        log.info("thumbnail upload refused: %s: %s", type(error).__name__, error)
        raise ThumbnailError("That picture is damaged or cut short, so it could not be read: "
                             "save it again or upload another.") from None


def _encode(image: Image.Image) -> Thumbnail:
    """Decode (the first frame), turn upright, crop to 16:9, shrink and write as WebP."""
    # A big JPEG is decoded at a fraction of its size when that still covers the thumbnail.
    image.draft("RGB", (WIDTH * 2, WIDTH * 2))
    image = ImageOps.exif_transpose(image)
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if transparent else "RGB")
    image = ImageOps.fit(image, (WIDTH, HEIGHT), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif, icc_profile or xmp given: the new file carries none of the upload's metadata.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=6)
    return Thumbnail(out.getvalue(), WIDTH, HEIGHT)


def store_thumbnail(candidate: Candidate, upload: "BinaryIO | Thumbnail") -> Thumbnail:
    """Give ``candidate`` this thumbnail (not committed): an upload, or a Thumbnail already
    made from one (the desk's form makes it while validating). ThumbnailError as make_thumbnail."""
    thumbnail = upload if isinstance(upload, Thumbnail) else make_thumbnail(upload)
    row = candidate.thumbnail
    if row is None:
        candidate.thumbnail = SceneThumbnail(content_type=CONTENT_TYPE, data=thumbnail.data,
                                             width=thumbnail.width, height=thumbnail.height)
    else:  # updated in place: a new row would share the old one's primary key in the same flush
        row.content_type, row.data = CONTENT_TYPE, thumbnail.data
        row.width, row.height = thumbnail.width, thumbnail.height
    candidate.thumbnail_digest = thumbnail.digest
    return thumbnail


def remove_thumbnail(candidate: Candidate) -> None:
    """Take ``candidate``'s thumbnail away (not committed)."""
    candidate.thumbnail = None  # delete-orphan deletes the row
    candidate.thumbnail_digest = ""


def copy_thumbnail(source: Candidate, target: Candidate) -> None:
    """Give ``target`` a copy of ``source``'s thumbnail, if it has one (not committed)."""
    row = source.thumbnail
    if row is not None:
        target.thumbnail = SceneThumbnail(content_type=row.content_type, data=row.data,
                                          width=row.width, height=row.height)
        target.thumbnail_digest = source.thumbnail_digest
