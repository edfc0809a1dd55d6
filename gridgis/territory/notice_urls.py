"""Grid change notices for grid workers (/api/v1/notices/); see notice_api.py."""

from django.urls import path

from . import notice_api

urlpatterns = [
    path("", notice_api.NoticeListView.as_view(), name="notice-list"),
    path("<int:pk>/read/", notice_api.NoticeReadView.as_view(), name="notice-read"),
    path("read-all/", notice_api.NoticeReadAllView.as_view(), name="notice-read-all"),
]
