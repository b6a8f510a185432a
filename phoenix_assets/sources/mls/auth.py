"""Authentication to a RESO server: OAuth2 client credentials, one token at a time."""

from __future__ import annotations

import asyncio
import time

from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.http import (
    AuthenticationError,
    SourceClient,
    SourceError,
)
from phoenix_assets.sources.mls.settings import MLS_RESO_TOKEN_URL, MLS_SOURCE, MlsSettings

# Refresh a token this long before it expires (capped at 10% of its lifetime).
TOKEN_REFRESH_MARGIN_SECONDS = 60.0


class TokenProvider:
    """OAuth2 client credentials: one token at a time, refreshed before it expires."""

    def __init__(
        self,
        settings: MlsSettings,
        api: SourceClient,
        token_client: SourceClient,
        result: CollectionResult,
        secrets: list[str],
    ) -> None:
        self._settings = settings
        self._api = api
        self._token_client = token_client
        self._result = result
        self._secrets = secrets
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at: float | None = None
        self.generation = 0

    def _valid(self) -> bool:
        return self._token is not None and (
            self._expires_at is None or time.monotonic() < self._expires_at
        )

    async def ensure(self) -> int:
        """Make sure a valid token is set; returns its generation."""
        if not self._valid():
            async with self._lock:
                if not self._valid():
                    await self._fetch()
        return self.generation

    async def refresh_after(self, generation: int) -> int:
        """The token of ``generation`` was refused: fetch a new one unless someone already has."""
        async with self._lock:
            if self.generation == generation:
                await self._fetch()
        return self.generation

    async def _fetch(self) -> None:
        settings = self._settings
        assert settings.token_url and settings.client_id and settings.client_secret
        asked_at = time.monotonic()
        self._result.count("token_requests")
        try:
            body = await self._token_client.request_json(
                "POST",
                settings.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                },
            )
        except AuthenticationError:
            raise
        except SourceError as exc:
            if exc.status in (400, 401, 403):  # OAuth2 answers a bad client with 400 too
                raise AuthenticationError(
                    f"{MLS_SOURCE}: the token endpoint refused the client credentials "
                    f"(HTTP {exc.status}); check {settings.auth_variables}",
                    status=exc.status,
                ) from None
            raise
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise AuthenticationError(
                f"{MLS_SOURCE}: the token endpoint answered without an access_token; "
                f"check {settings.auth_variables} and {MLS_RESO_TOKEN_URL}"
            )
        token = token.strip()
        self._secrets.append(token)
        self._api.set_header("Authorization", f"Bearer {token}")
        self._token = token
        self._expires_at = None
        expires_in = body.get("expires_in")
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        if lifetime is not None and lifetime > 0:
            margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 10)
            self._expires_at = asked_at + lifetime - margin
        self.generation += 1
