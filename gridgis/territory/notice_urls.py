"""Grid change notices for grid workers (/api/v1/notices/)."""

urlpatterns: list = []
