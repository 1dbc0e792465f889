"""``mixed ..., dfmethod()`` (issue 15, item 1): parsed into the typed display options."""

import pytest

from bayesmixed.errors import StataSyntaxError
from bayesmixed.spec.dfmethod import DFMethod
from bayesmixed.spec.options import DisplayOptions
from bayesmixed.syntax import stata_to_spec


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("reml dfmethod(kroger)", "kroger"),
        ("dfm(residual)", "residual"),
        ("dfmethod(rep)", "repeated"),
        ("dfmethod(anova) mle", "anova"),
        ("reml dfmethod(sat)", "satterthwaite"),
        ("reml dfmethod(satterthwaite, eim)", "satterthwaite"),
        ("dfmethod(satterthwaite, oim) reml", "satterthwaite, oim"),
    ],
)
def test_dfmethod_is_a_display_option(frame, written, stored):
    spec = stata_to_spec(f"mixed math5 math3 || school:, {written}", frame)
    assert spec.display.dfmethod == stored
    assert str(DFMethod.parse(stored)) == stored
    plain = stata_to_spec("mixed math5 math3 || school:", frame)
    assert plain.display == DisplayOptions() and plain.display.dfmethod is None


@pytest.mark.parametrize(
    ("written", "message", "caret_at"),
    [
        ("dfmethod(kroger)", "only available with REML", "dfmethod(kroger)"),
        ("mle dfmethod(sat)", "only available with REML", "dfmethod(sat)"),
        ("reml dfmethod(kenward)", "unknown dfmethod 'kenward'", "kenward"),
        ("reml dfmethod(re)", "unknown dfmethod 're'", "re)"),
        ("reml dfmethod(kroger, oim)", "does not take 'oim'", "kroger, oim"),
        ("reml dfmethod(anova) dfmethod(anova)", "given twice", "dfmethod(anova)"),
    ],
)
def test_bad_dfmethod_points_at_the_option(frame, written, message, caret_at):
    source = f"mixed math5 math3 || school:, {written}"
    with pytest.raises(StataSyntaxError, match=message) as info:
        stata_to_spec(source, frame)
    assert info.value.column == source.rfind(caret_at)  # the caret: last occurrence


def test_dfmethod_belongs_to_mixed_only(frame):
    frame = frame.assign(c_use=(frame.math5 > 0).astype(int))
    with pytest.raises(StataSyntaxError, match="only allowed with mixed"):
        stata_to_spec("melogit c_use math3 || school:, dfmethod(residual)", frame)


def test_display_options_refuse_an_unknown_dfmethod():
    from bayesmixed.errors import SpecificationError

    with pytest.raises(SpecificationError, match="dfmethod must be one of"):
        DisplayOptions(dfmethod="kenward-roger")
