# lme4's optimum for the kb07-shaped maximal model of maximal.csv (maximal_data.py):
# 4 x 4 unstructured covariances on crossed subjects and items, 20 parameters, ML and REML.
# Run from the repository root:  Rscript tests/reference/maximal.R
# Each criterion is fitted with three optimizers at tight tolerances and the best kept: a
# peer's default can stop short on such a model (issue 13).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
d <- read.csv("tests/reference/maximal.csv")
d$subj <- factor(d$subj); d$item <- factor(d$item)
f <- rt ~ spkr + prec + sp + (1 + spkr + prec + sp | subj) + (1 + spkr + prec + sp | item)
best <- function(reml) {
  ctls <- list(
    default = lmerControl(),
    bobyqa = lmerControl(optimizer = "bobyqa",
                         optCtrl = list(maxfun = 1e5, rhoend = 1e-10)),
    nelder_mead = lmerControl(optimizer = "Nelder_Mead",
                              optCtrl = list(maxfun = 1e5, FtolAbs = 1e-12, XtolRel = 1e-12))
  )
  fits <- lapply(ctls, function(ctl) suppressMessages(suppressWarnings(
    lmer(f, d, REML = reml, control = ctl))))
  ll <- sapply(fits, function(m) as.numeric(logLik(m)))
  m <- fits[[which.max(ll)]]
  list(loglik = max(ll), loglik_by_optimizer = as.list(ll), singular = isSingular(m),
       beta = unname(fixef(m)), sigma = sigma(m))
}
out <- list(ml = best(FALSE), reml = best(TRUE))
out$R <- R.version.string
out$lme4 <- as.character(packageVersion("lme4"))
write_json(out, "tests/reference/maximal.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
