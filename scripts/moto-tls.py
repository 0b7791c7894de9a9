#!/usr/bin/env python3
"""The local AWS API (moto) over TLS with HTTP/1.1 keep-alive, as a function meets DynamoDB.

`make bench`'s cold path runs the function against this server: DynamoDB is reached over TLS
in AWS, and the SDK keeps its connection, so the one-time TLS set-up (trust store, crypto
provider, handshake) is what a cold start pays. moto_server (werkzeug) answers every request
with `Connection: close`, which would make every event pay a handshake: the TLS listener is
cheroot, an HTTP/1.1 server that keeps connections alive.

One process, one moto state, two listeners:
  --http-port   plain HTTP as moto_server serves it, for the benchmark's own set-up;
  --https-port  TLS with a certificate for 127.0.0.1 and localhost, signed by a local CA.

It writes into --certs:
  ca.pem          the local CA;
  ca-bundle.pem   the system trust store (/etc/ssl/certs/ca-certificates.crt, or
                  --system-bundle) with the CA appended: what a function is given as
                  SSL_CERT_FILE, so it loads a full store as a client on Lambda does;
  server.pem, server-key.pem
and prints "ready" once both listeners answer.
"""

import argparse
import datetime
import ipaddress
import os
import shutil
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
try:
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter
except ImportError:
    sys.exit("moto-tls: cheroot is not installed: pip install -r tests/requirements.txt (make tools)")
from werkzeug.serving import make_server

from moto.moto_server.threaded_moto_server import (
    DomainDispatcherApplication,
    create_backend_app,
)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory, system_bundle):
    """A P-256 CA and a server certificate it signs; returns (cert path, key path)."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ecs-state-logger local CA"))
        .issuer_name(_name("ecs-state-logger local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    paths = {name: os.path.join(directory, name) for name in
             ("ca.pem", "ca-bundle.pem", "server.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca_pem)
    with open(paths["ca-bundle.pem"], "wb") as f:
        with open(system_bundle, "rb") as system:
            shutil.copyfileobj(system, f)
        f.write(b"\n" + ca_pem)
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths["server-key.pem"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths["server.pem"], paths["server-key.pem"]


def exit_with_parent(parent):
    """A benchmark killed before it could stop us must not leave the server behind."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--https-port", type=int, required=True)
    parser.add_argument("--certs", required=True, help="directory for the CA and certificates")
    parser.add_argument("--system-bundle", default="/etc/ssl/certs/ca-certificates.crt")
    args = parser.parse_args()

    if not os.path.isfile(args.system_bundle):
        sys.exit(f"moto-tls: no system trust store at {args.system_bundle} (--system-bundle)")
    cert, key = make_certificates(args.certs, args.system_bundle)

    app = DomainDispatcherApplication(create_backend_app)
    plain = make_server(args.host, args.http_port, app, threaded=True)
    # cheroot keeps HTTP/1.1 connections alive (werkzeug's server closes every one) and sets
    # TCP_NODELAY, so a kept connection does not wait on delayed ACKs.
    tls = wsgi.Server((args.host, args.https_port), app, numthreads=4)
    tls.ssl_adapter = BuiltinSSLAdapter(cert, key)
    tls.prepare()
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    print("ready", flush=True)
    tls.serve()

if __name__ == "__main__":
    main()
