#!/usr/bin/env python3
"""Prints the longest functions of kiln's C++ sources, longest first: lines from the start of the
signature to the closing brace, a lambda counted inside its function and a member function
defined in its class on its own. With --limit N, exits 1 when any is longer than N lines.

    tools/function_lengths.py [--top K] [--limit N] [FOLDER...]
"""
import argparse
import pathlib
import re
import sys

FOLDERS = ["ir", "passes", "codegen", "compiler", "common", "frontend", "runtime", "tools"]
CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\b\s*(\(|$)")
TYPE_HEAD = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def code_only(text):
    """The text with comments, strings and character literals blanked, newlines kept."""
    out, i, n = [], 0, len(text)
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|R"(\w*)\(.*?\)\1"|"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'', re.S)
    for m in pattern.finditer(text):
        out.append(text[i:m.start()])
        out.append(re.sub(r"[^\n]", " ", m.group(0)))
        i = m.end()
    out.append(text[i:])
    return "".join(out)


def functions(path):
    """(lines, first line, name) of each outermost function body in a C++ file."""
    text = code_only(path.read_text(errors="replace"))
    stack = []  # kinds of the open braces: "scope", "function" or "block"
    header_start, header = 0, []
    line = 1
    found = []
    for ch in text:
        if ch == "\n":
            line += 1
        if ch == "{":
            head = " ".join("".join(header).split())
            if "function" in stack:
                kind = "block"
            elif "(" in head and not TYPE_HEAD.match(head) and not CONTROL.search(head) and not head.startswith("#"):
                kind = "function"
            else:
                kind = "scope"
            if kind == "function":
                name = re.findall(r"([~\w:<>=!+\-*/\[\]]+)\s*\(", head.split(")")[0] + ")")
                stack.append(("function", header_start, name[-1] if name else head[:40]))
            else:
                stack.append((kind, 0, ""))
            header, header_start = [], line
        elif ch == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function" and "function" not in [k for k, _, _ in stack]:
                    found.append((line - start + 1, start, name))
            header, header_start = [], line
        elif ch == ";":
            header, header_start = [], line
        else:
            if not header and not ch.isspace():
                header_start = line
            if header or not ch.isspace():
                header.append(ch)
    # A macro line (#include, #define) is no part of a signature.
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("folders", nargs="*", default=FOLDERS)
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    rows = []
    for folder in args.folders:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".cpp", ".h") and path.is_file():
                for length, start, name in functions(path):
                    rows.append((length, f"{path.relative_to(root)}:{start}", name))
    rows.sort(key=lambda r: (-r[0], r[1]))
    for length, where, name in rows[: args.top]:
        print(f"{length:5d}  {where}  {name}")
    over = [r for r in rows if args.limit and r[0] > args.limit]
    if over:
        print(f"function_lengths.py: {len(over)} function(s) longer than {args.limit} lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
