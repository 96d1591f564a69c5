"""A proxy that makes a local S3 server answer as if every bucket used SSE-KMS.

On AWS the ETag of an SSE-KMS, DSSE-KMS or SSE-C object is not the MD5 of its data,
so a copy of the same bytes gets another ETag than its source, and part ETags are
opaque too; the ETag of a multipart object is still md5(concat(binary part ETags)) +
"-N" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, ETag;
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html,
"Using part-level checksums for multipart uploads"). moto and SeaweedFS always answer
MD5s, so no test would see the difference: behind this proxy they do.

- Every ETag the client sees is replaced by an opaque value: 32 hex digits derived
  from (bucket, key, real ETag) for an object, from (upload id, part number, real
  ETag) for a part. A multipart object completed through the proxy gets what AWS
  would compute from the opaque part ETags the client listed, ``md5(concat)-N``; one
  the proxy did not see completed gets opaque hex with the real ``-N``.
- Opaque values the client sends back (If-Match, If-None-Match,
  x-amz-copy-source-if-match/-none-match, the part ETags of CompleteMultipartUpload)
  become the server's real ones again; any other value (the data's MD5 too) becomes
  one no object has, so it fails where the server checks it. A request changed so is
  re-signed with the server's credentials (SigV4 covers those headers and the body's
  SHA-256; SeaweedFS checks signatures, moto does not).
- Object answers carry ``x-amz-server-side-encryption: aws:kms`` and a key ARN
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
- Checksums pass through unchanged: they are the content proof that survives
  encryption (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObjectResult.html).
  Only ``corrupt_checksum(bucket, key)`` changes the object checksums reported for the
  objects it matches, so a test can show a checksum comparison failing.
- ``default_keys`` (bucket -> KMS key ARN) are buckets that encrypt new objects with a
  customer managed key by default, and ``granted_keys`` the keys the caller's role may
  use. A write into such a bucket that names no granted key needs kms:GenerateDataKey
  on the default key (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html),
  and a HeadObject or GetObject with ``x-amz-checksum-mode: ENABLED`` there needs
  kms:Decrypt (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html):
  without the grant both answer 403 AccessDenied, a HEAD with no body.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mediasync.testing.servers import S3Server
from tests.faults.proxy import ERROR_BODY, OK_WITH_ERROR_OPERATIONS, FaultProxy, FaultRules, Request, Response

KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
ENCRYPTED_OPERATIONS = {"HeadObject", "GetObject", "PutObject", "CopyObject", "CreateMultipartUpload",
                        "UploadPart", "UploadPartCopy", "CompleteMultipartUpload"}
CHECKSUM_HEADER_PREFIX = "x-amz-checksum-"
# x-amz-checksum-type names a type, not a value.
NOT_A_CHECKSUM = {"x-amz-checksum-type", "x-amz-checksum-algorithm"}
CONDITION_HEADERS = ("If-Match", "If-None-Match")
# Requests that make S3 generate a data key for a new object (or its upload).
KMS_WRITES = {"PutObject", "CopyObject", "CreateMultipartUpload"}
COPY_CONDITION_HEADERS = ("x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match")

ET.register_namespace("", S3_NAMESPACE)


def _unquoted(etag: str) -> str:
    return etag.strip().strip('"')


def _like(original: str, etag: str) -> str:
    """``etag`` quoted as ``original`` was: SeaweedFS leaves some ETags unquoted."""
    return f'"{etag}"' if original.strip().startswith('"') else etag


def _digest(*parts: str) -> str:
    # Not an MD5 of anything the client could hash: no data ETag can equal it by chance.
    return hashlib.sha256("\0".join(("kms-proxy",) + parts).encode()).hexdigest()[:32]


def aws_multipart_etag(part_etags: list[str]) -> str:
    """md5 of the concatenated binary part ETags, then "-" and the part count (unquoted)."""
    digests = b"".join(bytes.fromhex(_unquoted(etag)) for etag in part_etags)
    return f"{hashlib.md5(digests).hexdigest()}-{len(part_etags)}"


def corrupted(checksum: str) -> str:
    """The same checksum with one bit flipped; a composite value keeps its "-N"."""
    value, dash, count = checksum.partition("-")
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode() + dash + count


class EtagLedger:
    """The opaque ETags handed out and the real ones they stand for.

    Shared by successive proxies in front of one server (a resumed job talks to a new
    proxy but still holds ETags from the first). Opaque values are derived, so the same
    object gets the same ETag from any proxy; only completed multipart uploads must be
    remembered, since their ETag is computed from the part ETags the client sent.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._real: dict[tuple[str, ...], str] = {}
        self._completed: dict[tuple[str, str, str], str] = {}

    def object_etag(self, bucket: str, key: str, real: str) -> str:
        real = _unquoted(real)
        with self._lock:
            opaque = self._completed.get((bucket, key, real))
            if opaque is None:
                _, dash, parts = real.partition("-")
                opaque = _digest("object", bucket, key, real) + (f"-{parts}" if dash else "")
            self._real[("object", bucket, key, opaque)] = real
        return opaque

    def part_etag(self, upload_id: str, part_number: str, real: str) -> str:
        real = _unquoted(real)
        opaque = _digest("part", upload_id, part_number, real)
        with self._lock:
            self._real[("part", upload_id, part_number, opaque)] = real
        return opaque

    def completed(self, bucket: str, key: str, real: str, opaque: str) -> None:
        with self._lock:
            self._completed[(bucket, key, _unquoted(real))] = opaque

    def real_object_etag(self, bucket: str, key: str, opaque: str) -> str | None:
        with self._lock:
            return self._real.get(("object", bucket, key, _unquoted(opaque)))

    def real_part_etag(self, upload_id: str, part_number: str, opaque: str) -> str | None:
        with self._lock:
            return self._real.get(("part", upload_id, part_number, _unquoted(opaque)))


