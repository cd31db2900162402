"""Virtual-host addressing (`bucket.<COFFER_DOMAIN>`) next to path style, on a server started with a domain."""

import pytest

import rawhttp
from coffer_harness import Cofferd

DOMAIN = "s3.coffer.test"


@pytest.fixture(scope="module")
def vhost_server(tmp_path_factory):
    s = Cofferd(tmp_path_factory.mktemp("cofferd-vhost"), extra_env={"COFFER_DOMAIN": DOMAIN})
    yield s
    s.kill()


def test_virtual_host_and_path_style_reach_the_same_bucket(vhost_server):
    s3 = vhost_server.client()
    s3.create_bucket(Bucket="vhost-bucket")
    host = f"vhost-bucket.{DOMAIN}:{vhost_server.port}"
    status, headers, body = rawhttp.request(vhost_server, "PUT", "/dir/from-vhost", body=b"via virtual host",
                                            host=host)
    assert status == 200, body
    assert s3.get_object(Bucket="vhost-bucket", Key="dir/from-vhost")["Body"].read() == b"via virtual host"
    s3.put_object(Bucket="vhost-bucket", Key="from-path", Body=b"via path style")
    status, _, body = rawhttp.request(vhost_server, "GET", "/from-path", host=host)
    assert status == 200 and body == b"via path style", body
    status, _, body = rawhttp.request(vhost_server, "GET", "/", [("list-type", "2")], host=host)
    assert status == 200, body
    assert b"<Key>dir/from-vhost</Key>" in body and b"<Key>from-path</Key>" in body
    # Path style keeps working on a server with a domain.
    status, _, body = rawhttp.request(vhost_server, "GET", "/vhost-bucket/from-path")
    assert status == 200 and body == b"via path style"
