"""The requests adapter: TLS checked against the system's trust store, sockets under watch.

Every HTTPS connection uses one `truststore.SSLContext`, so certificates are checked the way
the operating system checks them (a company's own root CA, pushed to its computers, is
trusted) and never against requests' bundled certifi list. Verification cannot be turned
off: whatever `verify` requests is handed, the connection requires a valid certificate.
No request is retried here; the sync engine retries with its idempotency keys.
"""

from __future__ import annotations

import ssl
from typing import Any

import truststore
from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.retry import Retry

from fieldops.sync.deadline import attach_to_current
from fieldops.sync.errors import BadCaBundle

NO_RETRY = Retry(total=0, connect=0, read=False, redirect=False, status=0, raise_on_status=False)
"""Fail at the first error: a POST or PUT is never sent twice by the transport."""


def trust_store_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """An SSL context trusting the system's certificates, plus a CA bundle when given."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            reason = (
                error.strerror if isinstance(error, OSError) and error.strerror else "unreadable"
            )
            raise BadCaBundle(ca_bundle, reason) from error
    return context


class _WatchedHTTPConnection(HTTPConnection):
    """A plain connection whose socket joins the current request's watch."""

    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        attach_to_current(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach_to_current(self.sock)  # a connection reused from the pool
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    """A TLS connection whose socket joins the current request's watch."""

    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        attach_to_current(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach_to_current(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class TrustStoreAdapter(HTTPAdapter):
    """An HTTPAdapter with the system trust store, watched sockets and no retries."""

    def __init__(self, context: ssl.SSLContext, pool_size: int = 4) -> None:
        self._context = context
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=NO_RETRY)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """Pools that use the trust-store context and watched connections."""
        pool_kwargs["ssl_context"] = self._context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        """The same for connections through a proxy (tunnelled TLS included)."""
        fresh = proxy not in self.proxy_manager
        proxy_kwargs.setdefault("ssl_context", self._context)
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh:
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: bool | str | None, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Pool keys that always require a verified certificate, from the context only."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, True, cert)
        pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Requires verification and leaves the trusted roots to the context.

        requests would point the connection at certifi's bundle (or at REQUESTS_CA_BUNDLE,
        or turn checks off for verify=False); none of that applies here.
        """
        super().cert_verify(conn, url, False, cert)
        if url.lower().startswith("https"):
            conn.cert_reqs = "CERT_REQUIRED"
