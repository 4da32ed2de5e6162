"""The distribution API calls a Helm-artifact publish needs, through the shared sender.

Blobs: HEAD to skip what is there, POST + PUT monolithic uploads, PATCH chunks (≤ 4 MiB, GHCR's
limit) for big blobs that resume from the registry's `Range` after a failed chunk. Manifests:
HEAD/GET with the OCI media types in `Accept` (GHCR answers MANIFEST_UNKNOWN without them) and
PUT with the digest the registry reports checked against ours. Retries, deadlines and size
limits are `release.sender`'s; the steps of an upload that are not idempotent are sent without
retries and restart the whole upload from a HEAD instead. Every request is counted, token
requests and redirect hops included. Messages name the host and the step, never a secret or a
query string.

Everything the registry says is checked before use: digests must look like digests (they end up
in URLs), manifests are read up to 4 MiB, blobs up to the size their descriptor states, and an
upload `Location` must stay on the registry's origin.
"""

from __future__ import annotations

import json
import re
import ssl
from types import TracebackType

import httpx

from release import limits
from release.errors import BadInput, RemoteError
from release.oci.auth import RegistryAuth, TokenCache
from release.oci.content import (
    DIGEST_RE,
    MANIFEST_TYPES,
    MAX_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Blob,
    sha256_digest,
)
from release.oci.credentials import Credentials
from release.origin import origin_of, show_origin
from release.retry import RetryPolicy
from release.sender import HttpSender, Interrupted, Reply, new_client

MiB = 1024 * 1024
CHUNK_SIZE = 4 * MiB  # GHCR answers 416 to bigger PATCH chunks
MONOLITHIC_LIMIT = 4 * MiB  # blobs above this go up in chunks
HEAD_THRESHOLD = 1 * MiB  # below this, asking "is it there?" costs as much as uploading it
MAX_BLOB = limits.CHART_DECOMPRESSED_MAX  # no blob of a Helm chart artifact can be larger


_GHCR_WRITE_DENIED = re.compile(r"permission_denied:\s*write_package", re.IGNORECASE)


