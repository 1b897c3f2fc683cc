"""Quality checks run on every item at intake: grounded, banned terms, confidence, required."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from bot.base.levels import Kind
from bot.base.spec_model import Checks
from bot.base.submission import Submission
from bot.base.textnorm import skeleton

# Explain-why content each kind must carry unless the spec says otherwise.
DEFAULT_REQUIRED: dict[Kind, list[str]] = {
    Kind.BRIEF: ["summary"],
    Kind.SUMMARY: ["summary"],
    Kind.RECOMMENDATION: ["reasons"],
    Kind.TASK: ["reasons"],
    Kind.FIELD_UPDATE: ["reasons"],
    Kind.MESSAGE_DRAFT: ["reasons"],
    Kind.DECISION: ["reasons", "sources"],
}


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict; `on_fail` says what a failure does (warn, escalate, block)."""

    name: str
    passed: bool
    on_fail: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored on the item."""
        return {
            "name": self.name,
            "passed": self.passed,
            "on_fail": self.on_fail,
            "detail": self.detail,
        }


def run_checks(sub: Submission, checks: Checks) -> list[CheckResult]:
    """Run every configured check; the order is stable so traces read the same way."""
    results = [_required(sub, checks)]
    if checks.grounded:
        results.append(
            _grounded(
                sub,
                checks.grounded.min_sources,
                checks.grounded.require_url,
                checks.grounded.on_fail,
            )
        )
    if checks.banned_terms:
        results.append(_banned(sub, checks.banned_terms.terms, checks.banned_terms.on_fail))
    if checks.confidence:
        results.append(_confidence(sub, checks.confidence.min, checks.confidence.on_fail))
    if sub.changes:
        results.append(_observed(sub))
    return results


def item_text(sub: Submission) -> str:
    """Every piece of free text in an item, for term and pattern matching."""
    parts = [sub.title, sub.summary, *sub.reasons]
    parts += [str(c.value) for c in sub.changes if c.value is not None]
    if sub.task:
        parts += [sub.task.subject, sub.task.description]
    if sub.message:
        parts += [sub.message.subject, sub.message.body]
    return "\n".join(parts)


def _required(sub: Submission, checks: Checks) -> CheckResult:
    wanted = checks.required.fields.get(sub.kind, DEFAULT_REQUIRED[sub.kind])
    missing = [name for name in wanted if not getattr(sub, name, None)]
    detail = f"missing {', '.join(missing)}" if missing else f"has {', '.join(wanted)}"
    return CheckResult("required", not missing, checks.required.on_fail, detail)


def _grounded(sub: Submission, min_sources: int, require_url: bool, on_fail: str) -> CheckResult:
    usable = [s for s in sub.sources if s.url or (s.excerpt and not require_url)]
    if require_url:
        usable = [s for s in usable if s.url]
    what = "sources with a URL" if require_url else "sources with a URL or excerpt"
    detail = f"{len(usable)} of {min_sources} {what}"
    return CheckResult("grounded", len(usable) >= min_sources, on_fail, detail)


def _banned(sub: Submission, terms: list[str], on_fail: str) -> CheckResult:
    # Compared as skeletons, so a soft hyphen, a zero-width space, fullwidth or Cyrillic letters
    # cannot hide a banned word that a reader would still see.
    text = skeleton(item_text(sub))
    found = [t for t in terms if _term(t).search(text)]
    detail = f"contains {', '.join(repr(t) for t in found)}" if found else "no banned terms"
    return CheckResult("banned_terms", not found, on_fail, detail)


@functools.lru_cache(maxsize=4096)
def _term(term: str) -> re.Pattern[str]:
    """A banned term's skeleton as a whole-word pattern, compiled once per term."""
    return re.compile(rf"(?<!\w){re.escape(skeleton(term))}(?!\w)")


def _confidence(sub: Submission, minimum: float, on_fail: str) -> CheckResult:
    if sub.confidence is None:
        return CheckResult("confidence", False, on_fail, f"no confidence given (min {minimum})")
    ok = sub.confidence >= minimum
    detail = f"{sub.confidence:.2f} {'>=' if ok else '<'} {minimum:.2f}"
    return CheckResult("confidence", ok, on_fail, detail)


def _observed(sub: Submission) -> CheckResult:
    blind = [c.field for c in sub.changes if not c.observed_given]
    if blind:
        detail = f"no observed value for {', '.join(blind)}: conflicts cannot be detected"
        return CheckResult("observed", False, "warn", detail)
    return CheckResult("observed", True, "warn", "every change says what the agent saw")
