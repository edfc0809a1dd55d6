from django.urls import path

from . import api

urlpatterns = [
    path("cases/", api.CaseListCreate.as_view(), name="case-list"),
    path("cases/<int:pk>/", api.CaseDetail.as_view(), name="case-detail"),
    path("categories/", api.CategoryList.as_view(), name="category-list"),
]
