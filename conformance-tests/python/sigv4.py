"""A small SigV4 signer for hand-made requests (malformed bodies, trailers, half-sent bodies)."""

import datetime
import hashlib
import hmac
from urllib.parse import quote

from coffer_harness import ACCESS_KEY, REGION, SECRET_KEY

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_query(params):
    """params: list of (name, value); empty values stay as 'name='."""
    enc = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in enc)


STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _signing_key(secret, day):
    return _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), REGION), "s3"), "aws4_request")


def signed_chunks(data, headers, chunk=64 * 1024, secret=SECRET_KEY, tamper_chunk=None):
    """aws-chunked body with per-chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), chained
    from the seed signature in `headers` (as returned by sign()). tamper_chunk: index of a chunk
    whose bytes are changed after signing."""
    amz_date = headers["x-amz-date"]
    day = amz_date[:8]
    scope = f"{day}/{REGION}/s3/aws4_request"
    key = _signing_key(secret, day)
    prev = headers["authorization"].rsplit("Signature=", 1)[1]
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    out = bytearray()
    for n, piece in enumerate(pieces):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                             hashlib.sha256(piece).hexdigest()])
        prev = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if n == tamper_chunk and piece:
            piece = bytes([piece[0] ^ 1]) + piece[1:]
        out += f"{len(piece):x};chunk-signature={prev}\r\n".encode() + piece + b"\r\n"
    return bytes(out)


def sign(method, host, path, params, headers, payload_hash, secret=SECRET_KEY,
         access=ACCESS_KEY, now=None):
    """Returns headers (with Authorization) for a request to `path` (already URI-encoded)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    h = {k.lower(): str(v).strip() for k, v in headers.items()}
    h["host"] = host
    h["x-amz-date"] = amz_date
    h["x-amz-content-sha256"] = payload_hash
    names = sorted(h)
    canonical = "\n".join([
        method, path, canonical_query(params),
        "".join(f"{n}:{h[n]}\n" for n in names),
        ";".join(names), payload_hash,
    ])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = _signing_key(secret, day)
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return h


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
