"""Portal URLs."""

urlpatterns: list = []
