"""CCL001/CCL002: files conclint could not analyse. The engine reports these itself."""

from conclint.rules.base import Rule


class SyntaxErrorRule(Rule):
    code = "CCL001"
    name = "syntax-error"
    summary = (
        "The file does not parse, is too deeply nested, or costs more to analyse than `file-timeout`, "
        "`max-file-size` or `max-memory` allow."
    )
    explanation = """
        conclint parses every file with libcst. A file that is not valid Python, or whose
        nesting is deeper than CPython's own parser accepts, cannot be analysed: it is
        reported here with the parser's message and position, and the run goes on. So is a
        file whose analysis takes more CPU time than the `file-timeout` setting (60 s by
        default), a file larger than `max-file-size` (10 MB), and one whose analysis needs
        more memory than `max-memory` (2048 MB). Such a file is analysed again by the next
        run: a limit raised since, or a machine less busy, may let it finish.

        Fix the syntax error, raise the limit, or exclude generated files with `extend-exclude`.
    """
    bad = ("def broken(:\n    pass\n",)
    good = ("def fine():\n    pass\n",)


class UnreadableFileRule(Rule):
    code = "CCL002"
    name = "unreadable-file"
    summary = "The file cannot be read or decoded as Python source."
    explanation = """
        The file could not be read (permissions, a vanished file, a directory named
        like a module) or decoded: its bytes are not valid in the encoding its PEP 263
        coding cookie declares (UTF-8 when there is none), or it contains a NUL byte.
        conclint never guesses an encoding; the run goes on with the other files.
    """
    bad = ("# -*- coding: ascii -*-\nname = 'café'\n",)  # written as UTF-8: not ASCII
    good = ("# -*- coding: utf-8 -*-\nname = 'café'\n",)
