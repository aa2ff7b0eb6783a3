"""Fixtures of the signature tests: enrolled signers, the sandboxes' key directory, poppler's pdfsig and tiny
loopback HTTP servers that misbehave like a provider can (error 500, silence, garbage)."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

PASSPHRASE = "clave-de-firma-2026"
OTHER_PASSPHRASE = "otra-clave-de-firma"
VALID_LINE = "Signature Validation: Signature is Valid."


@pytest.fixture(scope="session")
def _sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("sandboxes")


@pytest.fixture(autouse=True)
def _sandbox_settings(settings: Any, _sandbox_dir: Any) -> None:
    # One key directory per test session: the sandbox CAs are generated once, not per test.
    settings.FOLIO_SANDBOX_DIR = _sandbox_dir
    settings.FOLIO_SANDBOXES = True
    settings.FOLIO_ENV = "test"


def with_run(user: Any, number: int, dv: str) -> Any:
    user.run_number, user.run_dv = number, dv
    user.save(update_fields=["run_number", "run_dv"])
    return user


@pytest.fixture
def signer(world: Any) -> Any:
    """The Alcaldesa, with her RUN and a certificate of Lota's CA (passphrase PASSPHRASE)."""
    from folio.signatures.services import signer_enroll

    with_run(world.signer, 12345678, "5")
    signer_enroll(signer=world.signer, passphrase=PASSPHRASE, actor=world.signer)
    return world.signer


@pytest.fixture
def second_signer(world: Any) -> Any:
    from folio.signatures.services import signer_enroll

    with_run(world.dom_head, 9876543, "3")
    signer_enroll(signer=world.dom_head, passphrase=OTHER_PASSPHRASE, actor=world.dom_head)
    return world.dom_head


@pytest.fixture
def coronel_signer(world: Any) -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo

    user = demo.ensure_user(world.coronel, "alcalde.coronel", "Boris", "Chamorro", "OP", [RoleCode.SIGNER],
                            "Alcalde")
    return with_run(user, 11111111, "1")


def sign_request(pdf: bytes, user: Any, **kwargs: Any) -> Any:
    from folio.signatures.services import SignRequest

    values: dict[str, Any] = {"method": "simple", "verification_code": "ABCD-EFGH-JKMN",
                              "stamp_lines": [user.get_full_name(), user.position], "passphrase": PASSPHRASE}
    values.update(kwargs)
    return SignRequest(pdf=pdf, signer=user, **values)


# --- poppler ---------------------------------------------------------------------------------------

def pdfsig(data: bytes, tmp_path: Any, name: str = "doc.pdf") -> str:
    if shutil.which("pdfsig") is None:
        pytest.skip("poppler's pdfsig is not installed")
    path = tmp_path / name
    path.write_bytes(data)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def pdfsig_blocks(output: str) -> list[str]:
    return output.split("Signature #")[1:]


# --- what the visible stamps draw -----------------------------------------------------------------

def _to_unicode(font: Any) -> dict[bytes, str] | None:
    """Code → text of a Type0 font's ToUnicode CMap (bfchar and bfrange entries), or None for simple fonts."""
    import re

    if font is None or str(font.get("/Subtype")) != "/Type0" or "/ToUnicode" not in font:
        return None
    cmap = font["/ToUnicode"].read_bytes().decode("latin-1")
    table: dict[bytes, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[bytes.fromhex(code)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for start, end, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(text, 16)
            for offset, code in enumerate(range(int(start, 16), int(end, 16) + 1)):
                table[code.to_bytes(len(start) // 2, "big")] = chr(first + offset)
    return table


def _decode(font: Any, raw: bytes) -> str:
    table = _to_unicode(font)
    if table is None:
        return raw.decode("latin-1")
    return "".join(table.get(raw[i:i + 2], "\ufffd") for i in range(0, len(raw), 2))


def _appearances(data: bytes) -> Iterator[tuple[Any, Any]]:
    """(pikepdf Pdf, form XObject) for every appearance stream of every annotation, nested XObjects included."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                ap = annot.get("/AP")
                if ap is None or "/N" not in ap:
                    continue
                stack = [ap["/N"]]
                while stack:
                    xobj = stack.pop()
                    yield pdf, xobj
                    stack.extend(xobj.get("/Resources", {}).get("/XObject", {}).values())


def stamp_text(data: bytes) -> str:
    """The text drawn in the visible signature stamps (their appearance streams, not the page content),
    decoded through each font's ToUnicode map."""
    import pikepdf

    lines: list[str] = []
    for _pdf, xobj in _appearances(data):
        fonts = xobj.get("/Resources", {}).get("/Font", {})
        font = None
        for operands, operator in pikepdf.parse_content_stream(xobj):
            op = str(operator)
            if op == "Tf":
                font = fonts.get(str(operands[0]))
            elif op in ("Tj", "'", '"'):
                lines.append(_decode(font, bytes(operands[-1])))
            elif op == "TJ":
                lines.append("".join(_decode(font, bytes(item)) for item in operands[0]
                                     if isinstance(item, pikepdf.String)))
    return "\n".join(lines)


def stamp_fonts(data: bytes) -> dict[str, bool]:
    """Every font the visible stamps use (their /AP streams' /Resources /Font, nested XObjects included) →
    whether its program is embedded (/FontFile2 or /FontFile3 in its descriptor)."""
    found: dict[str, bool] = {}
    for _pdf, xobj in _appearances(data):
        for font in xobj.get("/Resources", {}).get("/Font", {}).values():
            descriptor_owner = font["/DescendantFonts"][0] if str(font.get("/Subtype")) == "/Type0" else font
            descriptor = descriptor_owner.get("/FontDescriptor")
            embedded = descriptor is not None and any(k in descriptor for k in ("/FontFile2", "/FontFile3"))
            found[str(font.get("/BaseFont"))] = embedded
    return found


def flip_signed_byte(pdf: bytes) -> bytes:
    """The same file with one byte changed inside the first signed range (in the page text)."""
    index = pdf.find(b"(Decreto")
    if index < 0:  # compressed page content: change the producer's name in the document information
        index = pdf.find(b"/Producer (") + len(b"/Producer ")
    assert 0 < index < pdf.find(b"/ByteRange")
    changed = bytearray(pdf)
    changed[index + 1] = ord("X") if changed[index + 1] != ord("X") else ord("Y")
    return bytes(changed)


# --- misbehaving providers on loopback ------------------------------------------------------------

@dataclass
class FakeProvider:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def fake_provider() -> Iterator[Callable[..., FakeProvider]]:
    """``fake_provider(status, body, delay=0, content_type=...)`` starts a one-purpose HTTP server on
    127.0.0.1 that records every request and answers the same way each time."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int = 200, body: bytes = b"", *, delay: float = 0.0,
              content_type: str = "application/json") -> FakeProvider:
        provider = FakeProvider(url="")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                provider.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": self.rfile.read(length)})
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
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
        provider.url = f"http://127.0.0.1:{server.server_address[1]}"
        return provider

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
