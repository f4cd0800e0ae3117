"""The simulated Niirpay biller catalogue: Senegalese billers, reference formats, fee bands.

Niirpay publishes nothing (the status note of docs/providers/niirpay.md): the biller list,
reference formats, amounts and fees below are plausible assumptions for the sandbox, documented
in docs/providers/niirpay.md §11.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCY = "XOF"


@dataclass(frozen=True)
class SimOffer:
    code: str
    name: str
    amount: int


@dataclass(frozen=True)
class FeeBand:
    """Up to ``up_to`` XOF included, Niirpay charges a flat ``fee``."""

    up_to: int
    fee: int


@dataclass(frozen=True)
class SimBiller:
    code: str
    name: str
    category: str  # ELECTRICITY | WATER | TV | AIRTIME
    type: str  # POSTPAID_BILL | PREPAID
    reference_label: str
    reference_pattern: str
    reference_example: str
    min_amount: int
    max_amount: int
    fee_bands: tuple[FeeBand, ...]
    offers: tuple[SimOffer, ...] = ()

    @property
    def is_postpaid(self) -> bool:
        return self.type == "POSTPAID_BILL"

    def accepts_reference(self, customer_reference: str) -> bool:
        return re.fullmatch(self.reference_pattern, customer_reference) is not None

    def fee_for(self, amount: int) -> int:
        """The flat fee of the band the amount falls in (bands are ordered, the last is open)."""
        for band in self.fee_bands:
            if amount <= band.up_to:
                return band.fee
        return self.fee_bands[-1].fee

    def offer_for(self, amount: int) -> SimOffer | None:
        return next((offer for offer in self.offers if offer.amount == amount), None)


BILLERS: tuple[SimBiller, ...] = (
    SimBiller(
        code="SENELEC",
        name="Senelec - facture d'électricité",
        category="ELECTRICITY",
        type="POSTPAID_BILL",
        reference_label="Numéro de police (12 chiffres)",
        reference_pattern="^[0-9]{12}$",
        reference_example="012345678912",
        min_amount=100,
        max_amount=3_000_000,
        fee_bands=(FeeBand(10_000, 100), FeeBand(50_000, 200), FeeBand(200_000, 500), FeeBand(3_000_000, 1_000)),
    ),
    SimBiller(
        code="WOYOFAL",
        name="Woyofal - électricité prépayée",
        category="ELECTRICITY",
        type="PREPAID",
        reference_label="Numéro de compteur (11 chiffres)",
        reference_pattern="^[0-9]{11}$",
        reference_example="14212345678",
        min_amount=1_000,
        max_amount=500_000,
        fee_bands=(FeeBand(5_000, 100), FeeBand(20_000, 150), FeeBand(500_000, 300)),
    ),
    SimBiller(
        code="SENEAU",
        name="SEN'EAU - facture d'eau",
        category="WATER",
        type="POSTPAID_BILL",
        reference_label="Numéro de contrat (10 chiffres)",
        reference_pattern="^[0-9]{10}$",
        reference_example="3012345678",
        min_amount=100,
        max_amount=2_000_000,
        fee_bands=(FeeBand(10_000, 100), FeeBand(50_000, 200), FeeBand(2_000_000, 500)),
    ),
    SimBiller(
        code="CANALPLUS",
        name="Canal+ Sénégal - réabonnement",
        category="TV",
        type="PREPAID",
        reference_label="Numéro de carte (14 chiffres)",
        reference_pattern="^[0-9]{14}$",
        reference_example="23456789012345",
        min_amount=5_000,
        max_amount=25_000,
        fee_bands=(FeeBand(25_000, 150),),
        offers=(
            SimOffer("ACCESS", "Access (1 mois)", 5_000),
            SimOffer("EVASION", "Evasion (1 mois)", 10_000),
            SimOffer("ACCESS_PLUS", "Access+ (1 mois)", 15_000),
            SimOffer("EVASION_PLUS", "Evasion+ (1 mois)", 20_000),
            SimOffer("TOUT_CANAL", "Tout Canal+ (1 mois)", 25_000),
        ),
    ),
    SimBiller(
        code="ORANGE_AIRTIME",
        name="Orange - crédit téléphonique",
        category="AIRTIME",
        type="PREPAID",
        reference_label="Numéro Orange (9 chiffres, sans l'indicatif 221)",
        reference_pattern="^7[78][0-9]{7}$",
        reference_example="771234567",
        min_amount=100,
        max_amount=200_000,
        fee_bands=(FeeBand(200_000, 0),),
    ),
)

_BY_CODE = {biller.code: biller for biller in BILLERS}


def biller_by_code(code: str) -> SimBiller | None:
    return _BY_CODE.get(code)
