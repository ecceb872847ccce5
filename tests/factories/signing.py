"""Signing keys: one test CA per run, a PKCS#12 key per institution (uploaded, password in the environment)."""

import functools

from django.core.files.base import ContentFile

from workpro_plugin.services import pades, signatures


@functools.lru_cache(maxsize=1)
def test_ca() -> pades.DemoCA:
    return pades.demo_ca("WorkPro Test-CA")


def give_signing_key(institution, *, settings, monkeypatch, tmp_path, password: str = "geheim-im-env"):
    """The institution signs with a key issued by the test CA, which the validator trusts."""
    ca = test_ca()
    data = pades.demo_pkcs12(ca, common_name=institution.name, organisation=institution.operator.name,
                                  password=password.encode())
    institution.signing_certificate.save(f"{institution.slug}.p12", ContentFile(data), save=True)
    env = signatures.password_env_names(institution)[-2]
    monkeypatch.setenv(env, password)
    roots = tmp_path / "trust-roots.pem"
    roots.write_bytes(ca.certificate_pem)
    settings.WORKPRO_SIGNING_TRUST_ROOTS = [str(roots)]
    return data


def participant_signed_pdf(content: bytes, *, name: str = "Erika Muster") -> bytes:
    """`content` signed by a participant (a key from the test CA, as an eID app would)."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

    data = pades.demo_pkcs12(test_ca(), common_name=name, organisation="Privat", password=b"x")
    signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=b"x")
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(content)),
                           PdfSignatureMetadata(field_name="Teilnehmer", md_algorithm="sha256"), signer=signer)
    return out.getvalue()
