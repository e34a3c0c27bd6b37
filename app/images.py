"""Images in and out of the `/image` view: the bundled samples, uploads decoded under explicit
limits, and arrays drawn as PNG data URLs. Pillow lives here, never in app/core (which stays
numpy + stdlib); nothing here writes to disk or logs an image.
"""
from __future__ import annotations

import base64
import io
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SAMPLE_DIR = Path(__file__).resolve().parent / "samples"
# name -> (what it shows, credit and licence; app/samples/README.md has the sources)
SAMPLES = {
    "chelsea": ("Chelsea the cat", "Stefan van der Walt, CC0 (via scikit-image)"),
    "coffee": ("A cup of coffee", "Rachel Michetti for Pikolo Espresso Bar, CC0 (via scikit-image)"),
    "astronaut": ("Astronaut Eileen Collins", "NASA, public domain (via scikit-image)"),
}
MAX_SIDE = 256                   # long side of every image the view works on
MAX_UPLOAD_BYTES = 3_000_000     # below the app's 4 MB body limit, so this message is the one people see
# width × height as the file's header declares it, checked before decoding. A JPEG decodes at 1/8 scale
# (draft mode), so a 12-megapixel phone photo is cheap; PNG and WebP decode every pixel (a 4096² WebP
# took 0.95 s here, a 3840 × 2160 one about half that), so they get a 4K screen's worth
MAX_UPLOAD_PIXELS = 4096 * 4096
MAX_LOSSLESS_PIXELS = 3840 * 2160
# the decoders Pillow may use, chosen by the file's first bytes (never by its name or declared type)
FORMATS = {"PNG": "a PNG", "JPEG": "a JPEG", "WEBP": "a WebP"}


class ImageError(ValueError):
    """An upload that cannot be used, with the reason in words a person can act on."""


def sniff(data: bytes) -> str:
    """The format by content: PNG, JPEG or WEBP.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n...")
    'PNG'
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith((b"GIF87a", b"GIF89a")):
        raise ImageError("this is a GIF; the view reads PNG, JPEG or WebP images")
    if not data:
        raise ImageError("the upload is empty; choose a PNG, JPEG or WebP image")
    raise ImageError("this file is not a PNG, JPEG or WebP image (its first bytes are not any of theirs)")


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB on white: transparency composited, palettes, greyscale, 16-bit and CMYK converted."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        back = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(back, im).convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        top = a.max() if a.size and a.max() > 255 else 255
        im = Image.fromarray(np.clip(a * 255 / top, 0, 255).astype(np.uint8), "L")
    return im.convert("RGB")


def decode_upload(data: bytes) -> np.ndarray:
    """An uploaded image as uint8 (height, width, 3), at most MAX_SIDE on its long side.

    Refused before any decoding: too many bytes, a format other than PNG/JPEG/WebP by content,
    a header declaring more than MAX_UPLOAD_PIXELS. Anything Pillow cannot read (corrupt,
    truncated) is an ImageError, never another exception.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"the file has {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}: "
                         "upload a smaller image (it is scaled to 256 px anyway)")
    fmt = sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = im.size
            limit, words = (MAX_UPLOAD_PIXELS, "4096 × 4096") if fmt == "JPEG" else (MAX_LOSSLESS_PIXELS, "3840 × 2160")
            if width < 1 or height < 1 or width * height > limit:
                raise ImageError(f"the image declares {width:,} × {height:,} pixels; the limit for {FORMATS[fmt]} is "
                                 f"{limit:,} pixels ({words}): upload a smaller image")
            if fmt == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale when that still covers MAX_SIDE
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))
            im.load()
            im = ImageOps.exif_transpose(im)
            im = _to_rgb(im)
            im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            rgb = np.asarray(im, dtype=np.uint8)
    except ImageError:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, at open: the header declares far too many pixels
        raise ImageError(f"the image declares more pixels than the limit of {MAX_UPLOAD_PIXELS:,} (4096 × 4096): "
                         "upload a smaller image") from None
    except Exception as e:  # noqa: BLE001 - any decoder failure (OSError, SyntaxError, struct.error…) is the file's
        name = type(e).__name__
        raise ImageError(f"the file looks like {FORMATS[fmt]} image but could not be decoded "
                         f"({name}: it may be truncated or corrupt)") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 1:
        raise ImageError("the image could not be read as RGB pixels")
    return np.ascontiguousarray(rgb)


@lru_cache(maxsize=8)
def _sample_full(name: str) -> np.ndarray:
    with Image.open(SAMPLE_DIR / f"{name}.png", formats=["PNG"]) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.uint8)
    a.flags.writeable = False
    return a


