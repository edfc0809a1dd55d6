"""The command centre's wall map (/wall/)."""

urlpatterns: list = []
