"""Uploaded images: decoded once here, checked against decompression bombs, turned upright and
stripped of metadata before anything stores or embeds them.

Every path that keeps an image (PDF scans, chat attachments, pick-up photos) calls
``clean_image``; ``check_image`` is the upload check that promises that it will work.
No process-wide state: the pixel limit is checked per image, Pillow's global limit stays the host's.
"""

from __future__ import annotations

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from .errors import ServiceError

MAX_IMAGE_PIXELS = 40_000_000  # ~ a 7,000 × 5,700 scan; beyond that: a decompression bomb


class ImageRefused(ServiceError):
    """An image that cannot be decoded safely; the message names the file."""


def open_image(data: bytes, *, name: str = "") -> Image.Image:
    """The decoded image, or ImageRefused for a bomb or a broken file (a decoder may raise anything)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError(f"{image.width}x{image.height}")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(_("Das Bild „%(name)s“ ist zu groß (zu viele Bildpunkte).") % {"name": name}) from exc
    except Exception as exc:  # noqa: BLE001 - a crafted image may raise anything from a decoder
        raise ImageRefused(_("Das Bild „%(name)s“ ist beschädigt oder unvollständig.") % {"name": name}) from exc
    return image


def without_metadata(image: Image.Image) -> Image.Image:
    """The pixels only. Pillow writes a JPEG comment (COM) and a PNG ICC profile from `image.info`
    when saving, even into a new file: they would carry whatever the upload smuggled in them."""
    image.info = {}
    return image


def upright(data: bytes, *, name: str = "", rgb: bool = True) -> Image.Image:
    """Decoded, turned as its EXIF orientation says, in RGB (for JPEG and PDF), without metadata."""
    image = ImageOps.exif_transpose(open_image(data, name=name))
    return without_metadata(image.convert("RGB") if rgb else image)


def check_image(data: bytes, *, name: str, expected_format: str) -> None:
    """Decoded completely and turned upright once, as every storing path does; of the type it claims."""
    try:
        upright(data, name=name)
    except ImageRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a transpose of a crafted image may fail as well
        raise ImageRefused(_("Das Bild „%(name)s“ ist beschädigt oder unvollständig.") % {"name": name}) from exc
    if Image.open(io.BytesIO(data)).format != expected_format:
        raise ImageRefused(_("„%(name)s“ ist keine PDF-, JPEG- oder PNG-Datei.") % {"name": name})


def clean_image(data: bytes, *, output: str, max_side: int | None = None, quality: int = 90,
                min_side: int = 0, name: str = "") -> bytes:
    """The image re-encoded as `output` ("JPEG", "PNG" or "PDF") from its pixels only: EXIF (location,
    camera), comments and profiles are gone. `min_side`/`max_side` refuse or shrink by pixel size."""
    image = upright(data, name=name, rgb=output != "PNG")
    if min_side and min(image.size) < min_side:
        raise ImageRefused(_("Das Foto ist zu klein: mindestens %(px)s Bildpunkte je Seite.") % {"px": min_side})
    if max_side:
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    if output == "JPEG":
        image.save(buffer, format="JPEG", quality=quality, optimize=True)  # no exif= argument: no metadata
    elif output == "PDF":
        image.save(buffer, format="PDF", resolution=150.0)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()
