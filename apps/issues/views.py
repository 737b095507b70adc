"""Issue pages: the project's issue list (filters), one issue's thread (comment, resolve, reopen), my inbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.accounts.page_context import HomeSection
from apps.core.errors import ApplicationError
from apps.datasets.http_content import safe_headers
from apps.issues import crops, selectors, services
from apps.issues.access import access_issue
from apps.labeling.access import access_project, can

PAGE_LIMIT = 200


def inbox_section(user: User) -> HomeSection:
    mentions = list(selectors.inbox_of(actor=user).filter(read_at__isnull=True)[:10])
    items = [
        {
            "title": f"{m.mentioned_by.username} mentioned you in {m.issue.project.name}",
            "url": reverse("issues:issue", args=[m.issue_id]),
            "detail": (m.comment.text if m.comment else m.issue.text)[:80],
        }
        for m in mentions
    ]
    return HomeSection(title="My inbox", items=items, empty_text="No new mentions.")


@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    mentions = list(selectors.inbox_of(actor=user)[:PAGE_LIMIT])
    for mention in mentions:
        crop = reverse("issues:crop", args=[mention.issue_id]) if selectors.has_crop(mention.issue) else ""
        setattr(mention, "crop_url", crop)  # noqa: B010  (a page-only attribute, not a model field)
    response = render(request, "issues/inbox.html", {"mentions": mentions})
    services.mentions_mark_read(actor=user, ids=[m.pk for m in mentions if m.read_at is None])
    return response


@login_required
def project_issues_page(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id)
    filters = {key: request.GET.get(key) or None for key in ("status", "feature", "labeler", "data_row")}
    issues = list(selectors.issues_of_project(actor=user, project=project, **filters)[:PAGE_LIMIT])
    context = {
        "project": project,
        "issues": issues,
        "filters": {k: v or "" for k, v in filters.items()},
        "sees_all": can(user, project, "review"),
        "by_task": selectors.open_issue_counts_by_task(actor=user, project=project)[:PAGE_LIMIT],
    }
    return render(request, "issues/project_issues.html", context)


@login_required
def issue_page(request: HttpRequest, issue_id: str) -> HttpResponse:
    user = request_user(request)
    issue = access_issue(user, issue_id)
    if request.method == "POST":
        try:
            services.comment_create(actor=user, issue=issue, text=request.POST.get("text", ""))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("issues:issue", issue_id=issue.id)
    thread = selectors.issue_thread(issue_id=issue.pk)
    crop_url = reverse("issues:crop", args=[issue.id]) if selectors.has_crop(thread) else ""
    return render(request, "issues/issue.html", {"issue": thread, "project": issue.project, "crop_url": crop_url})


@login_required
def issue_crop(request: HttpRequest, issue_id: str) -> HttpResponse:
    """The PNG crop of the image around the issue's pin, under the issue's own access rules."""
    user = request_user(request)
    issue = access_issue(user, issue_id)
    png = crops.issue_crop(actor=user, issue=issue)
    if png is None:
        raise Http404("This issue has no picture.")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = 'inline; filename="issue.png"'
    safe_headers(response)
    return response


@login_required
@require_POST
def issue_state(request: HttpRequest, issue_id: str, action: str) -> HttpResponse:
    user = request_user(request)
    issue = access_issue(user, issue_id)
    try:
        if action == "resolve":
            services.issue_resolve(actor=user, issue=issue)
        else:
            services.issue_reopen(actor=user, issue=issue)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("issues:issue", issue_id=issue.id)