def resize(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """Scale so the long side is ``long_side`` (never up), keeping the aspect ratio (box filter:
    each new pixel is the mean of the old ones it covers)."""
    h, w = rgb.shape[:2]
    if max(h, w) <= long_side:
        return rgb
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb, "RGB").resize(size, Image.Resampling.BOX), dtype=np.uint8)


@lru_cache(maxsize=64)
def sample(name: str, long_side: int) -> np.ndarray:
    """A bundled sample, uint8 (height, width, 3), long side at most ``long_side``."""
    a = resize(_sample_full(name), long_side)
    a.flags.writeable = False
    return a


def photo_png(rgb: np.ndarray) -> bytes:
    """uint8 (h, w, 3) or (h, w) -> PNG bytes, one pixel per value: a photo drawn as itself."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def data_url(png: bytes) -> str:
    """PNG bytes -> a data: URL (the CSP allows data: images): a picture of your upload, which has no URL."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def thumbnail_png(png: bytes, side: int = 48) -> bytes:
    """A PNG scaled down to at most ``side`` pixels on its long side (a deck's thumbnail of your image's pictures,
    which ride in the page: a full copy for each would weigh as much as the page)."""
    with Image.open(io.BytesIO(png), formats=["PNG"]) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side), Image.Resampling.BOX)
        return photo_png(np.asarray(im))


def png_data_url(rgb: np.ndarray) -> str:
    """uint8 (h, w, 3) or (h, w) -> a data: URL of a PNG."""
    return data_url(photo_png(rgb))


# Diverging map centred on zero: blue (negative), near-white (0), red (positive); ColorBrewer RdBu ends
NEG, MID, POS = np.array([33, 102, 172.0]), np.array([247, 247, 247.0]), np.array([178, 24, 43.0])


SLOPES = np.stack([MID - NEG, POS - MID])  # each channel's change per unit of t: below 0, and from 0 up


def diverging(values: np.ndarray, limit: float) -> np.ndarray:
    """float (h, w) -> uint8 (h, w, 3): −limit is full blue, 0 white, +limit full red; beyond is clipped.

    Each channel is MID + slope·t (t = value / limit, clipped to ±1; the slope of t's side), rounded: a channel at a
    time, ~4× faster than both sides' colours for every value (a 256 × 2048 weight matrix: 32 → 7 ms).

    >>> diverging(np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]]), 2.0).tolist()
    [[[33, 102, 172], [194, 211, 228], [247, 247, 247], [230, 191, 196], [178, 24, 43]]]
    """
    t = np.true_divide(values, limit if limit > 0 else 1.0)
    np.clip(t, -1.0, 1.0, out=t)
    side = (t >= 0).view(np.uint8)
    rgb = np.empty((*t.shape, 3), np.uint8)
    for ch in range(3):
        c = SLOPES[:, ch][side]
        c *= t
        c += MID[ch]
        rgb[..., ch] = np.rint(c, out=c)
    return rgb


GAP_RGB = np.array([128, 128, 128], dtype=np.uint8)  # between the depth slices of a 3D picture (NaN there)


