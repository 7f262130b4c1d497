from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.home, name="home"),
    path("sessions/<str:code>/", views.session_page, name="session"),
    path("sessions/<str:code>/advance/", views.session_advance, name="session-advance"),
    path("sessions/<str:code>/reset/", views.session_reset, name="session-reset"),
    path("sessions/<str:code>/end/", views.session_end, name="session-end"),
    path("join/<str:code>/", views.join, name="join"),
    path("switch/", views.switch, name="switch"),
    path("leave/", views.leave, name="leave"),
]
