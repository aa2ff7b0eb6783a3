"""Fixtures of the official-documents tests: enrolled signers (the Alcaldesa, the DOM director, the Secretario
Municipal), Lota's default templates, a citizen's request routed to the DOM, and helpers that draft acts
through the real services."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from folio.acts import services
from folio.acts.models import Act, ActKind, ActTemplate

PASSPHRASE = "clave-alcaldesa-2026"
DOM_PASSPHRASE = "clave-director-dom"
SECMUN_PASSPHRASE = "clave-secretario-2026"


@pytest.fixture(scope="session")
def _acts_sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("acts-sandboxes")


@pytest.fixture(autouse=True)
def _acts_settings(settings: Any, _acts_sandbox_dir: Any) -> None:
    # One key directory per session: the sandbox CAs are generated once, not per test.
    settings.FOLIO_SANDBOX_DIR = _acts_sandbox_dir
    settings.FOLIO_SANDBOXES = True
    settings.FOLIO_ACTS_NUMBER_WAIT_SECONDS = 20


def with_run(user: Any, number: int, dv: str) -> Any:
    user.run_number, user.run_dv = number, dv
    user.save(update_fields=["run_number", "run_dv"])
    return user


def enroll(user: Any, passphrase: str) -> Any:
    from folio.signatures.services import signer_enroll

    signer_enroll(signer=user, passphrase=passphrase, actor=user)
    return user


@pytest.fixture
def alcaldesa(world: Any) -> Any:
    """The Alcaldesa, with her RUN (for FirmaGob) and a certificate of Lota's CA (for the simple signature)."""
    return enroll(with_run(world.signer, 12345678, "5"), PASSPHRASE)


@pytest.fixture
def director(world: Any) -> Any:
    """The DOM director (unit head and signer), enrolled."""
    return enroll(with_run(world.dom_head, 9876543, "3"), DOM_PASSPHRASE)


@pytest.fixture
def secmun(world: Any) -> Any:
    """The Secretario Municipal (ministro de fe), a signer of Lota, enrolled."""
    from folio.accounts.models import RoleCode
    from folio.core import demo

    user = demo.ensure_user(world.lota, "secmun", "Sergio", "Melo Contreras", "SECMU",
                            [RoleCode.SIGNER, RoleCode.OFFICIAL], "Secretario Municipal")
    return enroll(with_run(user, 11222333, "9"), SECMUN_PASSPHRASE)


@pytest.fixture
def templates(world: Any) -> dict[str, ActTemplate]:
    services.ensure_default_templates(world.lota)
    services.ensure_default_templates(world.coronel)
    return {t.kind: t for t in ActTemplate.objects.filter(organization=world.lota)}


@pytest.fixture
def citizen_request(world: Any, pdf_bytes: Callable[..., bytes]) -> Any:
    """A citizen's request registered by the Oficina de Partes of Lota and routed to the DOM."""
    from folio.registry import services as registry_services

    data = registry_services.RegistrationInput(
        document_type=40, subject="Solicita certificado de informaciones previas", party_kind="citizen",
        party_name="María José Carrasco Vidal", party_rut="16.234.567-2", party_email="mj.carrasco@example.cl",
        party_address="Calle Matta 123, Lota", mechanism=2, channel="electronic",
        documents=[registry_services.UploadedDoc(name="solicitud.pdf", data=pdf_bytes("Solicitud CIP"))],
    )
    reg = registry_services.registration_create_incoming(actor=world.clerk, data=data)
    registry_services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                         instruction="response", business_days=10)
    return reg


def draft(actor: Any, template: ActTemplate, *, signers: list[Any] | None = None,
          endorsers: list[Any] | None = None, capacities: list[str] | None = None, **fields: Any) -> Act:
    """A draft through the real service, with a body and the given circuit."""
    capacities = capacities or ["own"] * len(signers or [])
    data = services.ActInput(
        template_id=template.pk, body=fields.pop("body", "Vengo en disponer lo que sigue.\n\nSegundo párrafo."),
        subject=fields.pop("subject", "Materia de prueba"),
        signers=[services.StepInput(u.pk, c) for u, c in zip(signers or [], capacities, strict=True)],
        endorsers=[services.StepInput(u.pk) for u in endorsers or []], **fields)
    return services.act_create(actor=actor, data=data)


def submitted(actor: Any, template: ActTemplate, **kwargs: Any) -> Act:
    act = draft(actor, template, **kwargs)
    return services.act_submit(actor=actor, act=act)


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
    finally:
        pdf.close()


def signed_bytes(act: Act) -> bytes:
    from folio.files.services import file_open

    act.refresh_from_db()
    assert act.signed_file is not None
    with file_open(act.signed_file) as fh:
        return fh.read()


@pytest.fixture
def fake_provider() -> Iterator[Callable[..., str]]:
    """``fake_provider(status, body, delay=0)`` starts an HTTP server on 127.0.0.1 that answers every POST the
    same way (a FirmaGob that fails: error, silence, garbage) and returns its base URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int = 200, body: bytes = b"", *, delay: float = 0.0) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


KINDS = ActKind


def stamp_text(data: bytes) -> str:
    """The text drawn in the visible signature stamps (their appearance streams, not the page content)."""
    from folio.signatures.tests.conftest import stamp_text as decoded

    return decoded(data)
