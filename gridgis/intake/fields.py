"""Input fields for reports: a GeoJSON point, checked the way a hotline operator's mistakes happen, and photos."""

from __future__ import annotations

import json
import math

from django.utils.encoding import smart_str
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gridgis.prepared import fetchone_prepared

from .photos import PhotoError, process_photo

MAX_PHOTOS = 9


class GeoJSONPointField(serializers.Field):
    """A GeoJSON Point `{"type": "Point", "coordinates": [lon, lat]}` (or its JSON text in a multipart
    form) → (lon, lat) floats. Ranges are checked here; the CRS conversion happens later."""

    default_error_messages = {
        "malformed": _("必须是 GeoJSON 点：type 为 Point，coordinates 为 [经度, 纬度]"),
        "not_finite": _("坐标必须是有限数值（不能是 NaN 或 Infinity）"),
        "swapped": _("纬度 {lat} 超出范围；经纬度似乎写反了：GeoJSON 的顺序是 [经度, 纬度]"),
        "lat_range": _("纬度 {lat} 超出范围（−90…90）"),
        "lon_range": _("经度 {lon} 超出范围（−180…180）"),
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data, parse_constant=self._reject_constant)
            except ValueError:
                self.fail("malformed")
        if not isinstance(data, dict) or data.get("type") != "Point":
            self.fail("malformed")
        coordinates = data.get("coordinates")
        if not isinstance(coordinates, list | tuple) or len(coordinates) not in (2, 3):
            self.fail("malformed")
        if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
            self.fail("malformed")
        lon, lat = float(coordinates[0]), float(coordinates[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            self.fail("not_finite")
        if not -90 <= lat <= 90:
            self.fail("swapped" if -90 <= lon <= 90 and -180 <= lat <= 180 else "lat_range", lat=lat)
        if not -180 <= lon <= 180:
            self.fail("lon_range", lon=lon)
        return lon, lat

    def to_representation(self, value):
        return {"type": "Point", "coordinates": [value.x, value.y]}

    @staticmethod
    def _reject_constant(name):
        raise ValueError(name)


class CategoryField(serializers.SlugRelatedField):
    """SlugRelatedField with the same answers and errors, whose lookup is the queryset's SQL compiled once and run
    as a prepared statement: compiling the ORM lookup on every report cost more than the query."""

    _SLUG = "\x00slug"  # stands for the looked-up value in the compiled parameters

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lookup: dict[str, tuple] = {}  # shared by the serializer's copies of this field (PrototypeFields)

    def _compiled(self) -> tuple[str, tuple, list[str]]:
        if "sql" not in self._lookup:
            queryset = self.get_queryset().filter(**{self.slug_field: self._SLUG})[:1]
            sql, params = queryset.query.sql_with_params()
            self._lookup["sql"] = (sql, params, [f.attname for f in queryset.model._meta.concrete_fields])
        return self._lookup["sql"]

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            return super().to_internal_value(data)  # odd values: DRF's own lookup and errors
        sql, params, columns = self._compiled()
        row = fetchone_prepared(sql, tuple(data if p == self._SLUG else p for p in params))
        if row is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return self.queryset.model.from_db("default", columns, list(row))


class PhotosField(serializers.ListField):
    """Uploaded photos → ProcessedPhoto objects (JPEG/PNG/WebP by content, EXIF stripped; see photos.py).
    A bad file is refused naming its place in the list and its file name."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField())
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PHOTOS)
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        processed = []
        for n, upload in enumerate(super().to_internal_value(data), start=1):
            try:
                processed.append(process_photo(upload, filename=upload.name))
            except PhotoError as exc:
                raise serializers.ValidationError(
                    _("第 %(n)d 张照片（%(name)s）：%(reason)s") % {"n": n, "name": upload.name, "reason": exc.reason}
                ) from exc
        return processed
