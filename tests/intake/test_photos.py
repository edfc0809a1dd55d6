"""process_photo: format by content, bombs and junk refused before decoding, EXIF GPS/time read, metadata
stripped, orientation applied, thumbnails. Images are made here with Pillow; no database."""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from datetime import datetime

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational

from gridgis.intake.photos import MAX_SIDE, MIN_SIDE, THUMB_SIDE, PhotoError, ProcessedPhoto, process_photo

ANSHAN = (122.993456, 41.109876)  # (lon, lat) near 鞍山站
SECRETS = (b"SecretCam", b"SN-0042-SECRET", b"XMP-SECRET", b"COMMENT-SECRET", b"TEXT-SECRET")
RED, BLUE = (220, 20, 20), (20, 20, 220)


# --- building test images -------------------------------------------------------------------------


def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Decimal degrees → EXIF (degrees, minutes, seconds) rationals, seconds to 1e-4″ (3e-8°)."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = ((value - degrees) * 60 - minutes) * 60
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(round(seconds * 10_000), 10_000)


def make_exif(lon: float | None = None, lat: float | None = None, *, lon_ref: str = "E", lat_ref: str = "N",
              orientation: int = 1, taken: str | None = "2024:05:01 09:30:15", offset: str | None = None,
              gps: dict | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    details = {ExifTags.Base.BodySerialNumber: "SN-0042-SECRET"}
    if taken:
        details[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    exif[ExifTags.IFD.Exif] = details
    if gps is None and lon is not None and lat is not None:
        gps = {ExifTags.GPS.GPSLatitudeRef: lat_ref, ExifTags.GPS.GPSLatitude: dms(lat),
               ExifTags.GPS.GPSLongitudeRef: lon_ref, ExifTags.GPS.GPSLongitude: dms(lon)}
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    return exif


def two_halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Top half red, bottom half blue: shows where the top ended up after rotation."""
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0], size[1] // 2))
    return im.convert(mode)


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    im.save(out, format=fmt, **options)
    return out.getvalue()


def anshan_jpeg(size: tuple[int, int] = (400, 300), **exif_options) -> bytes:
    exif = make_exif(*ANSHAN, **exif_options)
    return encode(two_halves(size), "JPEG", exif=exif, xmp=b"<x:xmpmeta>XMP-SECRET</x:xmpmeta>",
                  comment=b"COMMENT-SECRET", quality=90)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height but carries a handful of bytes: the bomb's header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 dimensions rewritten."""
    data = bytearray(encode(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# --- reading containers back, to prove what the output holds --------------------------------------


def jpeg_markers(data: bytes) -> list[int]:
    """Marker bytes of the segments before the scan (APPn, COM, DQT, SOF, DHT…)."""
    markers, pos = [], 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kinds.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return kinds


def webp_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 12
    while pos < len(data):
        length = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        kinds.append(data[pos:pos + 4])
        pos += 8 + length + (length & 1)
    return kinds


def assert_no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif()
        assert "exif" not in im.info
        assert "xmp" not in im.info
        assert "comment" not in im.info
    assert b"Exif\x00\x00" not in data
    for secret in SECRETS:
        assert secret not in data


def assert_thumbnail(photo: ProcessedPhoto) -> Image.Image:
    assert_no_metadata(photo.thumbnail)
    with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
        assert thumb.format == photo.thumbnail_format.upper() == "JPEG"
        assert max(thumb.size) == min(THUMB_SIDE, max(photo.width, photo.height))
        thumb.load()
        return thumb


# --- accepted photos ------------------------------------------------------------------------------


def test_jpeg_from_a_phone_gps_time_and_nothing_else_kept():
    photo = process_photo(anshan_jpeg(), filename="IMG_0001.JPG")

    assert (photo.format, photo.extension, photo.width, photo.height) == ("jpeg", "jpg", 400, 300)
    assert photo.gps == pytest.approx(ANSHAN, abs=1e-6)
    assert photo.taken_at == datetime(2024, 5, 1, 9, 30, 15)
    assert_no_metadata(photo.content)
    assert 0xE1 not in jpeg_markers(photo.content)  # no APP1 at all: neither EXIF nor XMP
    assert 0xFE not in jpeg_markers(photo.content)  # no comment
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.format == "JPEG"
        assert out.getpixel((200, 50)) == pytest.approx(RED, abs=12)
    assert_thumbnail(photo)


@pytest.mark.parametrize(("lat_ref", "lon_ref", "expected"), [
    ("N", "E", (122.99, 41.11)),
    ("S", "E", (122.99, -41.11)),
    ("N", "W", (-122.99, 41.11)),
    ("S", "W", (-122.99, -41.11)),
])
def test_gps_hemispheres(lat_ref, lon_ref, expected):
    exif = make_exif(122.99, 41.11, lat_ref=lat_ref, lon_ref=lon_ref)
    photo = process_photo(encode(Image.new("RGB", (8, 8)), "JPEG", exif=exif))
    assert photo.gps == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("gps", "why"), [
    ({1: "N", 2: dms(0), 3: "E", 4: dms(0)}, "0,0 is what a camera without a fix writes"),
    ({1: "N", 2: dms(95.5), 3: "E", 4: dms(122.99)}, "latitude out of range"),
    ({1: "N", 2: dms(41.11), 3: "E", 4: dms(190.0)}, "longitude out of range"),
    ({1: "N", 2: (IFDRational(41, 0), IFDRational(6, 1), IFDRational(0, 1)), 3: "E", 4: dms(122.99)},
     "0/0 rational is NaN"),
    ({1: "N", 2: dms(41.11), 3: "E", 4: dms(122.99), 9: "V"}, "GPSStatus V: measurement void"),
    ({1: "N", 2: dms(41.11)}, "no longitude"),
])
def test_invalid_gps_is_ignored(gps, why):
    photo = process_photo(encode(Image.new("RGB", (8, 8)), "JPEG", exif=make_exif(gps=gps)))
    assert photo.gps is None, why


def test_taken_at_moves_to_shanghai_time_when_the_offset_is_known():
    photo = process_photo(anshan_jpeg(offset="+09:00"))  # taken in Tokyo at 09:30 is 08:30 in 鞍山
    assert photo.taken_at == datetime(2024, 5, 1, 8, 30, 15)
    assert process_photo(anshan_jpeg(taken="    :  :     :  :  ")).taken_at is None
    assert process_photo(anshan_jpeg(taken=None)).taken_at is None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_costs_the_metadata_not_the_photo():
    data = encode(Image.new("RGB", (8, 8), RED), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\xff\xff junk")
    photo = process_photo(data)
    assert (photo.gps, photo.taken_at) == (None, None)
    assert_no_metadata(photo.content)


@pytest.mark.parametrize(("orientation", "red_side"), [(6, "right"), (8, "left")])
def test_orientation_is_applied(orientation, red_side):
    """A phone held upright stores a landscape sensor image plus "rotate"; here a tall image with
    orientation 6 (or 8) must come out wide, its top (red) turned to the right (or left)."""
    data = encode(two_halves((60, 100)), "JPEG", exif=make_exif(*ANSHAN, orientation=orientation))
    photo = process_photo(data)

    assert (photo.width, photo.height) == (100, 60)
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.size == (100, 60)
        assert not out.getexif()  # no orientation tag left to rotate it a second time
        left, right = out.getpixel((10, 30)), out.getpixel((90, 30))
    assert (left, right)[red_side == "right"] == pytest.approx(RED, abs=12)
    assert (left, right)[red_side == "left"] == pytest.approx(BLUE, abs=12)
    assert assert_thumbnail(photo).size == (100, 60)


def test_png_stays_png_with_its_transparency_and_without_text_or_exif():
    im = two_halves((64, 48), "RGBA")
    im.putpixel((0, 0), (0, 0, 0, 0))
    info = PngInfo()
    info.add_text("Author", "TEXT-SECRET")
    photo = process_photo(encode(im, "PNG", exif=make_exif(*ANSHAN), pnginfo=info))

    assert (photo.format, photo.extension, photo.width, photo.height) == ("png", "png", 64, 48)
    assert photo.gps == pytest.approx(ANSHAN, abs=1e-6)
    assert set(png_chunks(photo.content)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert_no_metadata(photo.content)
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((0, 0))[3] == 0
    assert assert_thumbnail(photo).getpixel((0, 47)) == pytest.approx(BLUE, abs=12)


def test_opaque_rgba_screenshot_loses_only_the_useless_alpha():
    photo = process_photo(encode(two_halves((64, 48), "RGBA"), "PNG"))
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.mode == "RGB"
        assert out.getpixel((0, 47)) == BLUE


def test_rgb_colour_profile_is_kept_and_a_cmyk_one_is_not():
    """Phones tag photos as Display P3: without the profile colours would look washed out."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = process_photo(encode(two_halves((64, 48)), "JPEG", icc_profile=srgb, exif=make_exif(*ANSHAN)))
    for data in (photo.content, photo.thumbnail):
        with Image.open(io.BytesIO(data)) as out:
            assert out.info.get("icc_profile") == srgb
    cmyk_profile = srgb[:16] + b"CMYK" + srgb[20:]  # only the header's colour space matters here
    photo = process_photo(encode(Image.new("CMYK", (32, 32)), "JPEG", icc_profile=cmyk_profile))
    with Image.open(io.BytesIO(photo.content)) as out:
        assert (out.mode, out.info.get("icc_profile")) == ("RGB", None)


def test_webp_stays_webp_without_exif_or_xmp():
    data = encode(two_halves((64, 48)), "WEBP", exif=make_exif(*ANSHAN), xmp=b"<x>XMP-SECRET</x>", quality=90)
    photo = process_photo(io.BytesIO(data))  # a file-like works as well as bytes

    assert (photo.format, photo.extension) == ("webp", "webp")
    assert photo.gps == pytest.approx(ANSHAN, abs=1e-6)
    assert photo.content[8:12] == b"WEBP"
    assert not {b"EXIF", b"XMP "} & set(webp_chunks(photo.content))
    assert_no_metadata(photo.content)
    assert_thumbnail(photo)


def test_mpo_from_a_dual_camera_phone_is_a_jpeg_with_one_frame():
    first, second = two_halves((64, 48)), Image.new("RGB", (64, 48))
    data = encode(first, "MPO", save_all=True, append_images=[second], exif=make_exif(*ANSHAN))
    photo = process_photo(data)
    assert (photo.format, photo.extension) == ("jpeg", "jpg")
    assert photo.gps == pytest.approx(ANSHAN, abs=1e-6)
    assert 0xE2 not in jpeg_markers(photo.content)  # no MPF index (nor an ICC profile: the source had none)
    assert_no_metadata(photo.content)


@pytest.mark.parametrize("mode", ["P", "L", "LA", "I;16", "1"])
def test_unusual_png_modes_go_through(mode):
    im = two_halves((3000, 40), "RGB").convert(mode) if mode != "I;16" else Image.new("I;16", (3000, 40), 40000)
    photo = process_photo(encode(im, "PNG"))
    assert max(photo.width, photo.height) <= MAX_SIDE
    assert_thumbnail(photo)
    if mode == "I;16":  # brought to 8 bits by scaling, not clipping: 40000/65535 of white
        with Image.open(io.BytesIO(photo.content)) as out:
            assert (out.mode, out.getpixel((5, 5))) == ("L", 40000 // 257)


def test_cmyk_jpeg_comes_out_rgb():
    photo = process_photo(encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG"))
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.mode == "RGB"
        assert out.getpixel((16, 16)) == pytest.approx((255, 0, 0), abs=12)
    assert_thumbnail(photo)


def test_big_photo_is_downscaled_and_thumbnailed():
    photo = process_photo(anshan_jpeg((5000, 3000)))
    assert MIN_SIDE <= photo.width <= MAX_SIDE
    assert photo.height == pytest.approx(photo.width * 3 / 5, abs=1)
    with Image.open(io.BytesIO(photo.content)) as out:
        assert out.size == (photo.width, photo.height)
    assert assert_thumbnail(photo).size == (THUMB_SIDE, 192)
    assert photo.gps == pytest.approx(ANSHAN, abs=1e-6)


def test_output_is_deterministic():
    """The API hashes photo content for Idempotency-Key checks: a retry must produce the same bytes."""
    data = anshan_jpeg((1200, 900))
    first, second = process_photo(data), process_photo(data)
    assert (first.content, first.thumbnail) == (second.content, second.thumbnail)


def test_typical_phone_photo_is_fast():
    """4000×3000 JPEG (≈3 MB): libjpeg decodes at 1/2 scale straight to 2000×1500, no resampling."""
    noise = Image.effect_noise((1000, 750), 40).resize((4000, 3000), Image.Resampling.BICUBIC)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    data = encode(Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5))), "JPEG", quality=92)

    timings = []
    for _ in range(2):
        start = time.perf_counter()
        photo = process_photo(data)
        timings.append(time.perf_counter() - start)
    assert (photo.width, photo.height) == (2000, 1500)
    assert min(timings) < 1.0, timings  # ≈0.1 s on our 2-core machine; generous for loaded CI


# --- refused input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "code", "words"), [
    (encode(Image.new("RGB", (8, 8)), "GIF"), "unsupported", "GIF is not accepted: JPEG, PNG or WebP"),
    (encode(Image.new("RGB", (8, 8)), "BMP"), "unsupported", "BMP is not accepted"),
    (encode(Image.new("RGB", (8, 8)), "TIFF"), "unsupported", "TIFF is not accepted"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "unsupported", "HEIC is not accepted"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "unsupported", "SVG"),
    ("BMW 停在人行道上，举报".encode(), "not_image", "not an image"),  # starts like a BMP, is not one
    (b"", "empty", "empty file"),
    (anshan_jpeg()[:600], "corrupt", "truncated or corrupt image"),
    (anshan_jpeg()[:-200], "corrupt", "truncated or corrupt image"),
    (encode(Image.new("RGB", (64, 64)), "PNG")[:-30], "corrupt", "truncated or corrupt image"),
    (b"\xff\xd8\xff\xe0 not really", "corrupt", "truncated or corrupt image"),
], ids=["gif", "bmp", "tiff", "heic", "svg", "text", "empty", "jpeg-head-only", "jpeg-truncated",
        "png-truncated", "jpeg-magic-only"])
def test_refused_with_the_reason(data, code, words):
    with pytest.raises(PhotoError, match=words) as caught:
        process_photo(data, filename="photo.jpg")  # the name says JPEG: it is not believed
    assert caught.value.code == code
    assert caught.value.filename == "photo.jpg"
    assert str(caught.value) == caught.value.reason


def test_file_over_the_byte_limit_is_refused_without_reading_it_all():
    class Endless(io.RawIOBase):
        """A stream of JPEG-looking bytes that never ends, counting what is read from it."""

        read_total = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            n = min(len(buffer), 4096)  # short reads, as a socket gives
            buffer[:n] = b"\xff" * n
            self.read_total += n
            return n

    stream = Endless()
    with pytest.raises(PhotoError, match="larger than 10 MB") as caught:
        process_photo(stream)
    assert caught.value.code == "too_large"
    assert stream.read_total == 10 * 1024 * 1024 + 1

    with pytest.raises(PhotoError, match="larger than 1 KB"):
        process_photo(anshan_jpeg(), max_bytes=1024)


@pytest.mark.parametrize(("data", "words"), [
    (png_declaring(50_000, 50_000), "decompression bomb"),  # beyond Pillow's own limit: its error, translated
    (png_declaring(8_000, 6_000), "image of 8000×6000 pixels exceeds the limit of 40 megapixels"),
    (jpeg_declaring(60_000, 60_000), "decompression bomb"),
    (jpeg_declaring(7_000, 7_000), "image of 7000×7000 pixels exceeds the limit"),
], ids=["png-2.5G", "png-48M", "jpeg-3.6G", "jpeg-49M"])
def test_decompression_bomb_refused_before_decoding(monkeypatch, data, words):
    def no_decoding(self):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    start = time.perf_counter()
    with pytest.raises(PhotoError, match=words) as caught:
        process_photo(data)
    assert time.perf_counter() - start < 0.2
    assert caught.value.code == "bomb"
    assert "decompression bomb" in caught.value.reason
    assert len(data) < 1000


def test_pixel_limit_is_the_callers():
    with pytest.raises(PhotoError, match=re.escape("exceeds the limit of 0.1 megapixels")):
        process_photo(anshan_jpeg((400, 300)), max_pixels=100_000)
    assert process_photo(anshan_jpeg((400, 300)), max_pixels=120_000).width == 400
