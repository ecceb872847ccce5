"""The demo's console mail backend: mails readable on the console of `make run`.

Django's console backend prints the raw MIME message, so every mail with an HTML part or a
PDF shows as base64. This one prints the headers that matter, the text part as text, and
each attachment by name, type and size.
"""

from __future__ import annotations

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message) -> None:
        rule = "-" * 72
        lines = [rule, f"Mail an: {', '.join(message.to)}", f"Von: {message.from_email}",
                 f"Betreff: {message.subject}"]
        if message.reply_to:
            lines.append(f"Antwort an: {', '.join(message.reply_to)}")
        lines += ["", message.body.rstrip()]
        for attachment in message.attachments:
            if isinstance(attachment, tuple):
                name, content, mimetype = attachment
            else:  # a MIMEBase part
                name, content, mimetype = (attachment.get_filename() or "", attachment.get_payload(decode=True) or b"",
                                           attachment.get_content_type())
            size = len(content.encode() if isinstance(content, str) else content)
            lines.append(f"[Anhang: {name} ({mimetype}, {size / 1024:.1f} KB)]")
        lines.append(rule)
        self.stream.write("\n".join(lines) + "\n")
