"""A stand-in for Google's securetoken certificate endpoint, and Firebase ID token claims, for the
tests of the production (RS256) verification path."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PROJECT = "demo-vchat"


def _certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class CertServer:
    """Serves {kid: PEM} like https://www.googleapis.com/robot/v1/metadata/x509/securetoken@..."""

    def __init__(self) -> None:
        self.keys = {
            f"kid-{i}": rsa.generate_private_key(public_exponent=65537, key_size=2048) for i in range(2)
        }
        self.published = dict.fromkeys(self.keys)
        self.hits = 0
        self.failing = False  # answer 503, as Google's endpoint during an outage
        self.delay_s = 0.0  # answer this late
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                time.sleep(server.delay_s)
                if server.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({kid: _certificate(server.keys[kid]) for kid in server.published}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=19000, must-revalidate, no-transform")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/certs"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, Any], kid: str = "kid-0", **header: Any) -> str:
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid, **header})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "auth_time": now - 60,
        "iat": now - 10,
        "exp": now + 3600,
        "sub": "user-123",
        "email": "user@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}
