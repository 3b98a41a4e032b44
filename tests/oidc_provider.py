"""A small OpenID Connect provider on loopback, for the company sign-in tests.

It speaks the authorization-code flow with PKCE as real providers do: a discovery document, an
authorization page listing its people (a button each, as a provider's account chooser), a token
endpoint that checks the client's secret, the code, the redirect address and the PKCE verifier,
ID tokens signed RS256 with keys published at jwks_uri, and an end-session endpoint. `issue`
lets a test make it misbehave: a wrong audience, an expired token, one issued long ago."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "scorecard", "test-client-secret"
ISSUE = {"audience": CLIENT_ID, "lifetime": 300, "age": 0}  # what its ID tokens say


class Provider:
    def __init__(self, people: dict[str, dict]) -> None:
        self.people = people  # username -> extra claims (email, groups ...)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig",
                                                         "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.issue = dict(ISSUE)
        self.url = ""
        self.token_requests = 0

    def discovery(self) -> dict:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "end_session_endpoint": f"{self.url}/logout",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"]}

    def id_token(self, person: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": f"id-{person}", "aud": self.issue["audience"],
                  "iat": now - self.issue["age"], "exp": now + self.issue["lifetime"],
                  "preferred_username": person, **self.people[person]}
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)


def _handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: str, kind="application/json", headers=None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self._send(302, "", "text/plain", {"Location": location})

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._send(200, json.dumps(provider.discovery()))
            elif url.path == "/jwks":
                self._send(200, json.dumps({"keys": [provider.key.as_dict(private=False)]}))
            elif url.path == "/authorize":
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    self._send(400, "unknown client", "text/plain")
                    return
                buttons = "".join(
                    f'<p><a href="/approve?{html.escape(urlencode({**query, "person": p}))}">'
                    f"Continue as {html.escape(p)}</a></p>" for p in provider.people)
                self._send(200, f"<html><body><h1>Test identity provider</h1>{buttons}"
                           "</body></html>", "text/html")
            elif url.path == "/approve":
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                self._redirect(f"{query['redirect_uri']}?"
                               + urlencode({"code": code, "state": query.get("state", "")}))
            elif url.path == "/logout":
                self._redirect(query.get("post_logout_redirect_uri") or "/")
            else:
                self._send(404, "not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            if urlparse(self.path).path != "/token":
                self._send(404, "not found", "text/plain")
                return
            provider.token_requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client = (form.get("client_id"), form.get("client_secret"))
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client = tuple(base64.b64decode(basic[6:]).decode().split(":", 1))
            asked = provider.codes.pop(form.get("code", ""), None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(
                form.get("code_verifier", "").encode()).digest()).decode().rstrip("=")
            if client != (CLIENT_ID, CLIENT_SECRET) or asked is None \
                    or asked.get("redirect_uri") != form.get("redirect_uri") \
                    or asked.get("code_challenge", challenge) != challenge:
                self._send(400, json.dumps({"error": "invalid_grant"}))
                return
            self._send(200, json.dumps({
                "access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                "expires_in": 300, "scope": asked.get("scope", "openid"),
                "id_token": provider.id_token(asked["person"], asked.get("nonce"))}))

    return Handler


@contextmanager
def running(people: dict[str, dict]):
    """The provider, serving on a free loopback port until the block ends."""
    provider = Provider(people)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def auth_section(provider_url: str, app_url: str, provider: str = "company") -> str:
    """The [auth] section of secrets.toml for an app at `app_url` signing in with this provider."""
    return (f'[auth]\nredirect_uri = "{app_url}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(16)}"\n\n'
            f'[auth.{provider}]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{provider_url}/.well-known/openid-configuration"\n')
