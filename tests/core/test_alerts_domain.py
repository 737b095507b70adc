"""Alert rule logic without a database."""

from apps.core.domain import alerts


def test_subject_is_the_user_when_known_else_the_address():
    assert alerts.subject_key(actor_id="u1", ip="10.0.0.1") == "user:u1"
    assert alerts.subject_key(actor_id=None, ip="10.0.0.1") == "ip:10.0.0.1"
    assert alerts.subject_key(actor_id=None, ip=None) is None


def test_rule_validation():
    assert alerts.rule_errors(kind="denied_requests", threshold=20, window_minutes=10) == {}
    errors = alerts.rule_errors(kind="everything", threshold=0, window_minutes=alerts.MAX_WINDOW_MINUTES + 1)
    assert set(errors) == {"kind", "threshold", "window_minutes"}
    assert "threshold" in alerts.rule_errors(kind=None, threshold=True, window_minutes=5)
    assert "threshold" in alerts.rule_errors(kind=None, threshold="20", window_minutes=5)


def test_every_kind_has_a_counted_action_and_a_default():
    assert {d.kind for d in alerts.DEFAULT_RULES} == set(alerts.COUNTED_ACTION)
    for default in alerts.DEFAULT_RULES:
        assert (
            alerts.rule_errors(kind=default.kind, threshold=default.threshold, window_minutes=default.window_minutes)
            == {}
        )


def test_breach_is_at_the_threshold():
    assert not alerts.breached(count=19, threshold=20)
    assert alerts.breached(count=20, threshold=20)
