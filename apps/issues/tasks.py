"""Background work of the issues app, run by django-q2."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.issues.models import Mention


def send_mention_email(mention_id: str) -> bool:
    """Email the mentioned user once (safe to run twice: `emailed_at` is checked under a row lock)."""
    with transaction.atomic():
        mention = (
            Mention.objects.select_for_update(of=("self",))
            .select_related("user", "issue", "issue__project", "comment", "mentioned_by")
            .filter(pk=mention_id)
            .first()
        )
        if mention is None or mention.emailed_at is not None or not mention.user.email:
            return False
        text = mention.comment.text if mention.comment else mention.issue.text
        base = getattr(settings, "TDP_PUBLIC_URL", "").rstrip("/")
        send_mail(
            subject=f"[TDP] {mention.mentioned_by.username} mentioned you in {mention.issue.project.name}",
            message=(
                f"{mention.mentioned_by.username} wrote:\n\n{text}\n\n"
                f"Open the thread: {base}/issues/{mention.issue_id}/\nYour inbox: {base}/inbox/\n"
            ),
            from_email=None,
            recipient_list=[mention.user.email],
        )
        mention.emailed_at = timezone.now()
        mention.save(update_fields=["emailed_at", "updated_at"])
        return True
