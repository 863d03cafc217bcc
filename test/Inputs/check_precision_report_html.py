"""Checks that an HTML precision report is one well-formed, self-contained page.

Usage: check_precision_report_html.py REPORT.html --ops N --casts N

No browser is needed: the page is parsed, its elements must nest, nothing may
be loaded from elsewhere (no src/href to a file or host, no @import or url()),
and the table and the graph must hold the expected ops and casts.
"""
import argparse
import html.parser
import sys

# Elements HTML lets go unclosed.
VOID = {"meta", "br", "input", "link", "img", "hr", "col", "source", "wbr", "area", "base"}
# SVG shapes this report writes self-closed.
SELF_CLOSED = {"rect", "polygon", "ellipse", "line", "path"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.problems = [], []
        self.rows = self.op_nodes = self.cast_shapes = self.scripts = 0
        self.in_tbody = False
        self.text_in = {"style": "", "script": ""}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                self.problems.append(f"<{tag} {name}={attrs[name]!r}> loads something")
        if tag == "link":
            self.problems.append("<link> loads something")
        if tag == "tbody":
            self.in_tbody = True
        if tag == "tr" and self.in_tbody:
            self.rows += 1
        if tag == "g" and "data-row" in attrs:
            self.op_nodes += 1
        if tag == "polygon" and attrs.get("class") == "cast":
            self.cast_shapes += 1
        if tag == "script":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_tbody = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] in self.text_in:
            self.text_in[self.stack[-1]] += data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--ops", type=int, required=True)
    parser.add_argument("--casts", type=int, required=True)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as f:
        text = f.read()
    checker = Checker()
    checker.feed(text)
    checker.close()
    problems = checker.problems
    if checker.stack:
        problems.append(f"unclosed: {checker.stack}")
    for where, code in checker.text_in.items():
        for needle in ("@import", "url(", "fetch(", "XMLHttpRequest", "://"):
            if needle in code:
                problems.append(f"<{where}> uses {needle}")
    if checker.scripts != 1:
        problems.append(f"{checker.scripts} scripts, expected one inline")
    if checker.rows != args.ops:
        problems.append(f"{checker.rows} table rows, expected {args.ops}")
    if checker.op_nodes != args.ops:
        problems.append(f"{checker.op_nodes} op nodes in the graph, expected {args.ops}")
    if checker.cast_shapes != args.casts:
        problems.append(f"{checker.cast_shapes} casts in the graph, expected {args.casts}")
    if problems:
        sys.exit("invalid HTML report:\n  " + "\n  ".join(problems))
    print(f"valid: {checker.rows} rows, {checker.cast_shapes} casts")


if __name__ == "__main__":
    main()