class RegistryClient:
    """One registry origin; `requests` says how many HTTP requests were sent so far."""

    def __init__(
        self,
        host: str,
        *,
        plain_http: bool = False,
        credentials: Credentials | None = None,
        push_repositories: tuple[str, ...] = (),
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
        chunk_size: int = CHUNK_SIZE,
        monolithic_limit: int = MONOLITHIC_LIMIT,
        head_threshold: int = HEAD_THRESHOLD,
        request_deadline: float | None = None,
    ) -> None:
        if chunk_size > CHUNK_SIZE:
            raise BadInput(f"chunk size {chunk_size} is over 4 MiB",
                           "GHCR refuses bigger chunks; use 4 MiB or less")
        self.host = host
        self.base = f"{'http' if plain_http else 'https'}://{host}"
        self.origin = origin_of(self.base)
        self.retry = retry or RetryPolicy()
        self.auth = RegistryAuth(credentials, self.origin, push_repositories=push_repositories,
                                 cache=TokenCache(), retry=self.retry)
        self.requests = 0  # every request sent: token requests and redirect hops too
        self.http = new_client(transport=transport, verify=verify, auth=self.auth,
                               timeout=timeout, on_request=self._count)
        self.sender = HttpSender(self.http, label=f"registry {host}", origins=(self.origin,),
                                 describe=self._error, retry=self.retry,
                                 request_deadline=request_deadline)
        self.chunk_size = chunk_size
        self.monolithic_limit = monolithic_limit
        self.head_threshold = head_threshold
        self.resumed_chunks = 0

    def _count(self, request: httpx.Request) -> None:
        self.requests += 1

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- one request, with retries and plain-words errors -----------------------------------
    def _send(self, method: str, url: str | httpx.URL, what: str, *, ok: tuple[int, ...],
              headers: dict[str, str] | None = None, content: bytes | None = None,
              retry: bool = True, max_body: int = limits.ERROR_BODY_MAX) -> Reply:
        reply = self.sender.send(method, url, what=what, ok=ok, headers=headers,
                                 content=content, retry=retry, max_body=max_body)
        html = self._html_page(reply, what)
        if html is not None:
            raise html
        return reply

    def _html_page(self, reply: Reply, what: str) -> RemoteError | None:
        """A web page where the registry API should answer, accepted or not: say so."""
        if not str(reply.headers.get("Content-Type", "")).lower().startswith("text/html"):
            return None
        return RemoteError(
            f"{self.host} answered an HTML page (HTTP {reply.status_code}) while {what}",
            "check the registry address; a proxy, captive portal or login page is answering "
            "instead of the registry API")

    def _error(self, response: Reply, what: str, attempt: int) -> RemoteError:
        html = self._html_page(response, what)
        if html is not None:
            return html
        status = response.status_code
        codes, message = _error_body(response)
        detail = f"HTTP {status}" + (f" {','.join(codes)}" if codes else "")
        if message:
            detail += f": {message[:200]}"
        where = f"{self.host}"
        if status == 401:
            return RemoteError(
                f"{where} refused {self.auth.describe()} while {what} ({detail})",
                "check the credentials: --username/--password, AMEIDE_REGISTRY_USERNAME and "
                "AMEIDE_REGISTRY_PASSWORD, GITHUB_TOKEN for ghcr.io, or `helm registry login`")
        if status == 403 or "DENIED" in codes:
            if _GHCR_WRITE_DENIED.search(message or "") or _GHCR_WRITE_DENIED.search(
                    response.text[:2000]):
                return RemoteError(
                    f"{where} denied writing the package with {self.auth.describe()} ({detail})",
                    "on GitHub, link the package to this repository and give the repository "
                    "Actions access with role Write (package settings → Manage Actions access), "
                    "and grant the workflow `permissions: packages: write` (or use a PAT with "
                    "write:packages)")
            return RemoteError(f"{where} denied {what} to {self.auth.describe()} ({detail})",
                               "use credentials that may push to this repository")
        if status == 429:
            return RemoteError(f"{where} kept rate-limiting while {what} ({detail}, "
                               f"{attempt} tries)", "wait a few minutes and re-run")
        if status >= 500 or status == 408:
            return RemoteError(f"{where} kept failing while {what} ({detail}, {attempt} tries)",
                               "the registry is unhealthy; re-run later (re-runs are safe)")
        if status == 413 or "SIZE_INVALID" in codes:
            return RemoteError(f"{where} refused the size of the upload while {what} ({detail})",
                               "the registry limits request sizes; check its limits")
        return RemoteError(f"{where} refused {what} ({detail})",
                           "check the registry address, the repository name and the chart")

    # --- manifests ---------------------------------------------------------------------------
    def _url(self, repository: str, kind: str, ref: str = "") -> str:
        return f"{self.base}/v2/{repository}/{kind}/{ref}"

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest a tag resolves to, or None when it does not exist (one HEAD)."""
        r = self._send("HEAD", self._url(repository, "manifests", reference),
                       f"checking {repository}:{reference}", ok=(200, 404),
                       headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if r.status_code == 404:
            return None
        digest = str(r.headers.get("Docker-Content-Digest", "")).strip()
        if digest:
            return self._checked_digest(digest, f"{repository}:{reference}")
        body, _ = self.get_manifest(repository, reference)  # registries may omit the header
        return sha256_digest(body)

    def _checked_digest(self, digest: str, what: str) -> str:
        if not DIGEST_RE.fullmatch(digest):
            raise RemoteError(f"{self.host} answered a malformed digest for {what} "
                              f"({digest[:80]!r})", "the registry is misbehaving; report it")
        return digest

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        found = self._read_manifest(repository, reference, ok=(200,))
        assert found is not None
        return found

    def find_manifest(self, repository: str, reference: str) -> tuple[bytes, str] | None:
        """The manifest under a tag or digest, or None when the registry has none (404): the
        signature tags and the referrers fallback tag are absent more often than not."""
        return self._read_manifest(repository, reference, ok=(200, 404))

    def _read_manifest(self, repository: str, reference: str,
                       ok: tuple[int, ...]) -> tuple[bytes, str] | None:
        r = self._send("GET", self._url(repository, "manifests", reference),
                       f"reading the manifest of {repository}:{reference}", ok=ok,
                       headers={"Accept": ", ".join(MANIFEST_TYPES)}, max_body=MAX_MANIFEST)
        if r.status_code == 404:
            return None
        media_type = r.headers.get("Content-Type", "").split(";")[0].strip()
        # The bytes must be what was asked for (a digest) or what the registry says they are
        # (its Docker-Content-Digest for a tag), so the digest of a tag can be taken from them.
        claimed = reference if reference.startswith("sha256:") else \
            str(r.headers.get("Docker-Content-Digest", "")).strip()
        if claimed.startswith("sha256:") and sha256_digest(r.content) != claimed:
            raise RemoteError(f"{self.host} returned a manifest for {repository}:{reference[:80]} "
                              f"that does not match {claimed[:80]}",
                              "the registry or a proxy corrupted it; re-run or report it")
        return r.content, media_type

    def manifest_access(self, repository: str, reference: str) -> int:
        """HEAD a manifest and answer its status (200, 401, 403 or 404) instead of raising on a
        refusal: how an anonymous client tells a public package from a private one."""
        r = self._send("HEAD", self._url(repository, "manifests", reference),
                       f"checking {repository}:{reference}", ok=(200, 401, 403, 404),
                       headers={"Accept": ", ".join(MANIFEST_TYPES)})
        return r.status_code

    def list_referrers(self, repository: str, digest: str) -> tuple[bytes, bool] | None:
        """The OCI 1.1 referrers list of `digest` (an image index, read up to 4 MiB) and whether
        the registry says more pages follow (`Link: …; rel="next"`); None when the registry has
        no referrers API. Like go-containerregistry, only a 200 answer with the image-index
        media type counts as the API; any other answer (distribution 2.8 and GHCR answer 404)
        means "read the referrers tag instead". Answers worth retrying are retried first."""
        self._checked_digest(digest, "a referrers query")
        ok = tuple(s for s in range(200, 600) if not self.retry.retryable_status(s))
        r = self._send("GET", self._url(repository, "referrers", digest),
                       f"listing the referrers of {digest[:19]}", ok=ok,
                       headers={"Accept": OCI_INDEX}, max_body=MAX_MANIFEST)
        media_type = r.headers.get("Content-Type", "").split(";")[0].strip()
        if r.status_code != 200 or media_type != OCI_INDEX:
            return None
        links = ",".join(r.headers.get_list("Link")).replace(" ", "")
        return r.content, 'rel="next"' in links or "rel=next" in links

    def put_manifest(self, repository: str, reference: str, body: bytes,
                     media_type: str = OCI_MANIFEST) -> str:
        """Write the manifest under a tag (or digest); returns the digest, checked."""
        if len(body) > MAX_MANIFEST:
            raise BadInput(f"the manifest is {len(body)} bytes, over the 4 MiB registries accept",
                           "shrink the Chart.yaml annotations")
        expected = sha256_digest(body)
        r = self._send("PUT", self._url(repository, "manifests", reference),
                       f"writing {repository}:{reference}", ok=(200, 201),
                       headers={"Content-Type": media_type}, content=body)
        reported = r.headers.get("Docker-Content-Digest")
        if reported and reported != expected:
            raise RemoteError(
                f"{self.host} stored {repository}:{reference} as {reported[:80]}, not {expected}",
                "the registry rewrote the manifest; it does not keep OCI manifests byte for byte")
        return expected

    # --- blobs -------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        r = self._send("HEAD", self._url(repository, "blobs", digest),
                       f"checking blob {digest[:19]}", ok=(200, 404))
        return r.status_code == 200

    def get_blob(self, repository: str, digest: str, size: int) -> bytes:
        """A blob of the size its descriptor states (no more is read), digest checked. Blob
        downloads may redirect to a storage host; the redirect carries no credentials."""
        self._checked_digest(digest, "a blob")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_BLOB:
            raise RemoteError(f"the descriptor of blob {digest[:19]} on {self.host} states size "
                              f"{size!r}", f"a Helm chart blob is at most {MAX_BLOB} bytes; "
                              "this is not a Helm chart artifact")
        r = self._send("GET", self._url(repository, "blobs", digest),
                       f"downloading blob {digest[:19]}", ok=(200,), max_body=size)
        if len(r.content) != size or sha256_digest(r.content) != digest:
            raise RemoteError(f"blob {digest} from {self.host} does not match its digest",
                              "the registry or a proxy corrupted it; re-run or report it")
        return r.content

    def push_blob(self, repository: str, blob: Blob) -> str:
        """Make sure the registry has `blob`: "present" (skipped) or "uploaded". A blob under
        `head_threshold` is uploaded without asking first (the HEAD costs as much)."""
        check_first = blob.size >= self.head_threshold
        attempt = 0
        while True:
            attempt += 1
            if (check_first or attempt > 1) and self.blob_exists(repository, blob.digest):
                return "present"
            try:
                if blob.size > self.monolithic_limit:
                    self._upload_chunked(repository, blob)
                else:
                    self._upload_monolithic(repository, blob)
                return "uploaded"
            except Interrupted as exc:
                if attempt >= self.retry.max_tries:
                    status = f"HTTP {exc.reply.status_code}" if exc.reply else "no answer"
                    raise RemoteError(
                        f"{self.host}: uploading blob {blob.digest[:19]} failed {attempt} times "
                        f"({exc}: {status})",
                        "the registry is unhealthy; re-run later (re-runs are safe)") from None
                self.sender.pause(self.retry.delay(attempt, exc.reply.headers if exc.reply
                                                  else None), f"uploading {blob.digest[:19]}")

    def _start_upload(self, repository: str) -> httpx.URL:
        r = self._send("POST", self._url(repository, "blobs", "uploads/"),
                       f"starting an upload to {repository}", ok=(202,))
        return self._location(r)

    def _upload_monolithic(self, repository: str, blob: Blob) -> None:
        location = self._start_upload(repository)
        url = location.copy_merge_params({"digest": blob.digest})
        r = self._send("PUT", url, f"uploading blob {blob.digest[:19]}", ok=(201, 204),
                       headers={"Content-Type": "application/octet-stream"},
                       content=blob.read(), retry=False)
        self._check_blob_digest(r, blob)

    def _upload_chunked(self, repository: str, blob: Blob) -> None:
        location = self._start_upload(repository)
        offset = 0
        stalled = 0
        while offset < blob.size:
            end = min(offset + self.chunk_size, blob.size)
            failure: Reply | None = None
            try:
                r: Reply | None = self._send(
                    "PATCH", location, f"uploading a chunk of {blob.digest[:19]}",
                    ok=(202, 416), retry=False, content=blob.read(offset, end),
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": f"{offset}-{end - 1}"})
            except Interrupted as exc:
                r, failure = None, exc.reply
            if r is not None and r.status_code == 202:
                location = self._location(r)
                reached = _range_end(r) if r.headers.get("Range") else end
                # An accepted chunk the registry does not count is no progress: resend from
                # what it says it has, and give up after as many tries as any other stall.
                stalled = 0 if reached > offset else stalled + 1
                offset = self._checked_offset(reached, blob, stalled, r)
                continue
            # The chunk failed or was refused: ask the registry how much it has, resume there.
            # (distribution's `_state` only opens the session at the offset it names: if the
            # chunk landed but its answer was lost, the session is gone and the whole upload
            # restarts from a HEAD in push_blob.)
            resumed, location = self._upload_status(location, repository)
            self.resumed_chunks += 1
            if r is not None and resumed == offset:
                raise RemoteError(
                    f"{self.host} refused a {end - offset}-byte chunk with HTTP 416",
                    "the registry limits chunk sizes (GHCR: 4 MiB); lower the chunk size")
            stalled = stalled + 1 if resumed == offset else 0
            if stalled < self.retry.max_tries and r is None:
                self.sender.pause(self.retry.delay(max(stalled, 1), failure.headers if failure
                                                   else None), "resuming an upload")
            offset = self._checked_offset(resumed, blob, stalled, failure)
        url = location.copy_merge_params({"digest": blob.digest})
        r = self._send("PUT", url, f"finishing the upload of {blob.digest[:19]}", ok=(201, 204),
                       headers={"Content-Type": "application/octet-stream"}, content=b"",
                       retry=False)
        self._check_blob_digest(r, blob)

    def _checked_offset(self, offset: int, blob: Blob, stalled: int,
                        reply: Reply | None) -> int:
        """Where the registry says the upload stands, unless it is stuck there (`stalled`
        answers in a row without progress) or names an offset the blob does not have: then the
        upload restarts from a HEAD in `push_blob` (`Interrupted`)."""
        if stalled >= self.retry.max_tries:
            raise Interrupted("uploading chunks made no progress", reply)
        if not 0 <= offset <= blob.size:
            raise Interrupted("the registry reported an impossible upload offset", reply)
        return offset

    def _upload_status(self, location: httpx.URL, repository: str) -> tuple[int, httpx.URL]:
        try:
            r = self._send("GET", location, f"asking how much of an upload to {repository} "
                           "arrived", ok=(204,))
        except RemoteError as exc:
            raise Interrupted("the upload session is gone") from exc
        return _range_end(r), self._location(r) if r.headers.get("Location") else location

    def _location(self, response: Reply) -> httpx.URL:
        """`Location` resolved against the request URL (it may be relative), on the registry's
        own origin: an upload is never sent, with or without credentials, anywhere else."""
        value = response.headers.get("Location")
        if not value:
            raise RemoteError(f"{self.host} started an upload without a Location header",
                              "the registry does not follow the distribution spec; report it")
        try:
            url = response.url.join(value)
        except httpx.InvalidURL:
            raise RemoteError(f"{self.host} sent an upload Location that is not a URL",
                              "the registry is misbehaving; report it") from None
        if origin_of(url) != self.origin:
            raise RemoteError(
                f"{self.host} sent an upload Location on another origin "
                f"({show_origin(origin_of(url))}); nothing was sent there",
                "a registry that moves uploads to another host or to plain HTTP is "
                "misconfigured or hostile: report it to its operator")
        return url

    def _check_blob_digest(self, response: Reply, blob: Blob) -> None:
        reported = response.headers.get("Docker-Content-Digest")
        if reported and reported != blob.digest:
            raise RemoteError(f"{self.host} stored blob {blob.digest} as {reported[:80]}",
                              "the upload was corrupted in transit; re-run")


def _range_end(response: Reply) -> int:
    """`Range: 0-N` → N + 1 bytes received (distribution writes 0-0 for an empty upload)."""
    value = response.headers.get("Range", "0-0").removeprefix("bytes=")
    try:
        end = int(value.split("-", 1)[1])
    except (IndexError, ValueError):
        return 0
    return end + 1 if end > 0 else 0


def _error_body(response: Reply) -> tuple[list[str], str]:
    """Distribution error JSON → (codes, first message)."""
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return [], ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return [], ""
    codes = [str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code")]
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return codes, " ".join(" ".join(messages).split())
