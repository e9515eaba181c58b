"""A minimal listener for lab services where only the socket matters (SMTP, IMAPS, NTP, ...).

Runs inside a lab host with the distribution's /usr/bin/python3 and the standard library only:
TCP ports accept, greet like the protocol would (TLS-wrapped where the service is TLS) and
close; UDP ports answer each datagram. Usage: listener.py SERVICES.json
"""

import json
import selectors
import socket
import ssl
import sys

GREETING = {
    "smtp": b"220 {host} ESMTP provdc-lab\r\n",
    "submission": b"220 {host} ESMTP provdc-lab\r\n",
    "imaps": b"* OK [CAPABILITY IMAP4rev1] {host} provdc-lab ready\r\n",
}


def main(path):
    with open(path) as f:
        conf = json.load(f)
    host = conf["hostname"].encode()
    tls = None
    if any(s["tls"] for s in conf["services"]):
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain("/etc/provdc-lab/tls/cert.pem", "/etc/provdc-lab/tls/key.pem")
    sel = selectors.DefaultSelector()
    for svc in conf["services"]:
        kind = socket.SOCK_STREAM if svc["proto"] == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((conf["address"], svc["port"]))
        if kind == socket.SOCK_STREAM:
            sock.listen(64)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, svc)
    while True:
        for key, _ in sel.select():
            serve(key.fileobj, key.data, host, tls)


def serve(sock, svc, host, tls):
    if svc["proto"] == "udp":
        try:
            data, peer = sock.recvfrom(2048)
            sock.sendto(data, peer)
        except OSError:
            pass
        return
    try:
        conn, _ = sock.accept()
    except OSError:
        return
    try:
        conn.settimeout(2)
        if svc["tls"] and tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        greeting = GREETING.get(svc["kind"])
        if greeting:
            conn.sendall(greeting.replace(b"{host}", host))
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


if __name__ == "__main__":
    main(sys.argv[1])
