#!/usr/bin/env python3
"""The straightforward scanner issue 12 compares `warden scan` with: Python `re`, line by line.

Strips escape sequences, applies backspaces, finds prompt lines, runs every command pattern of
the pack on the command after the prompt and every output pattern on the other lines. No shell
normalisation, no prompt learning, no terminal model. Usage: bench-baseline.py PACK < TRANSCRIPT
Prints `MB/s findings` (MB of 10^6 bytes), timed from the first byte read to the last match.
"""
import re, sys, time, tomllib

ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\n]*(?:\x07|\x1b\\)?|[()][0-9A-Za-z]|.)|\r")
BACKSPACE = re.compile(r"[^\x08]\x08")
PROMPT = re.compile(r"^(?:\[[^\]]*\]|[^ ]*@[^ ]*|[^ ]*)[ ]?[$#%>] ")


def python_syntax(pattern):  # Rust's ASCII-only groups have no Python spelling: drop the `-u`.
    return pattern.replace("(?-u:", "(?:").replace("(?i-u:", "(?i:")


rules = tomllib.load(open(sys.argv[1], "rb"))["rule"]
scopes = {"command": [], "output": []}
for rule in rules:
    for pattern in rule["patterns"]:
        scopes[rule.get("scope", "command")].append(re.compile(python_syntax(pattern)))
start, size, found = time.perf_counter(), 0, 0
for raw in sys.stdin.buffer:
    size += len(raw)
    line = ESCAPE.sub("", raw.decode("utf-8", "replace").rstrip("\n"))
    while "\x08" in line:
        line = BACKSPACE.sub("", line, count=1).lstrip("\x08")
    prompt = PROMPT.match(line)
    text, scope = (line[prompt.end():], "command") if prompt else (line, "output")
    found += sum(1 for regex in scopes[scope] if regex.search(text))
print(f"{size / 1e6 / (time.perf_counter() - start):.1f} {found}")
