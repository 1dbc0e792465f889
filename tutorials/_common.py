"""Shared by the tutorial notebooks: draw counts and the Bayesian call, kept honest.

``BAYESMIXED_TUTORIAL_DRAWS`` sets the MCMC draws (the test suite uses a handful).  A
Bayesian fit that this installation cannot run yet prints the library's own message
and returns None: the notebook then shows the ML side only, never invented numbers.
"""

import os

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_TUTORIAL_DRAWS", "500"))


def bayes(command: str, data):
    """Fit ``bayes, mcmcsize(DRAWS) burnin(DRAWS): command``, or None with the reason."""
    try:
        return bm.stata(f"bayes, mcmcsize({DRAWS}) burnin({DRAWS}): {command}", data)
    except bm.BayesmixedError as err:
        print(f"Bayesian fit not available here: {err}")
        return None
