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
import io
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from .. import conf

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


@functools.lru_cache(maxsize=32)
def _load_signer(digest: str, data: bytes, password: bytes | None):
    """Opening a PKCS#12 file costs a key derivation: once per process and key."""
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=password)
    if signer is None:
        raise ValueError("PKCS#12 file could not be opened (wrong password?)")
    return _parse_rsa_key_once(signer)


def _parse_rsa_key_once(signer):
    """pyHanko parses the private key again for every signature (twice per document: a dry run sizes
    the signature), and for RSA `cryptography` then checks the key, a third of a second for 3072 bits.
    Parse it once per process; other mechanisms keep pyHanko's own path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)
    if not isinstance(key, RSAPrivateKey):
        return signer
    pyhanko_sign_raw = signer.sign_raw

    def sign_raw(data: bytes, digest_algorithm: str) -> bytes:
        if signer.get_signature_mechanism_for_digest(digest_algorithm).signature_algo == "rsassa_pkcs1v15":
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return pyhanko_sign_raw(data, digest_algorithm)

    signer.sign_raw = sign_raw
    return signer


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


def sign_pdf(content: bytes, *, institution, signatory: Signatory, reason: str, field_name: str) -> bytes:
    """`content` with the institution's signature appended as an incremental update (ask can_sign first)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

    signer = signer_for(institution)
    tsa_url = conf.get("SIGNING_TSA_URL")
    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    existing = {name for name, *_rest in _field_names(writer)}
    name, number = field_name, 1
    while name in existing:  # a second countersignature (e.g. after a returned upload) gets its own field
        number += 1
        name = f"{field_name}-{number}"
    meta = PdfSignatureMetadata(
        field_name=name, reason=reason, location=signatory.location, name=f"{signatory.name}, {signatory.role}",
        subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
    if tsa_url:  # the timestamp token's size is not known beforehand: pyHanko sizes it with a dry run
        return signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamps.HTTPTimeStamper(tsa_url)).getvalue()
    try:
        return signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=_reserve(signer)).getvalue()
    except Exception:  # noqa: BLE001 - our estimate too small after all: let pyHanko size it (a dry run)
        logger.warning("Signature did not fit the reserved space; signing again with pyHanko's estimate")
        writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
        return signers.sign_pdf(writer, meta, signer=signer).getvalue()


def _reserve(signer) -> int:
    """Room for the CMS object (hex, so twice its size): the certificates it embeds, the signature and
    the signed attributes. Saves pyHanko's dry run, a second signature per document."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(cert.dump()) for cert in certificates) + 4096
    return 2 * (size + 1023) // 1024 * 1024


def _field_names(writer):
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        return list(enumerate_sig_fields(writer))
    except Exception:  # noqa: BLE001 - a document without (readable) form fields has none
        return []


def has_signatures(content: bytes) -> bool:
    """Cheap pre-check: a PDF without /ByteRange carries no signature."""
    return content.startswith(b"%PDF-") and b"/ByteRange" in content


def _trust_roots():
    from asn1crypto import pem, x509

    roots = []
    for path in conf.get("SIGNING_TRUST_ROOTS") or ():
        try:
            data = Path(path).read_bytes()
        except OSError:
            logger.warning("Trust root %s cannot be read", path)
            continue
        if pem.detect(data):
            roots.extend(x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True))
        else:
            roots.append(x509.Certificate.load(data))
    return roots


def validate(content: bytes, *, institution=None) -> list[dict]:
    """Every embedded signature with pyHanko's verdict: intact (the signed bytes are unchanged), valid
    (cryptographically sound), trusted (chains to WORKPRO_SIGNING_TRUST_ROOTS), whether it covers the whole
    file, and whether it was made with `institution`'s own key. Nothing is fetched from the network."""
    if not has_signatures(content):
        return []
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    own = None
    if institution is not None:
        try:
            signer = signer_for(institution)
            own = signer.signing_cert.sha256 if signer is not None else None
        except Exception:  # noqa: BLE001 - no usable key: nothing is "ours"
            own = None
    context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False)
    results = []
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:  # noqa: BLE001 - hostile input: report it as unreadable rather than fail
        logger.warning("Signatures of a PDF could not be read", exc_info=True)
        return [{"field": "", "signer": "", "intact": False, "valid": False, "trusted": False,
                 "summary": "UNREADABLE"}]
    for signature in embedded:
        entry = {"field": signature.field_name, "name": str(signature.sig_object.get("/Name", "") or ""),
                 "reason": str(signature.sig_object.get("/Reason", "") or "")}
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as exc:  # noqa: BLE001 - a malformed signature counts as broken, with the reason
            entry.update(signer="", intact=False, valid=False, trusted=False, summary=f"ERROR: {exc}"[:300])
            results.append(entry)
            continue
        cert = status.signing_cert
        signed_at = status.signer_reported_dt
        timestamp = getattr(status, "timestamp_validity", None)
        entry.update(
            signer=cert.subject.native.get("common_name", "") if cert is not None else "",
            organisation=cert.subject.native.get("organization_name", "") if cert is not None else "",
            signed_at=signed_at.isoformat() if signed_at else "",
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            coverage=status.coverage.name if status.coverage is not None else "",
            modification=status.modification_level.name if status.modification_level is not None else "",
            bottom_line=bool(status.bottom_line),
            timestamped=timestamp is not None,
            by_institution=own is not None and cert is not None and cert.sha256 == own,
            summary=status.summary(),
        )
        results.append(entry)
    return results


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


# --- demo and test keys --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoCA:
    certificate_pem: bytes
    key: object  # cryptography private key
    certificate: object  # cryptography certificate


def demo_ca(name: str = "WorkPro Demo-CA") -> DemoCA:
    """A self-signed CA for the demo and the tests: never for production."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WorkPro Demo")])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return DemoCA(certificate.public_bytes(serialization.Encoding.PEM), key, certificate)


def demo_pkcs12(ca: DemoCA, *, common_name: str, organisation: str, password: bytes) -> bytes:
    """A signing key and certificate issued by `ca`, as a password-protected PKCS#12 file."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    # RSA, not ECDSA: pyHanko marks a document signed with an EC key as PDF 2.0 (ISO 32002), which a
    # PDF/A-3 file (PDF 1.7) must not become.
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64])])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(common_name.encode()[:64], key, certificate, [ca.certificate],
                                                 serialization.BestAvailableEncryption(password))
