"""Classification answers (radio, checklist, text) and the feature references they are given by."""

from __future__ import annotations

from typing import Any

from apps.ontologies.domain.validation.base import _ANSWER_KEYS, _NESTED_KEYS, ValidatorBase, _fmt, _is_number
from apps.ontologies.domain.validation.compiled import CompiledClassification, CompiledScope


class ClassificationChecks(ValidatorBase):
    # -- feature lookup ----------------------------------------------------------------------------------------
    def _ref(self, item: dict[str, Any], index: int, path: str) -> tuple[str | None, str | None, bool]:
        """(name, schema_id, ok) of a reference; both may be given but one is required."""
        name = item.get("name")
        sid = item.get("schema_id")
        if name is None and sid is None:
            self.fail(index, path, "Name the feature with `name` or `schema_id`.")
            return None, None, False
        if name is not None and type(name) is not str:
            self.fail(index, f"{path}.name", "Must be a string.")
            return None, None, False
        if sid is not None:
            if type(sid) is not str:
                self.fail(index, f"{path}.schema_id", "Must be a string.")
                return None, None, False
            sid = sid.lower()
        return name, sid, True

    def _lookup_classification(
        self, scope: CompiledScope, item: dict[str, Any], index: int, path: str, parent: str
    ) -> CompiledClassification | None:
        name, sid, ok = self._ref(item, index, path)
        if not ok:
            return None
        found = scope.by_id.get(sid) if sid is not None else scope.by_name.get(name)  # type: ignore[arg-type]
        if found is None:
            key: str = sid if sid is not None else name  # type: ignore[assignment]
            where = (self.c.nested_by_id if sid is not None else self.c.nested_by_name).get(key)
            if where is None and parent:
                at_top = (self.c.top.by_id if sid is not None else self.c.top.by_name).get(key) is not None
                if at_top:
                    where = "the top level"
            if where is not None:
                here = f"under {parent}" if parent else "at the top level"
                self.fail(index, path, f"Classification {_fmt(key)} belongs under {where}, not {here}.")
            else:
                field_ = "schema_id" if sid is not None else "name"
                self.fail(index, f"{path}.{field_}", f"Unknown classification {_fmt(key)}.")
            return None
        if sid is not None and name is not None and found.name != name:
            self.fail(index, path, f"schema_id {sid} is {found.name!r}, not {name!r}.")
            return None
        if found.archived and not self.allow_archived:
            self.fail(index, path, f"Classification {found.name!r} is archived.")
            return None
        return found

    # -- classifications ---------------------------------------------------------------------------------------
    def classifications(
        self, scope: CompiledScope, raw: Any, index: int, path: str, parent: str
    ) -> list[dict[str, Any]] | None:
        """Validate the answers given under one parent; checks required ones are present."""
        if raw is None:
            raw = ()
        elif type(raw) is not list:
            self.fail(index, path, "Must be a list.")
            return None
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for j, item in enumerate(raw):
            ipath = f"{path}[{j}]"
            if type(item) is not dict:
                self.fail(index, ipath, "Must be an object.")
                continue
            if not item.keys() <= _NESTED_KEYS:
                unknown = sorted(set(item) - _NESTED_KEYS, key=str)
                self.fail(index, f"{ipath}.{unknown[0]}", "Unknown field.")
                continue
            feature = self._lookup_classification(scope, item, index, ipath, parent)
            if feature is None:
                continue
            if feature.schema_id in seen:
                self.fail(index, ipath, f"Classification {feature.name!r} is answered more than once.")
                continue
            seen.add(feature.schema_id)
            answer = self.answer(feature, item.get("answer"), index, f"{ipath}.answer")
            if answer is not None:
                out.append({"schema_id": feature.schema_id, "name": feature.name, "answer": answer})
        for required in scope.required:
            if required.schema_id not in seen:
                self.fail(index, path, f"Required classification {required.name!r} is missing.")
        return out

    def answer(self, feature: CompiledClassification, raw: Any, index: int, path: str) -> Any:
        kind = feature.type
        if kind == "radio":
            if type(raw) is list:
                if len(raw) != 1:
                    if not raw:
                        self.fail(index, path, f"Radio {feature.name!r} needs an answer.")
                    else:
                        self.fail(index, path, f"Radio {feature.name!r} takes one answer, got {len(raw)}.")
                    return None
                raw = raw[0]
            return self.option(feature, raw, index, path)
        if kind == "checklist":
            if type(raw) is not list:
                self.fail(index, path, f"Checklist {feature.name!r} takes a list of answers.")
                return None
            if not raw and feature.required:
                self.fail(index, path, f"Required checklist {feature.name!r} needs at least one answer.")
                return None
            chosen = []
            seen: set[str] = set()
            for k, item in enumerate(raw):
                option = self.option(feature, item, index, f"{path}[{k}]")
                if option is None:
                    continue
                if option["schema_id"] in seen:
                    self.fail(index, f"{path}[{k}]", f"Option {option['name']!r} is chosen twice.")
                    continue
                seen.add(option["schema_id"])
                chosen.append(option)
            return chosen
        # text
        if type(raw) is not str:
            self.fail(index, path, f"Text classification {feature.name!r} takes a string answer.")
            return None
        if len(raw) > feature.max_length:
            self.fail(index, path, f"Text is too long: {len(raw)} characters, at most {feature.max_length}.")
            return None
        if "\x00" in raw:
            self.fail(index, path, "Text must not contain NUL characters.")
            return None
        if feature.required and not raw.strip():
            self.fail(index, path, f"Required text {feature.name!r} is empty.")
            return None
        return raw

    def option(self, feature: CompiledClassification, raw: Any, index: int, path: str) -> dict[str, Any] | None:
        if type(raw) is not dict:
            self.fail(index, path, 'An answer is an object naming an option: {"name": "<value>"}.')
            return None
        if not raw.keys() <= _ANSWER_KEYS:
            unknown = sorted(set(raw) - _ANSWER_KEYS, key=str)
            self.fail(index, f"{path}.{unknown[0]}", "Unknown field.")
            return None
        name, sid, ok = self._ref(raw, index, path)
        if not ok:
            return None
        option = feature.options_by_id.get(sid) if sid is not None else feature.options_by_value.get(name)  # type: ignore[arg-type]
        if option is None:
            key = sid if sid is not None else name
            values = ", ".join(repr(v) for v in list(feature.options_by_value)[:20])
            self.fail(index, path, f"Option {_fmt(key)} is not in the list of {feature.name!r} ({values}).")
            return None
        if sid is not None and name is not None and option.value != name:
            self.fail(index, path, f"schema_id {sid} is option {option.value!r}, not {name!r}.")
            return None
        if option.archived and not self.allow_archived:
            self.fail(index, path, f"Option {option.value!r} is archived.")
            return None
        result: dict[str, Any] = {"schema_id": option.schema_id, "name": option.value}
        nested = raw.get("classifications")
        if nested is not None or option.scope.required:
            children = self.classifications(option.scope, nested, index, f"{path}.classifications", option.where)
            if children:
                result["classifications"] = children
        confidence = raw.get("confidence")
        if confidence is not None and self.confidence(confidence, index, f"{path}.confidence"):
            result["confidence"] = confidence
        return result

    def confidence(self, value: Any, index: int, path: str) -> bool:
        if not _is_number(value) or not 0 <= value <= 1:
            self.fail(index, path, "Confidence must be a number from 0 to 1.")
            return False
        return True
