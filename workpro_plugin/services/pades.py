"""The heavy half of services/signatures.py: pyHanko (PAdES signing and validation) and cryptography
(demo and test keys). Imported only by the functions there that sign or validate."""

from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

logger = logging.getLogger(__name__)


def load_signer(data: bytes, password: bytes | None):
    signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=password)
    if signer is None:
        raise ValueError("PKCS#12 file could not be opened (wrong password?)")
    return _parse_rsa_key_once(signer)


def _parse_rsa_key_once(signer):
    """pyHanko parses the private key again for every signature (twice per document: a dry run sizes
    the signature), and for RSA `cryptography` then checks the key, a third of a second for 3072 bits.
    Parse it once per process; other mechanisms keep pyHanko's own path."""
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


def sign(content: bytes, *, signer, reason: str, field_name: str, name: str, location: str, box, tsa_url) -> bytes:
    """`content` signed by `signer` as an incremental update: PAdES B-B, B-T with a timestamp service;
    a visible field over `box` (page index, rectangle) with an empty appearance of its own."""
    writer = _writer(content)
    existing = {field for field, *_rest in _field_names(writer)}
    unique, number = field_name, 1
    while unique in existing:  # a second countersignature (e.g. after a returned upload) gets its own field
        number += 1
        unique = f"{field_name}-{number}"
    meta = PdfSignatureMetadata(field_name=unique, reason=reason, location=location, name=name,
                                subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
    pdf_signer = PdfSigner(
        meta, signer=signer, timestamper=timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None,
        stamp_style=StaticStampStyle(border_width=0, background=None),
        new_field_spec=SigFieldSpec(unique, on_page=box[0], box=box[1]) if box else None)
    if tsa_url:  # the timestamp token's size is not known beforehand: pyHanko sizes it with a dry run
        return pdf_signer.sign_pdf(writer).getvalue()
    try:
        return pdf_signer.sign_pdf(writer, bytes_reserved=_reserve(signer)).getvalue()
    except Exception:  # noqa: BLE001 - our estimate too small after all: let pyHanko size it (a dry run)
        logger.warning("Signature did not fit the reserved space; signing again with pyHanko's estimate")
        return pdf_signer.sign_pdf(_writer(content)).getvalue()


def _writer(content: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer whose document information will agree with the XMP packet.

    pyHanko rewrites the XMP packet's pdf:Producer to "pyHanko x.y" (keeping pdfaid, title, ...), but
    appends itself to the information dictionary's /Producer ("WeasyPrint 70.0; pyHanko x.y"); PDF/A
    wants both to say the same, so /Producer is set to pyHanko's value, in the same revision."""
    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    reference = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if not isinstance(reference, generic.IndirectObject) or "/Metadata" not in writer.root:
        return writer  # no XMP packet to agree with, or an /Info pyHanko handles its own way
    info = reference.get_object()
    if str(info.get("/Producer", "")) != VENDOR:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(reference)
    return writer


def _reserve(signer) -> int:
    """Room for the CMS object (hex, so twice its size): the certificates it embeds, the signature and
    the signed attributes. Saves pyHanko's dry run, a second signature per document."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(cert.dump()) for cert in certificates) + 4096
    return 2 * (size + 1023) // 1024 * 1024


def _field_names(writer):
    try:
        return list(enumerate_sig_fields(writer))
    except Exception:  # noqa: BLE001 - a document without (readable) form fields has none
        return []


def _trust_roots(paths) -> list:
    roots = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            logger.warning("Trust root %s cannot be read", path)
            continue
        if pem.detect(data):
            roots.extend(asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True))
        else:
            roots.append(asn1_x509.Certificate.load(data))
    return roots


def validate(content: bytes, *, trust_roots, own_certificate: bytes | None) -> list[dict]:
    """pyHanko's verdict on every embedded signature (see signatures.validate)."""
    context = ValidationContext(trust_roots=_trust_roots(trust_roots), allow_fetching=False)
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
            by_institution=own_certificate is not None and cert is not None and cert.sha256 == own_certificate,
            summary=status.summary(),
        )
        results.append(entry)
    return results


# --- demo and test keys --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoCA:
    certificate_pem: bytes
    key: object  # cryptography private key
    certificate: object  # cryptography certificate


def demo_ca(name: str = "WorkPro Demo-CA") -> DemoCA:
    """A self-signed CA for the demo and the tests: never for production."""
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
