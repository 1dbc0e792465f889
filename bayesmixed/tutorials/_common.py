"""Shared by the tutorial notebooks: draw counts and the Bayesian call, kept honest.

``BAYESMIXED_TUTORIAL_DRAWS`` and ``BAYESMIXED_TUTORIAL_CHAINS`` set the MCMC size (the
test suite uses a handful).  A Bayesian fit that this version cannot run yet prints the
library's own message and returns None: the notebook then shows the ML side only, never
invented numbers.  Any other error (a typo, a bad variable) stops the notebook.
"""

import os
import sys

import bayesmixed as bm
from bayesmixed.errors import NotSupportedError

DRAWS = int(os.environ.get("BAYESMIXED_TUTORIAL_DRAWS", "500"))
CHAINS = int(os.environ.get("BAYESMIXED_TUTORIAL_CHAINS", "2"))


def bayes(command: str, data):
    """Fit ``bayes, mcmcsize(DRAWS) burnin(DRAWS) nchains(CHAINS): command``, or None."""
    prefix = f"bayes, mcmcsize({DRAWS}) burnin({DRAWS}) nchains({CHAINS})"
    try:
        return bm.stata(f"{prefix}: {command}", data, progressbar=sys.stdout.isatty())
    except NotSupportedError as err:
        print(f"Bayesian fit not available in this version: {err}")
        return None