def _local(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((child for child in element if _local(child) == name), None)


def _listed_parts(root: ET.Element) -> list[tuple[str, ET.Element]]:
    """(part number, ETag element) of each <Part> of a CompleteMultipartUpload or ListParts document."""
    found = []
    for part in (element for element in root if _local(element) == "Part"):
        number, etag = _child(part, "PartNumber"), _child(part, "ETag")
        if number is not None and etag is not None and etag.text:
            found.append(((number.text or "").strip(), etag))
    return found


def _is_error(operation: str, response: Response) -> bool:
    # S3 may answer a copy or a completion 200 OK with an <Error> document.
    return response.status >= 300 or (operation in OK_WITH_ERROR_OPERATIONS and b"<Error>" in response.body[:512])


class KmsProxy(FaultProxy):
    """Forwards to ``server`` as :class:`FaultProxy` does, answering as an SSE-KMS bucket would."""

    def __init__(self, server: S3Server, rules: FaultRules | None = None, *, ledger: EtagLedger | None = None,
                 corrupt_checksum: Callable[[str, str], bool] | None = None,
                 default_keys: dict[str, str] | None = None, granted_keys: set[str] | None = None) -> None:
        super().__init__(server.endpoint_url, rules)
        self.credentials = Credentials(server.access_key, server.secret_key)
        self.region = server.region
        self.ledger = ledger or EtagLedger()
        self.corrupt_checksum = corrupt_checksum or (lambda bucket, key: False)
        self.default_keys = default_keys or {}
        self.granted_keys = granted_keys or set()
        self.resigned = 0
        self.denied: Counter[str] = Counter()

    # -- a bucket's default customer managed key, which the caller may not use ----------

    def handle(self, request: Request) -> Response | None:
        denial = self._kms_denial(request)
        if denial is not None:
            with self.lock:
                self.denied[request.operation] += 1
            return denial
        return super().handle(request)

    def _kms_denial(self, request: Request) -> Response | None:
        bucket, _ = request.bucket_and_key
        key = self.default_keys.get(bucket)
        if key is None or key in self.granted_keys:
            return None
        operation = request.operation
        if operation in KMS_WRITES and request.header("x-amz-server-side-encryption-aws-kms-key-id") \
                not in self.granted_keys:
            action = "kms:GenerateDataKey"
        elif operation in ("HeadObject", "GetObject") and (request.header("x-amz-checksum-mode") or "").upper() == "ENABLED":
            action = "kms:Decrypt"
        else:
            return None
        message = (f"User: arn:aws:sts::111122223333:assumed-role/mediasync/role is not authorized to perform: "
                   f"{action} on resource: {key} because no identity-based policy allows the {action} action")
        body = b"" if request.method == "HEAD" else ERROR_BODY.format(code="AccessDenied", message=message).encode()
        return Response(403, "Forbidden", [("Content-Type", "application/xml")], body)

    # -- requests: opaque values back to the server's own ------------------------------

    def prepare(self, request: Request) -> Request:
        bucket, key = request.bucket_and_key
        changed = False
        for name in CONDITION_HEADERS:
            changed |= self._translate_condition(request, name, bucket, key)
        copy_source = request.header("x-amz-copy-source")
        if copy_source:
            source_bucket, source_key = self._copy_source(copy_source)
            for name in COPY_CONDITION_HEADERS:
                changed |= self._translate_condition(request, name, source_bucket, source_key)
        if request.operation == "CompleteMultipartUpload":
            changed |= self._translate_completion(request)
        if changed:
            self._sign(request)
        return request

    @staticmethod
    def _copy_source(value: str) -> tuple[str, str]:
        path = unquote(value.partition("?")[0]).lstrip("/")
        bucket, _, key = path.partition("/")
        return bucket, key

    def _translate_condition(self, request: Request, name: str, bucket: str, key: str) -> bool:
        value = request.header(name)
        if not value:
            return False
        etags = [etag.strip() for etag in value.split(",")]
        # Only ETags this proxy handed out match, as on AWS: the data's MD5 must not.
        translated = [etag if etag == "*" else _like(etag, self.ledger.real_object_etag(bucket, key, etag)
                                                     or _digest("never-handed-out", etag))
                      for etag in etags]
        request.set_header(name, ", ".join(translated))
        return True

    def _translate_completion(self, request: Request) -> bool:
        upload_id = request.query["uploadId"][0]
        root = ET.fromstring(request.body)
        changed = False
        for number, etag in _listed_parts(root):
            real = self.ledger.real_part_etag(upload_id, number, etag.text or "")
            if real is not None:
                etag.text, changed = _like(etag.text or "", real), True
        if changed:
            request.body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            if request.header("Content-MD5"):
                request.set_header("Content-MD5", base64.b64encode(hashlib.md5(request.body).digest()).decode())
        return changed

    def _sign(self, request: Request) -> None:
        dropped = {"authorization", "x-amz-date", "x-amz-content-sha256", "content-length", "transfer-encoding",
                   "connection"}
        headers = [(name, value) for name, value in request.headers if name.lower() not in dropped]
        host = request.header("Host") or f"{self.upstream_host}:{self.upstream_port}"
        # S3SigV4Auth, not SigV4Auth: S3 signs the path as sent, without normalizing or
        # encoding it twice, and wants x-amz-content-sha256.
        signed = AWSRequest(method=request.method, url=f"http://{host}{request.path}", headers=dict(headers),
                            data=request.body)
        S3SigV4Auth(self.credentials, "s3", self.region).add_auth(signed)
        request.headers = list(signed.headers.items())
        with self.lock:
            self.resigned += 1

    # -- answers: opaque ETags, encryption headers, checksums ---------------------------

    def respond(self, request: Request, response: Response) -> Response:
        operation = request.operation
        bucket, key = request.bucket_and_key
        if response.header("ETag"):
            response.set_header("ETag", self._header_etag(request, operation, bucket, key, response.header("ETag")))
        if _is_error(operation, response):
            return response
        if operation in ENCRYPTED_OPERATIONS:
            response.headers = [(name, value) for name, value in response.headers
                                if not name.lower().startswith("x-amz-server-side-encryption")]
            response.headers += [("x-amz-server-side-encryption", "aws:kms"),
                                 ("x-amz-server-side-encryption-aws-kms-key-id", KMS_KEY_ARN)]
        if operation in ("HeadObject", "GetObject") and self.corrupt_checksum(bucket, key):
            response.headers = [(name, corrupted(value) if self._is_checksum(name) else value)
                                for name, value in response.headers]
        rewrite = {
            "CopyObject": self._copy_result,
            "UploadPartCopy": self._copy_part_result,
            "CompleteMultipartUpload": self._completion_result,
            "ListParts": self._list_parts,
            "ListObjects": self._list_objects,
            "ListObjectVersions": self._list_objects,
            "GetObjectAttributes": self._object_attributes,
        }.get(operation)
        if rewrite is not None and response.body:
            root = ET.fromstring(response.body)
            rewrite(request, root)
            response.body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            response.set_header("Content-Type", "application/xml")
        return response

    @staticmethod
    def _is_checksum(name: str) -> bool:
        name = name.lower()
        return name.startswith(CHECKSUM_HEADER_PREFIX) and name not in NOT_A_CHECKSUM

    def _header_etag(self, request: Request, operation: str, bucket: str, key: str, etag: str) -> str:
        if operation == "UploadPart":
            query = request.query
            return _like(etag, self.ledger.part_etag(query["uploadId"][0], query["partNumber"][0], etag))
        return _like(etag, self.ledger.object_etag(bucket, key, etag))

    def _corrupt_elements(self, root: ET.Element, bucket: str, key: str) -> None:
        if not self.corrupt_checksum(bucket, key):
            return
        for element in root:
            if _local(element).startswith("Checksum") and _local(element) != "ChecksumType" and element.text:
                element.text = corrupted(element.text)

    def _copy_result(self, request: Request, root: ET.Element) -> None:
        bucket, key = request.bucket_and_key
        etag = _child(root, "ETag")
        if etag is not None and etag.text:
            etag.text = _like(etag.text, self.ledger.object_etag(bucket, key, etag.text))
        self._corrupt_elements(root, bucket, key)

    def _copy_part_result(self, request: Request, root: ET.Element) -> None:
        query = request.query
        etag = _child(root, "ETag")
        if etag is not None and etag.text:
            etag.text = _like(etag.text, self.ledger.part_etag(query["uploadId"][0], query["partNumber"][0], etag.text))

    def _completion_result(self, request: Request, root: ET.Element) -> None:
        bucket, key = request.bucket_and_key
        etag = _child(root, "ETag")
        if etag is not None and etag.text:
            # As AWS computes it, from the part ETags the client listed (ours, opaque).
            listed = [part.text or "" for _, part in _listed_parts(ET.fromstring(request.body))]
            try:
                self.ledger.completed(bucket, key, etag.text, aws_multipart_etag(listed))
            except ValueError:
                pass  # part ETags that are not hex did not come from this proxy
            etag.text = _like(etag.text, self.ledger.object_etag(bucket, key, etag.text))
        self._corrupt_elements(root, bucket, key)

    def _list_parts(self, request: Request, root: ET.Element) -> None:
        upload_id = request.query["uploadId"][0]
        for number, etag in _listed_parts(root):
            etag.text = _like(etag.text or "", self.ledger.part_etag(upload_id, number, etag.text or ""))

    def _list_objects(self, request: Request, root: ET.Element) -> None:
        bucket, _ = request.bucket_and_key
        encoded = request.query.get("encoding-type") == ["url"]
        for entry in (element for element in root if _local(element) in ("Contents", "Version")):
            key, etag = _child(entry, "Key"), _child(entry, "ETag")
            if key is None or etag is None or not etag.text:
                continue
            # botocore decodes url-encoded keys with unquote_plus: the same here.
            name = unquote_plus(key.text or "") if encoded else (key.text or "")
            etag.text = _like(etag.text, self.ledger.object_etag(bucket, name, etag.text))

    def _object_attributes(self, request: Request, root: ET.Element) -> None:
        bucket, key = request.bucket_and_key
        etag = _child(root, "ETag")
        if etag is not None and etag.text:
            etag.text = _like(etag.text, self.ledger.object_etag(bucket, key, etag.text))
        checksum = _child(root, "Checksum")
        if checksum is not None:
            self._corrupt_elements(checksum, bucket, key)


@dataclass
class KmsS3:
    """A server seen through a :class:`KmsProxy`: ``server`` is the proxied view, ``upstream`` the real one."""

    upstream: S3Server
    proxy: KmsProxy

    @property
    def name(self) -> str:
        return self.upstream.name

    @property
    def server(self) -> S3Server:
        return S3Server(self.upstream.name, self.proxy.endpoint_url, self.upstream.access_key,
                        self.upstream.secret_key, self.upstream.region)

    def client(self, **config: object):
        return self.server.client(**config)

    def another_proxy(self, rules: FaultRules | None = None, **options: object) -> KmsProxy:
        """A new proxy with this one's ledger: what a client holds still translates."""
        return KmsProxy(self.upstream, rules, ledger=self.proxy.ledger, **options)

