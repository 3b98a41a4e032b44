"""The thresholds file as people read it: one line per threshold, the settings block written out,
and every comment of the file it replaces kept (each threshold's reason lives in its comment).

PyYAML drops comments, so they are read beside the parse: the composed node tree gives each
key's line, and the text after the key's value on that line is its comment. Comment-only lines
stay above the key they precede; those before the first key and after the last keep their place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml

Path_ = tuple[str, ...]  # a key's place in the file, e.g. ("defaults", "success_rate")


@dataclass
class Comments:
    """The comments of a thresholds file, by the key they belong to."""

    header: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    above: dict[Path_, list[str]] = field(default_factory=dict)
    inline: dict[Path_, str] = field(default_factory=dict)

    def for_entry(self, path: Path_) -> str | None:
        """An entry's comment: its own, or those of its fields joined (a block-style entry)."""
        if path in self.inline:
            return self.inline[path]
        parts = [c for p, c in self.inline.items() if p[:-1] == path]
        return "; ".join(parts) or None


def _tail_comment(line: str, after_column: int) -> str | None:
    rest = line[after_column:].lstrip(" \t:")
    return rest[1:].strip() if rest.startswith("#") else None


def read_comments(text: str) -> Comments:
    """The comments of a YAML text, keyed by the path of the mapping key they belong to."""
    lines = text.splitlines()
    found = Comments()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return found
    if not isinstance(root, yaml.MappingNode):
        found.header = [ln for ln in lines if ln.lstrip().startswith("#")]
        return found
    taken: set[int] = set()

    def comment_lines(start: int, stop: int) -> list[str]:
        out = [lines[i].strip() for i in range(start, stop)
               if i not in taken and lines[i].lstrip().startswith("#")]
        taken.update(range(start, stop))
        return out

    previous_end = 0

    def walk(node: yaml.MappingNode, prefix: Path_) -> None:
        nonlocal previous_end
        for key, value in node.value:
            path = prefix + (str(key.value),)
            line = key.start_mark.line
            above = comment_lines(previous_end, line)
            if above:
                found.above[path] = above
            taken.add(line)
            if isinstance(value, yaml.MappingNode) and not value.flow_style:
                comment = _tail_comment(lines[line], key.end_mark.column)
                previous_end = line + 1
                if comment:
                    found.inline[path] = comment
                walk(value, path)
            else:
                end = value.end_mark
                comment = _tail_comment(lines[end.line], end.column) if end.line < len(
                    lines) else None
                if comment:
                    found.inline[path] = comment
                taken.update(range(line, end.line + 1))
                previous_end = max(previous_end, end.line + 1)

    first_key_line = root.value[0][0].start_mark.line if root.value else len(lines)
    found.header = comment_lines(0, first_key_line)
    previous_end = first_key_line
    walk(root, ())
    found.footer = comment_lines(previous_end, len(lines))
    return found


def _scalar(value) -> str:
    """A value as YAML text: numbers plainly, strings quoted only when they must be."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def _flow(entry: dict) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in entry.items()) + "}"


def _one_line(comment: str) -> str:
    return " ".join(comment.split())


def render(data: dict, comments: Comments, notes: dict[Path_, str] | None = None) -> str:
    """The thresholds (as a plain dict: settings, defaults, systems) as commented YAML. A note
    replaces the comment of the entry it names: the reason given for changing it."""
    notes = notes or {}
    out: list[str] = list(comments.header)
    if out:
        out.append("")

    def emit(path: Path_, text: str, heading: bool = False) -> None:
        indent = "  " * (len(path) - 1)
        out.extend(indent + c for c in comments.above.get(path, []))
        own = comments.inline.get(path) if heading else comments.for_entry(path)
        note = notes.get(path, own)
        out.append(f"{indent}{text}" + (f"  # {_one_line(note)}" if note else ""))

    def block(path: Path_, mapping: dict, flow_children: bool) -> None:
        width = max((len(_scalar(k)) for k in mapping), default=0) + 1
        for key, value in mapping.items():
            child = path + (str(key),)
            label = f"{_scalar(key) + ':':<{width}} " if flow_children else f"{_scalar(key)}:"
            if isinstance(value, dict) and not flow_children:
                emit(child, label, heading=True)
                block(child, value, flow_children=len(child) == 3 and child[-1] == "metrics")
            elif isinstance(value, dict):
                emit(child, f"{label}{_flow(value)}")
            else:
                emit(child, f"{label.rstrip()} {_scalar(value)}")

    for section in ("settings", "defaults", "systems"):
        if section not in data or (section == "systems" and not data[section]):
            continue
        emit((section,), f"{section}:", heading=True)
        block((section,), data[section], flow_children=section == "defaults")
        out.append("")
    if comments.footer:
        out.extend(comments.footer)
    return "\n".join(out).rstrip("\n") + "\n"
