"""Keep secrets out of everything cnilint writes.

The wrapper dumps the plugin's whole environment, which on real nodes holds
tokens and keys. Parsed records keep every value (the rules need them); what
is written out (terminal, JSON, CSV, HTML, SARIF, JUnit, records, timeline)
goes through a Redactor first. It hides:
- the values of variables whose names look secret (TOKEN, SECRET, PASSWORD,
  KEY, CREDENTIAL, AUTH... plus configured patterns), and those same values
  wherever else they appear (a message, a log excerpt, a JSON body);
- values of JSON keys whose names look secret;
- well-known credential formats, whatever their name: cloud access keys,
  GitHub/Slack/Google tokens, JWTs (Kubernetes service account tokens),
  private key blocks, bearer tokens, passwords in URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

MARK = "[REDACTED]"

SECRET_NAME_PATTERNS = (
    r"TOKEN",
    r"SECRET",
    r"PASSW(?:OR)?D",
    r"PASSPHRASE",
    r"(?<![A-Z])KEY(?![A-Z])",  # API_KEY, KEY, SSH_KEY_FILE, not MONKEY
    r"APIKEY",
    r"CREDENTIAL",
    r"AUTH",
    r"PRIVATE",
    r"COOKIE",
    r"SESSION",
    r"SIGNATURE",
)

# Credential formats recognised by their shape, whatever variable holds them.
_CREDENTIAL_FORMATS = (
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",  # Slack
    r"\bAIza[0-9A-Za-z_\-]{35}\b",  # Google API key
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
    r"(?<=\b[Bb]earer )[A-Za-z0-9._~+/-]{16,}=*",
    r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password@ in a URL
)


MAX_REMEMBERED_MESSAGES = 100_000  # distinct finding messages redacted once each
MAX_REMEMBERED_TEXTS = 50_000  # short texts (env values, names) redacted once each
MAX_REMEMBERED_LENGTH = 512


class Redactor:
    """Replace secrets in text, mappings and JSON values; `enabled=False` passes all through."""

    def __init__(self, *, enabled: bool = True, extra_names: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._names = re.compile("|".join([*SECRET_NAME_PATTERNS, *extra_names]), re.IGNORECASE)
        self._formats = re.compile("|".join(f"(?:{pattern})" for pattern in _CREDENTIAL_FORMATS))
        # "a_secret_key": "value" inside raw JSON text: keep the key, hide the value.
        json_key = (
            r'("(?:[^"\\]|\\.)*(?:'
            + "|".join([*SECRET_NAME_PATTERNS, *extra_names])
            + r')(?:[^"\\]|\\.)*"\s*:\s*)"(?:[^"\\]|\\.)*"'
        )
        self._json_pairs = re.compile(json_key, re.IGNORECASE)
        self._values: set[str] = set()
        self._values_pattern: re.Pattern[str] | None = None
        # Env values and names repeat on every record: each short one is redacted once
        # (forgotten whenever a new secret value is learned, which changes the answers).
        self._texts: dict[str, str] = {}
        self._secret_names: dict[str, bool] = {}

    def secret_name(self, name: str) -> bool:
        known = self._secret_names.get(name)
        if known is None:
            known = bool(self._names.search(name))
            if len(self._secret_names) < MAX_REMEMBERED_TEXTS:
                self._secret_names[name] = known
        return known

    def observe(self, variables: Mapping[str, str]) -> None:
        """Learn the values of secret-looking variables, to hide them anywhere."""
        if not self.enabled:
            return
        for name, value in variables.items():
            if value and len(value) >= 4 and self.secret_name(name) and value not in self._values:
                self._values.add(value)
                self._values_pattern = None
                self._texts.clear()

    def text(self, text: str | None) -> str | None:
        if not self.enabled or not text:
            return text
        if len(text) > MAX_REMEMBERED_LENGTH:  # bodies: rarely the same twice
            return self._redacted(text)
        known = self._texts.get(text)
        if known is None:
            known = self._redacted(text)
            if len(self._texts) >= MAX_REMEMBERED_TEXTS:
                self._texts.clear()
            self._texts[text] = known
        return known

    def _redacted(self, text: str) -> str:
        if self._values:
            if self._values_pattern is None:
                ordered = sorted(self._values, key=len, reverse=True)
                self._values_pattern = re.compile("|".join(re.escape(value) for value in ordered))
            text = self._values_pattern.sub(MARK, text)
        text = self._json_pairs.sub(lambda m: f'{m.group(1)}"{MARK}"', text)
        # A multi-line secret (a key block) keeps its line count, so line numbers stay right.
        return self._formats.sub(lambda m: MARK + "\n" * m.group().count("\n"), text)

    def variables(self, variables: Mapping[str, str]) -> dict[str, str]:
        if not self.enabled:
            return dict(variables)
        return {
            name: (MARK if value and self.secret_name(name) else self.text(value) or "")
            for name, value in variables.items()
        }

    def value(self, value: Any) -> Any:
        """A decoded JSON value with secret keys' values and credentials hidden."""
        if not self.enabled:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {
                key: (MARK if isinstance(item, str) and item and self.secret_name(str(key)) else self.value(item))
                for key, item in value.items()
            }
        return value

    def record(self, record: Any) -> Any:
        """A copy of a Record fit for output (the parsed record keeps its values)."""
        if not self.enabled:
            return record
        from cnilint.parse.records import Body, Variables

        self.observe(record.env)
        self.observe(record.params)

        def body(found: Body | None) -> Body | None:
            if found is None:
                return None
            return Body(self.text(found.raw) or "", found.line, self.value(found.value), found.error)

        return replace(
            record,
            params=Variables(tuple(self.variables(dict(record.params.pairs)).items())),
            env=Variables(tuple(self.variables(dict(record.env.pairs)).items())),
            input=body(record.input),
            output=body(record.output),
        )

    def line(self, line: str) -> str:
        """A raw log line: a `NAME=value` line of a secret-looking NAME loses its value."""
        if not self.enabled:
            return line
        name, sep, value = line.partition("=")
        if sep and value.strip() and name.isidentifier() and self.secret_name(name):
            return f"{name}={MARK}" + ("\n" if line.endswith("\n") else "")
        return self.text(line) or ""

    def _finding(self, finding: Any, redacted: dict[str, str]) -> Any:
        """The finding, copied only when its message holds a secret."""
        message = redacted.get(finding.message)
        if message is None:
            message = self.text(finding.message) or ""
            if len(redacted) < MAX_REMEMBERED_MESSAGES:
                redacted[finding.message] = message
        return finding if message == finding.message else replace(finding, message=message)

    def report(self, data: Any) -> Any:
        """A copy of a ReportData with every string that came from a log redacted."""
        if not self.enabled:
            return data
        source = data.read_lines

        def read_lines(file: str, wanted: set[int]) -> dict[int, str]:
            return {number: self.line(text) for number, text in source(file, wanted).items()}

        records = None
        if data.records is not None:
            records = data.records.map(
                lambda row: replace(
                    row,
                    params=self.variables(row.params),
                    input_raw=self.text(row.input_raw),
                    output_raw=self.text(row.output_raw),
                    error_msg=self.value(row.error_msg),
                )
            )
        redacted: dict[str, str] = {}  # findings repeat their messages: redact each text once
        baseline = dict(data.baseline)
        if baseline.get("stale"):
            baseline["stale"] = [self.value(entry) for entry in baseline["stale"]]
        return replace(
            data,
            findings=data.findings.map(lambda finding: self._finding(finding, redacted)),
            problems=[{**problem, "message": self.text(problem["message"])} for problem in data.problems],
            records=records,
            read_lines=read_lines,
            baseline=baseline,
        )
