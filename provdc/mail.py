"""E-mail through the inventory's relay, always over TLS (port 465: TLS from the first byte;
any other port: STARTTLS, refused if the relay does not offer it). The password is resolved
from its reference at the moment of sending and never logged."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path

from provdc.errors import ProvdcError
from provdc.inventory import model
from provdc.secrets import SecretRef, redact


class MailError(ProvdcError):
    """The relay refused the message or could not be reached."""


def tls_context(smtp: model.SMTP, base: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if smtp.ca:
        ca = Path(smtp.ca)
        ctx.load_verify_locations(cafile=str(ca if ca.is_absolute() else base / ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def message(smtp: model.SMTP, to: list[str], subject: str, text: str, attachments: list[Path] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.from_, ", ".join(to), subject
    msg.set_content(text)
    for path in attachments:
        subtype = "pdf" if path.suffix == ".pdf" else "octet-stream"
        msg.add_attachment(path.read_bytes(), maintype="application", subtype=subtype, filename=path.name)
    return msg


def send(smtp: model.SMTP, base: Path, msg: EmailMessage, timeout: float = 30) -> None:
    """Deliver `msg`; raises MailError naming the relay (never the password)."""
    try:
        ctx = tls_context(smtp, base)
    except OSError as exc:
        raise MailError(f"e-mail through {smtp.smarthost}: CA file {smtp.ca}: {exc.strerror}") from None
    try:
        if smtp.port == 465:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, local_hostname=smtp.hello, timeout=timeout, context=ctx)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, local_hostname=smtp.hello, timeout=timeout)
        with client:
            if smtp.port != 465:
                client.starttls(context=ctx)  # raises if the relay offers no STARTTLS: never in clear
            if smtp.username:
                client.login(smtp.username, SecretRef.parse(smtp.password).resolve(base))
            client.send_message(msg)
    except (smtplib.SMTPException, ssl.SSLError, socket.timeout, OSError) as exc:
        raise MailError(f"e-mail through {smtp.smarthost} failed: {redact(str(exc))}") from None
