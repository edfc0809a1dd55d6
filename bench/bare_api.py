"""The peer of bench/intake.py: the barest DRF create endpoint for a case on the same database — validate a
description and a point, insert one row — with none of intake's locating, placing, assigning or numbering."""

import uuid

from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework_gis.fields import GeometryField

from gridgis.cases.models import Case


class BareCaseSerializer(serializers.ModelSerializer):
    location = GeometryField()

    class Meta:
        model = Case
        fields = ["id", "description", "channel", "location"]

    def create(self, validated_data):
        return Case.objects.create(number=uuid.uuid4().hex[:20], **validated_data)


class BareCaseCreate(generics.CreateAPIView):
    serializer_class = BareCaseSerializer


urlpatterns = [
    path("bench/bare-cases/", BareCaseCreate.as_view()),
    path("", include("gridgis.urls")),
]
