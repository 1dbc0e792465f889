"""Run Stata do-files: the workshop's commands with Stata's semantics.

``run_do(path, out=None, draws=None)`` executes a do-file against one current dataset
and the active/stored estimates, stops at the first failing command with its line
number, and (with ``out``) writes an HTML report folder only after the whole run
succeeded.  With ``log=[stream, ...]`` the log goes to those streams as ``stata -b``
writes it (``bayesmixed run`` prints it on stdout; ``--log FILE`` copies it).

What a do-file may use (``dispatch.supported()`` lists it at run time):

* data: ``use`` (.dta, .csv, bundled names), ``import delimited``, ``save``,
  ``export delimited``, ``describe``, ``codebook``, ``summarize [, meanonly]``,
  ``count``, ``list``, ``tabulate`` (one- and two-way), ``generate``, ``replace``,
  ``egen`` (mean, sum/total, count, max, min, sd, median, group, tag; ``by()``),
  ``keep``/``drop`` (variables, ``if``, ``in``), ``rename``, ``sort``, ``preserve``,
  ``restore``, ``label variable|define|values``, ``xtset``, ``clear [all]``;
* programming: ``local``/``global`` (``= exp``, ``: word count``, ``++``), `` `name' ``,
  ``$name``, `` `=exp' ``, ``display`` (strings, expressions, ``_b[]``, ``_se[]``,
  ``e()``, ``r()``, ``_rc``, ``%fmt``, ``_n``, ``_col()``), ``foreach``,
  ``forvalues``, ``if``/``else`` blocks, ``continue [, break]``, ``exit``, ``set seed``
  (passed to every ``bayes:`` fit), ``set more`` & co. (ignored), ``version``,
  ``macro drop|list``, ``log using|close``, ``do``/``run``;
* prefixes: ``quietly``, ``noisily``, ``capture`` (sets ``_rc``), and
  ``by``/``bysort`` for ``generate``, ``replace``, ``egen``, ``summarize``, ``list``,
  ``tabulate``, ``describe``, ``codebook``, ``display``;
* models: ``regress``, ``mixed`` and the ``me*`` commands with ``bayes:``, ``estimates
  store|restore|table``, ``lrtest``, ``estat ic|group|icc|recovariance|wcorrelation``,
  ``predict``, ``margins`` (with ``marginsplot``), ``contrast``, ``pwcompare``, and the
  graphs.

Locals are shared by a do-file and the do-files it calls (Stata gives each its own).
"""

from .errors import CommandError, DoFileError
from .lexer import DoCommand, split_commands
from .runner import run_do
from .session import Session

__all__ = ["CommandError", "DoCommand", "DoFileError", "Session", "run_do", "split_commands"]
