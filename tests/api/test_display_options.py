"""Display settings travel from the command to the result through the API, not the engines."""

from __future__ import annotations

import bayesmixed as bm


def test_mixed_display_options_reach_the_printed_result():
    data = bm.datasets.load("rats")
    base = "mixed weight i.dose female || litter:"
    r = bm.stata(base + ", level(90) stddeviations baselevels", data)
    assert (r.level, r.display, r.show_base) == (90.0, "stddeviations", True)
    text = str(r)
    assert "[90% conf. interval]" in text and "sd(_cons)" in text and "(base)" in text
    plain = bm.stata(base, data)
    assert (plain.level, plain.display, plain.show_base) == (95.0, "variance", False)
    assert plain.loglik == r.loglik  # printing options never change the estimates
    assert "[95% conf. interval]" in str(plain) and "(base)" not in str(plain)


def test_glmm_eform_and_level_reach_the_printed_result():
    data = bm.datasets.load("bangladesh")
    base = "melogit c_use urban || district:, intmethod(laplace)"
    r = bm.stata(base + " or level(99)", data)
    assert (r.level, r.eform, r.intmethod) == (99.0, "or", "laplace")
    text = str(r)
    assert "Odds ratio" in text and "[99% conf. interval]" in text
    plain = bm.stata(base, data)
    assert (plain.level, plain.eform) == (95.0, None) and plain.loglik == r.loglik
