"""Prints one closing line 'N passed, N failed, N skipped' from an XCTest log (swift test output)."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
passed = len(re.findall(r"^Test Case '.*' passed", text, re.M))
failed = len(re.findall(r"^Test Case '.*' failed", text, re.M))
skipped = len(re.findall(r"^Test Case '.*' skipped", text, re.M))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
