"""/open311/v2/: every resource in both formats, e.g. services.json and services.xml."""

from django.urls import path, re_path, register_converter

from . import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")

app_name = "open311"
urlpatterns = [
    path("discovery.<open311_format:fmt>", views.discovery, name="discovery"),
    path("services.<open311_format:fmt>", views.services, name="services"),
    path("services/<str:code>.<open311_format:fmt>", views.service_definition, name="service-definition"),
    path("requests.<open311_format:fmt>", views.service_requests, name="requests"),
    path("requests/<str:request_id>.<open311_format:fmt>", views.service_request, name="request"),
    path("tokens/<str:token>.<open311_format:fmt>", views.request_for_token, name="token"),
    path("", views.not_found, {"path": ""}, name="root"),
    re_path(r"^(?P<path>.+)$", views.not_found),
]
