"""Digital signatures (PAdES) of the documents an institution issues, and their validation.

The Angebot is signed by the Leitung who makes it, the ratified contract countersigned by the Leitung
who ratifies: both with the institution's key, as an incremental update (what was signed before stays
signed). PAdES B-B; B-T when WORKPRO_SIGNING_TSA_URL names a timestamp service.

The key is a PKCS#12 file: WORKPRO_SIGNING_KEYS[slug or pk]["pkcs12"] (a path on the machine), else the
certificate uploaded to the institution (private storage). Its password only ever comes from the
environment: WORKPRO_SIGNING_KEYS[...]["password_env"], else WORKPRO_SIGNING_PASSWORD_<SLUG>, else
WORKPRO_SIGNING_PASSWORD. Without a key a document is deposited unsigned and the UI says so.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from .. import conf
from ..models import Document

logger = logging.getLogger(__name__)

# Field names of WorkPro's own signatures (a participant's own signature keeps whatever name it has).
FIELD_OFFER = "WorkPro-Angebot"
FIELD_COUNTERSIGNATURE = "WorkPro-Gegenzeichnung"


@dataclass(frozen=True)
class KeySource:
    data: bytes
    password: bytes | None
    origin: str  # "settings" or "upload": for the system check and logs, never the password


def password_env_names(institution) -> list[str]:
    """The environment variables that may hold the key's password, the most specific first."""
    entry = _settings_entry(institution) or {}
    slug = re.sub(r"[^A-Z0-9]", "_", institution.slug.upper())
    names = [entry["password_env"]] if entry.get("password_env") else []
    return [*names, f"WORKPRO_SIGNING_PASSWORD_{slug}", "WORKPRO_SIGNING_PASSWORD"]


def _settings_entry(institution) -> dict | None:
    keys = conf.get("SIGNING_KEYS") or {}
    for key in (institution.slug, institution.pk, str(institution.pk)):
        if key in keys:
            return keys[key]
    return None


def has_signing_key(institution) -> bool:
    """Whether a key is configured (not whether it opens: see key_source)."""
    entry = _settings_entry(institution)
    return bool((entry and entry.get("pkcs12")) or institution.signing_certificate)


def key_source(institution) -> KeySource | None:
    """The institution's PKCS#12 bytes and password, or None without a key."""
    entry = _settings_entry(institution)
    if entry and entry.get("pkcs12"):
        data, origin = Path(entry["pkcs12"]).read_bytes(), "settings"
    elif institution.signing_certificate:
        with institution.signing_certificate.open("rb") as handle:
            data, origin = handle.read(), "upload"
    else:
        return None
    password = next((os.environ[name] for name in password_env_names(institution) if os.environ.get(name)), None)
    return KeySource(data, password.encode() if password is not None else None, origin)


def _pades():
    """pyHanko and cryptography (services/pades.py) load only in the processes that sign or validate."""
    from . import pades

    return pades


@functools.lru_cache(maxsize=32)
def _load_signer(digest: str, data: bytes, password: bytes | None):
    """Opening a PKCS#12 file costs a key derivation: once per process and key."""
    return _pades().load_signer(data, password)


def signer_for(institution):
    source = key_source(institution)
    if source is None:
        return None
    return _load_signer(hashlib.sha256(source.data + (source.password or b"")).hexdigest(), source.data,
                        source.password)


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str
    location: str


def can_sign(institution) -> bool:
    """A key is configured and opens. A broken key must not stop a contract: the document is then
    deposited unsigned, the error logged, and the system check and the UI tell."""
    try:
        return signer_for(institution) is not None
    except Exception:  # noqa: BLE001 - wrong password, damaged file, missing path
        logger.exception("Signing key of institution %s could not be opened", institution.pk)
        return False


def sign_pdf(content: bytes, *, institution, signatory: Signatory, reason: str, field_name: str,
             box: tuple | None = None) -> bytes:
    """`content` with the institution's signature appended as an incremental update (ask can_sign first).

    With `box` (page index, rectangle in points) the signature field is visible there: laid over the
    signature block the document draws itself (tagged text in an embedded font), so its own appearance
    is empty: no text and no font that PDF/A would need embedded. Clicking it shows the signature."""
    return _pades().sign(content, signer=signer_for(institution), reason=reason, field_name=field_name,
                         name=f"{signatory.name}, {signatory.role}", location=signatory.location, box=box,
                         tsa_url=conf.get("SIGNING_TSA_URL"))


def has_signatures(content: bytes) -> bool:
    """Cheap pre-check: a PDF without /ByteRange carries no signature."""
    return content.startswith(b"%PDF-") and b"/ByteRange" in content


def validate(content: bytes, *, institution=None) -> list[dict]:
    """Every embedded signature with pyHanko's verdict: intact (the signed bytes are unchanged), valid
    (cryptographically sound), trusted (chains to WORKPRO_SIGNING_TRUST_ROOTS), whether it covers the whole
    file, and whether it was made with `institution`'s own key. Nothing is fetched from the network."""
    if not has_signatures(content):
        return []
    own = None
    if institution is not None:
        try:
            signer = signer_for(institution)
            own = signer.signing_cert.sha256 if signer is not None else None
        except Exception:  # noqa: BLE001 - no usable key: nothing is "ours"
            own = None
    return _pades().validate(content, trust_roots=conf.get("SIGNING_TRUST_ROOTS") or (), own_certificate=own)


def check_document(document, content: bytes | None = None) -> list[dict]:
    """Validate the signatures of a stored document and remember the result on it."""
    if content is None:
        with document.file.open("rb") as handle:
            content = handle.read()
    institution = document.enrollment.institution if document.enrollment_id else None
    document.signatures = validate(content, institution=institution) if document.content_type == "application/pdf" \
        else []
    document.signatures_checked_at = timezone.now()
    if document.pk:
        document.save(update_fields=["signatures", "signatures_checked_at"])
    return document.signatures


def recheck_documents(*, kinds=("contract_offer", "signed_contract", "ratified_contract")) -> list:
    """Validate the stored PDFs of `kinds` again (e.g. after WORKPRO_SIGNING_TRUST_ROOTS changed) and
    remember the new verdict; returns the documents whose verdict is no longer "valid"."""
    failing = []
    for document in Document.objects.filter(kind__in=kinds, content_type="application/pdf",
                                            state=Document.State.READY).select_related(
            "enrollment__institution").iterator():
        results = check_document(document)
        if any(not entry.get("bottom_line") for entry in results):
            failing.append(document)
    return failing
