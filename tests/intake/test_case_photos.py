"""Reports with photos from a phone: multipart upload, EXIF GPS used when there is no location, EXIF gone."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgis.cases.models import Case, CasePhoto

from .conftest import EAST, WEST, point

URL = "/api/v1/cases/"


def _rational(value: float):
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * 10000)
    return ((degrees, 1), (minutes, 1), (seconds, 10000))


def phone_jpeg(lon: float, lat: float, size=(1200, 900)) -> bytes:
    """A JPEG as a phone writes it: GPS position and camera details in EXIF."""
    image = Image.new("RGB", size, (120, 160, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", tuple(n / d for n, d in _rational(lat))
    gps[3], gps[4] = "E", tuple(n / d for n, d in _rational(lon))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(name: str, content: bytes, kind="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=kind)


def test_a_photo_without_a_location_is_placed_by_its_gps(town, alice, api):
    form = {"description": "路边暴露垃圾", "category": "SJ0102", "channel": "app",
            "photos": [upload("IMG_0001.jpg", phone_jpeg(*EAST))]}
    response = api(alice).post(URL, form, format="multipart")
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["geocode"]["method"] == "photo_exif"
    assert case["grid"]["code"] == town.east.code
    assert len(case["photos"]) == 1
    assert case["photos"][0]["width"] == 1200


def test_stored_photos_carry_no_exif(town, alice, api):
    form = {"description": "井盖破损", "location": '{"type": "Point", "coordinates": [122.995, 41.1]}',
            "photos": [upload("a.jpg", phone_jpeg(*WEST))]}
    api(alice).post(URL, form, format="multipart")
    stored = CasePhoto.objects.get()
    with stored.image.open("rb") as f:
        raw = f.read()
    assert Image.open(io.BytesIO(raw)).getexif() == {}
    assert b"PhoneMaker" not in raw
    assert Image.open(stored.thumbnail.path).size[0] <= 320


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_kept(town, alice, api):
    form = {"description": "垃圾", "location": '{"type": "Point", "coordinates": [122.995, 41.1]}',
            "photos": [upload("evil.jpg", b"<?php system($_GET['c']); ?>")]}
    response = api(alice).post(URL, form, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "evil.jpg" in " ".join(response.json()["photos"])
    assert Case.objects.count() == 0
    assert CasePhoto.objects.count() == 0


def test_a_location_given_with_the_photo_wins_over_its_gps(town, alice, api):
    form = {"description": "垃圾", "location": '{"type": "Point", "coordinates": [122.995, 41.1]}',
            "photos": [upload("b.jpg", phone_jpeg(*EAST))]}
    case = api(alice).post(URL, form, format="multipart").json()
    assert case["grid"]["code"] == town.west.code
    assert point(*WEST)["coordinates"] == case["location"]["coordinates"]
