"""Hooks later apps plug into (registered from their AppConfig.ready), so the datasets app never imports them.

- A *data row admin action* `(modeladmin, request, queryset of data rows)` is offered on the data row admin's list,
  e.g. labeling's "Add to project…", which queues the selected rows as a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DataRowAdminAction = Callable[..., Any]

_data_row_admin_actions: list[DataRowAdminAction] = []


def register_data_row_admin_action(action: DataRowAdminAction) -> None:
    if action not in _data_row_admin_actions:
        _data_row_admin_actions.append(action)


def data_row_admin_actions() -> list[DataRowAdminAction]:
    return list(_data_row_admin_actions)
