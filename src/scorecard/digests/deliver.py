"""Sending a digest: an e-mail over SMTP (STARTTLS, TLS or plain; the password from the
environment variable the configuration names, never stored or logged), or a Slack or plain
JSON webhook. Each returns None when the message was taken, else why not in one sentence.
A digest's message id (`key`) is the same however often it is tried, so a receiver can drop
a second copy (the e-mail's Message-ID, the webhook's Idempotency-Key)."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from ..notify import post
from .config import Smtp, Subscription
from .message import Digest


def _tls(smtp: Smtp) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=smtp.ca_file) if smtp.ca_file \
        else ssl.create_default_context()


def email_message(smtp: Smtp, to: list[str], digest: Digest, key: str,
                  pdf: bytes | None, pdf_name: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = digest.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{key}@scorecard.digest>"
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message


def _smtp_problem(smtp: Smtp, exc: Exception) -> str:
    where = f"the mail server {smtp.host}:{smtp.port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} did not accept the user name and password"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{where} refused the recipients {', '.join(exc.recipients)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{where} answered {exc.smtp_code} {said.splitlines()[0][:120]}"
    if isinstance(exc, ssl.SSLError):
        return f"{where} could not be reached securely ({exc.reason or 'TLS failed'})"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer in time"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} does not offer STARTTLS; set security to tls or none"
    return f"{where} could not be reached ({type(exc).__name__})"


def send_email(smtp: Smtp, to: list[str], message: EmailMessage) -> str | None:
    password = os.environ.get(smtp.password_env) if smtp.user else None
    if smtp.user and not password:
        return (f"the SMTP password is not set: put it in the environment variable "
                f"{smtp.password_env}")
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds,
                                      context=_tls(smtp))
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=_tls(smtp))
            if smtp.user:
                client.login(smtp.user, password)
            client.send_message(message, from_addr=smtp.sender, to_addrs=to)
    except (OSError, smtplib.SMTPException) as exc:
        return _smtp_problem(smtp, exc)
    return None


def webhook_body(subscription: Subscription, digest: Digest, period: str) -> dict:
    if subscription.webhook.format == "slack":
        return {"text": digest.text}
    return {"subscription": subscription.name, "period": period, "subject": digest.subject,
            "text": digest.text, "link": digest.link,
            "headline": [{"system": row.system,
                          **{f.metric_id: {"value": f.value, "status": f.status,
                                           "change": f.change} for f in row.figures}}
                         for row in digest.report.headline]}


def send_webhook(subscription: Subscription, body: dict, key: str) -> str | None:
    hook = subscription.webhook
    trouble = post(hook, body, {"Idempotency-Key": key})
    return f"the webhook {hook.where} {trouble}" if trouble else None
