"""The console's own pages outside the admin's views: the second factor (docs/staff-security.md §2)."""

from django.urls import path

from backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
]
