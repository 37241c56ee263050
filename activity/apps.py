from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Activity ingestion"

    def ready(self) -> None:
        from activity import sql  # noqa: F401  (registers the ``among`` lookup)
