"""Routes of the banks simulator (mounted under /sandbox/banks/): our core banking system under
core/ and the partner bank that carries transfers to other banks under partner/."""

from django.urls import path

from sandbox.banks import core, partner, statements

urlpatterns = [
    path("core/v1/credits", core.credits_create, name="sandbox-bank-core-credits"),
    path("core/v1/credits/<str:reference>", core.credit_detail, name="sandbox-bank-core-credit"),
    path("core/v1/statements/<str:day>", statements.core_statement, name="sandbox-bank-core-statement"),
    path("partner/v1/payments", partner.payments_create, name="sandbox-bank-partner-payments"),
    path("partner/v1/payments/<str:tx_id>", partner.payment_detail, name="sandbox-bank-partner-payment"),
    path("partner/v1/statements/<str:day>", statements.partner_statement, name="sandbox-bank-partner-statement"),
]
