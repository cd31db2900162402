"""Hand-made HTTP requests to cofferd: signed with sigv4.py, sent with http.client or a raw socket."""

import http.client
import re
import socket
import ssl
from urllib.parse import quote

import sigv4


def _conn(server, timeout=60):
    if server.tls:
        ctx = ssl.create_default_context(cafile=server.ca_bundle)
        return http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=timeout)
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def object_path(bucket, key=None):
    path = "/" + quote(bucket, safe="")
    if key is not None:
        path += "/" + quote(key, safe="/~")
    return path


def request(server, method, path, params=(), headers=None, body=b"", payload_hash=None, host=None, **sign_kw):
    """Signs and sends one request; returns (status, headers dict (lower-case), body bytes).
    host: the Host header (default 127.0.0.1:PORT), e.g. for virtual-host addressing."""
    params = list(params)
    payload_hash = payload_hash or sigv4.sha256_hex(body)
    host = host or f"127.0.0.1:{server.port}"
    h = sigv4.sign(method, host, path, params, headers or {}, payload_hash, **sign_kw)
    if body and "content-length" not in h:
        h["content-length"] = str(len(body))
    target = path + ("?" + sigv4.canonical_query(params) if params else "")
    conn = _conn(server)
    try:
        conn.request(method, target, body=body or None, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def put_signed_chunks(server, path, data, tamper_chunk=None, chunk=64 * 1024):
    """PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body (every chunk signed)."""
    nchunks = (len(data) + chunk - 1) // chunk
    encoded_len = sum(len(f"{min(chunk, len(data) - i * chunk):x};chunk-signature=") + 64 + 4
                      + min(chunk, len(data) - i * chunk) for i in range(nchunks)) + len("0;chunk-signature=") + 64 + 4
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "content-length": str(encoded_len)}
    host = f"127.0.0.1:{server.port}"
    h = sigv4.sign("PUT", host, path, [], headers, sigv4.STREAMING_SIGNED)
    body = sigv4.signed_chunks(data, h, chunk=chunk, tamper_chunk=tamper_chunk)
    assert len(body) == encoded_len
    conn = _conn(server)
    try:
        conn.request("PUT", path, body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def error_code(body: bytes):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None


def send_half_and_close(server, method, path, headers, body, params=(), sent_fraction=0.5, payload_hash=None):
    """Sends the headers and part of the body over a raw socket, then closes it (a client dying mid-upload)."""
    payload_hash = payload_hash or sigv4.UNSIGNED
    host = f"127.0.0.1:{server.port}"
    params = list(params)
    h = sigv4.sign(method, host, path, params, headers, payload_hash)
    h["content-length"] = str(len(body))
    target = path + ("?" + sigv4.canonical_query(params) if params else "")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    if server.tls:
        ctx = ssl.create_default_context(cafile=server.ca_bundle)
        sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    try:
        sock.sendall(head.encode())
        cut = int(len(body) * sent_fraction)
        sent = 0
        while sent < cut:
            n = min(65536, cut - sent)
            sock.sendall(body[sent:sent + n])
            sent += n
    finally:
        # RST rather than FIN where possible, like a killed process.
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        sock.close()
