"""The do-file lexer: Stata's comment and continuation rules, with line numbers."""

import pytest

from bayesmixed.dofile import split_commands
from bayesmixed.errors import StataSyntaxError


def texts(source):
    return [(c.text, c.line, c.kind) for c in split_commands(source)]


def test_star_and_slash_comments_are_dropped():
    src = "* a comment\nuse jsp2, clear // trailing\n  * indented comment\nsummarize math5\n"
    assert texts(src) == [("use jsp2, clear", 2, "command"), ("summarize math5", 4, "command")]


def test_triple_slash_joins_lines_and_keeps_the_first_line_number():
    src = "\n\nmixed math5 math3 || school: math3, ///  cov next\n    cov(unstructured)\nsort id\n"
    assert texts(src) == [
        ("mixed math5 math3 || school: math3, cov(unstructured)", 3, "command"),
        ("sort id", 5, "command"),
    ]


def test_block_comments_span_lines_and_nest():
    src = "use jsp2 /* one\n /* nested */ still\n*/ , clear\nsummarize\n"
    assert texts(src) == [("use jsp2 , clear", 1, "command"), ("summarize", 4, "command")]


def test_slashes_inside_strings_and_urls_are_not_comments():
    src = 'use "data//x.dta", clear\ngen y = x//comment\n'
    assert texts(src)[0][0] == 'use "data//x.dta", clear'
    assert texts(src)[1][0] == "gen y = x//comment"  # '//' needs a blank before it


def test_headings_come_from_star_hash_comments():
    assert texts("* # 1. Schools\nuse jsp2\n") == [
        ("1. Schools", 1, "heading"),
        ("use jsp2", 2, "command"),
    ]


def test_star_comment_continued_by_triple_slash():
    assert texts("* comment ///\nstill comment\nsort id\n") == [("sort id", 3, "command")]


def test_unclosed_block_comment_names_its_line():
    with pytest.raises(StataSyntaxError, match="line 2"):
        split_commands("use jsp2\n/* never closed\nsort id\n")


def test_unterminated_string_names_its_line():
    with pytest.raises(StataSyntaxError, match="line 1"):
        split_commands('use "jsp2\n')
