"""Routes of the fcm simulator (mounted under /sandbox/fcm/): the FCM HTTP v1 send endpoint."""

from django.urls import path

from sandbox.fcm import views

urlpatterns = [
    path("v1/projects/<str:project>/messages:send", views.messages_send, name="sandbox-fcm-send"),
]