def heat_png(picture: np.ndarray, limit: float) -> bytes:
    """float (h, w) -> PNG bytes on the diverging scale ±limit, one pixel per value; NaN (a gap) drawn grey.

    A picture of few distinct values (the views' weights are tenths, their random inputs integers −3..3) is written
    with a palette, one byte per pixel: the same colours, a third of the bytes to compress (a 2,048 × 2,048 weight
    matrix: 400 → 80 ms, 6.1 → 2.6 MB; 256 × 2,048: 44 → 9 ms, 757 → 322 KB).

    >>> few, many = np.array([[0.5, -0.5], [np.nan, 0.5]]), np.array([[0.1, 0.2], [0.3, np.nan]])
    >>> [Image.open(io.BytesIO(heat_png(p, 1.0))).mode for p in (few, many, np.linspace(-1, 1, 600)[None])]
    ['P', 'P', 'RGB']
    >>> np.asarray(Image.open(io.BytesIO(heat_png(few, 1.0))).convert("RGB")).tolist()[1]
    [[128, 128, 128], [212, 136, 145]]
    >>> Image.open(io.BytesIO(heat_png(np.array([[1.0, np.inf, -np.inf]]), 1.0))).mode  # clipped to the scale's ends
    'RGB'
    """
    gap = np.isnan(picture)
    palette = palette_index(picture, gap)
    if palette is None:
        rgb = diverging(np.where(gap, 0.0, picture), limit)
        rgb[gap] = GAP_RGB
        image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    else:  # index i: levels[i]'s colour; the last: a gap's grey
        levels, index = palette
        image = Image.fromarray(index, "P")
        image.putpalette(np.concatenate([diverging(levels, limit), GAP_RGB[None]]).ravel().tolist())
    buf = io.BytesIO()
    # level 1: a 256 × 2048 weight matrix (RGB) encodes in 38 ms instead of 116, and is no larger (757 KB; 991)
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def palette_index(picture: np.ndarray, gap: np.ndarray, most: int = 255) -> tuple[np.ndarray, np.ndarray] | None:
    """(levels, index): the picture's distinct values (gaps left out), sorted, and each pixel's place among them
    (uint8; a gap: len(levels)), when an evenly spaced sample holds at most ``most`` values, on a grid of at most
    4,096 steps (tenths, integers, hundredths…), and every value is one of them; else None. No value is searched
    for or sorted: each finds its grid step by arithmetic, and the answer is checked value for value.

    >>> nan = np.nan
    >>> levels, index = palette_index(np.array([[2.0, -1, 2], [nan, 0, -1]]), np.isnan([[2.0, -1, 2], [nan, 0, -1]]))
    >>> levels.tolist(), index.tolist()
    ([-1.0, 0.0, 2.0], [[2, 0, 2], [3, 1, 0]])
    >>> palette_index(np.arange(300.0)[None], np.zeros((1, 300), bool)) is None  # too many
    True
    >>> palette_index(np.r_[np.zeros(9001), 0.5][None], np.zeros((1, 9002), bool)) is None  # one the sample missed
    True
    """
    sample = picture.ravel()[::max(1, picture.size // 4096)]
    levels = np.unique(sample[~np.isnan(sample)])
    if not 0 < levels.size <= most or not np.isfinite(levels[[0, -1]]).all():  # an infinity has no grid step
        return None
    values = np.where(gap, levels[0], picture) if gap.any() else picture
    step = np.diff(levels).min() if levels.size > 1 else 1
    grid = np.rint((levels - levels[0]) / step).astype(np.intp)
    if grid[-1] >= 4096:
        return None
    place = np.zeros(grid[-1] + 1, np.uint8)
    place[grid] = np.arange(levels.size)
    at = values - levels[0]
    at *= 1 / step
    np.clip(np.rint(at, out=at), 0, grid[-1], out=at)
    index = place[at.astype(np.uint16)]  # (uint16 grid steps: 8 MB for 4M values, not intp's 33 MB)
    if not np.array_equal(levels[index], values):  # a value between the grid's steps, or one the sample missed
        return None
    index[gap] = levels.size
    return levels, index


PHOTO_INPUT = "chelsea"  # the sample an image-like layer's input starts from (/explore's input=photo)


@lru_cache(maxsize=16)
def photo_input(name: str, channels: int, height: int, width: int) -> np.ndarray:
    """A bundled sample as a layer's input: float32 (channels, height, width), values 0..1 in hundredths
    (0 black, 1 full), 3 channels red, green, blue or 1 grey (ITU-R 601 luma, as Pillow's "L").

    The largest centred crop with the layer's aspect ratio, scaled to height × width by Pillow's box filter
    in floating point (each pixel the mean of the photo's pixels it covers; enlarging repeats them). The
    one source of these numbers: the engine, the pictures and the lens all read this array.

    >>> x = photo_input("chelsea", 3, 4, 6)
    >>> x.shape, x.dtype.name, bool(0 <= x.min() and x.max() <= 1), bool(np.allclose(x * 100, (x * 100).round()))
    ((3, 4, 6), 'float32', True, True)
    >>> photo_input("chelsea", 1, 2, 3).astype(np.float64).round(2).tolist()
    [[[0.48, 0.42, 0.45], [0.49, 0.45, 0.53]]]
    """
    if channels not in (1, 3):
        raise ValueError(f"channels: a photo has 1 (grey) or 3 (red, green, blue) channels, got {channels}")
    rgb = _sample_full(name).astype(np.float64)
    src_h, src_w = rgb.shape[:2]
    if src_w * height > src_h * width:  # wider than the layer: crop the sides
        crop_w, crop_h = max(1, round(src_h * width / height)), src_h
    else:
        crop_w, crop_h = src_w, max(1, round(src_w * height / width))
    left, top = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    rgb = rgb[top:top + crop_h, left:left + crop_w]
    planes = [rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114] if channels == 1 else \
        [rgb[..., i] for i in range(3)]
    scaled = [np.asarray(Image.fromarray(p.astype(np.float32), "F").resize((width, height), Image.Resampling.BOX))
              for p in planes]
    x = np.round(np.stack(scaled).astype(np.float64) / 255, 2).astype(np.float32)
    x.flags.writeable = False
    return x
