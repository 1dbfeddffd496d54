"""A "code view" of CUDA source: comments and the contents of string/char literals replaced by spaces,
offsets and newlines kept, so regexes for keywords do not fire inside comments or strings."""

from __future__ import annotations


def code_view(text: str) -> str:
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for j in range(i, end):
                if text[j] != "\n":
                    out[j] = " "
            i = end
        elif text[i] in "\"'" and not (
            text[i] == "'" and i and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            quote, j = text[i], i + 1
            while j < n and text[j] not in (quote, "\n"):
                if text[j] == "\\":
                    out[j] = " "
                    j += 1
                if j < n and text[j] != "\n":
                    out[j] = " "
                j += 1
            i = j + 1
        else:
            i += 1
    return "".join(out)
