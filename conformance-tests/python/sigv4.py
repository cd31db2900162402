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
    k = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), REGION), "s3"), "aws4_request")
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return h


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
