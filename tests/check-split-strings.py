#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No user-visible message split across string literals (STYLE.md: a user
greps the source for the text of a message and must find it).

usage: check-split-strings.py FILE...

Flags two adjacent string literals on consecutive lines when the first does
not end a line of output ("\\n"): that is a sentence cut in two. A literal
ending in "\\n" may be followed by the next line's literal (multi-line text
written line by line).
"""
import re
import sys

LIT = r'"(?:[^"\\\n]|\\.)*"'
PAT = re.compile(r'(' + LIT + r')[ \t]*\n[ \t]*(' + LIT + r')')


def main(paths):
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        pos = 0
        while True:
            m = PAT.search(text, pos)
            if not m:
                break
            pos = m.start(2)
            if m.group(1).endswith('\\n"'):
                continue
            line = text.count("\n", 0, m.start(1)) + 1
            print(f"{path}:{line}: a string literal continues on the next line: "
                  f"{m.group(1)[:60]}", file=sys.stderr)
            bad += 1
    if bad:
        print(f"{bad} split string literal(s): join them (clang-format keeps long literals)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
