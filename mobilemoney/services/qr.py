"""QR code images for checkout sessions whose provider gives none (Wave): rendered from the link."""

from __future__ import annotations

import base64
import io

import qrcode


def qr_png_base64(payload: str) -> str:
    """A PNG of ``payload`` as base64 (error correction M, 4-module quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return base64.b64encode(buffer.getvalue()).decode()
