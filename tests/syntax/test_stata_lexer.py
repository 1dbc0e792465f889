import pytest

from bayesmixed.errors import StataSyntaxError
from bayesmixed.syntax.lexer import tokenize


def kinds(text):
    return [(t.kind, t.text, t.col) for t in tokenize(text)]


def test_tokens_carry_columns_and_double_bars():
    assert kinds("y x || id:") == [
        ("NAME", "y", 0),
        ("NAME", "x", 2),
        ("||", "||", 4),
        ("NAME", "id", 7),
        (":", ":", 9),
        ("EOF", "", 10),
    ]


def test_single_bar_and_comparisons_are_operators():
    assert [t.kind for t in tokenize("a>1|b~=2&c!=.")][:-1] == [
        "NAME",
        ">",
        "NUMBER",
        "|",
        "NAME",
        "~=",
        "NUMBER",
        "&",
        "NAME",
        "!=",
        ".",
    ]


@pytest.mark.parametrize("text", [".5", "1e3", "2.5e-2", "12"])
def test_numbers(text):
    token = tokenize(text)[0]
    assert token.kind == "NUMBER" and token.end == len(text)


def test_factor_prefix_splits_into_name_dot_name():
    assert [t.text for t in tokenize("ib2.dose")][:-1] == ["ib2", ".", "dose"]


def test_wildcards_are_separate_tokens_glued_by_column():
    toks = tokenize("child* x")
    assert toks[0].end == toks[1].col and toks[1].kind == "*"
    assert toks[2].col > toks[1].end


def test_unterminated_string_points_at_quote():
    with pytest.raises(StataSyntaxError) as info:
        tokenize('y if s == "abc')
    assert info.value.column == 10


def test_bad_character():
    with pytest.raises(StataSyntaxError) as info:
        tokenize("y x @ z")
    assert info.value.column == 4


def test_do_file_continuation_and_block_comments():
    text = "mixed y x /* fixed part */ ///\n   || id:"
    assert [t.text for t in tokenize(text)][:-1] == ["mixed", "y", "x", "||", "id", ":"]
    with pytest.raises(StataSyntaxError):
        tokenize("mixed y /* open")
