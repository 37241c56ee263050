from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from dashboard import views


class AnyTextConverter:
    """Like ``path`` but also across line breaks: person keys are vendor text."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyTextConverter, "anytext")

urlpatterns = [
    path("", views.home, name="home"),
    path("activity/", views.activity, name="activity"),
    path("activity/export.<str:fmt>", views.activity_export, name="activity_export"),
    path("activity/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("downloads/", views.downloads, name="downloads"),
    path("users/", views.users, name="users"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/merge/", views.person_merge, name="person_merge"),
    path("people/<int:pk>/split/", views.person_split, name="person_split"),
    path("people/<int:pk>/undo/", views.person_undo, name="person_undo"),
    path("people/<anytext:key>/", views.person_by_key, name="person_by_key"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert, name="alert"),
    path("alerts/<int:pk>/triage/", views.alert_triage_post, name="alert_triage"),
    path("sources/", views.sources, name="sources"),
    path("timezone/", views.choose_timezone, name="timezone"),
    path("sources/<int:pk>/sync/", views.source_sync, name="source_sync"),
    path("sources/<slug:name>/coverage/", views.source_coverage, name="source_coverage"),
    path("sources/<slug:name>/coverage/reread/", views.source_reread, name="source_reread"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
