# lme4's log likelihood for the hard models of tests/reliability/test_hard_models.py.
# Data: hard_models.csv (written by hard_models_data.py).  Run from the repository root:
#   Rscript tests/reference/hard_models.R
# Each fit uses ML (REML = FALSE) and, where lme4 refuses a model by default
# (one observation per level), the checks are turned off so it still reports its optimum.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
d <- read.csv("tests/reference/hard_models.csv")
ctl <- lmerControl(check.nobs.vs.nlev = "ignore", check.nobs.vs.nRE = "ignore",
                   check.nlev.gtr.1 = "ignore")
best_lmer <- function(f) {
  fits <- list(lmer(f, d, REML = FALSE, control = ctl),
               lmer(f, d, REML = FALSE, control = lmerControl(optimizer = "Nelder_Mead",
                    check.nobs.vs.nlev = "ignore", check.nobs.vs.nRE = "ignore")))
  ll <- sapply(fits, function(m) as.numeric(logLik(m)))
  m <- fits[[which.max(ll)]]
  list(loglik = max(ll), singular = isSingular(m), theta = unname(getME(m, "theta")))
}
best_glmer <- function(f) {
  m <- tryCatch(suppressWarnings(glmer(f, d, family = binomial, nAGQ = 1)),
                error = function(e) conditionMessage(e))
  if (is.character(m)) return(list(error = m))  # lme4 gives up (e.g. complete separation)
  list(loglik = as.numeric(logLik(m)), singular = isSingular(m),
       beta = unname(fixef(m)))
}
out <- list(
  variance_zero = best_lmer(y_null ~ x + (1 | g)),
  corr_one = best_lmer(y_corr ~ x + (x | g)),
  one_obs_per_level = best_lmer(y_null ~ x + (1 | id)),
  two_groups = best_lmer(y_null ~ 1 + (1 | two)),
  slope_unscaled = best_lmer(y_slope ~ x + (x | g)),
  slope_x1000 = best_lmer(y_slope ~ xbig + (xbig | g)),
  logit_separation = best_glmer(b_sep ~ x + (1 | g)),
  logit_ordinary = best_glmer(b ~ x + (x | g))
)
out$R <- R.version.string
out$lme4 <- as.character(packageVersion("lme4"))
write_json(out, "tests/reference/hard_models.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
