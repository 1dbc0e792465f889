# Reference BLUPs (conditional modes) after structured residuals: nlme 3.1 ranef().
#
# Run from the repository root:   Rscript tests/reference/residual_blups.R
# Writes tests/reference/residual_blups.json.  Data: the CSV files bayesmixed ships.
# Each case names the Stata command it stands for; `ranef` holds, per level, the group
# labels and the BLUPs of `_cons` in nlme's order (tests match them by label);
# `normalized` holds nlme's normalized residuals (innermost level) in data row order, what
# Stata's rstandard is after residuals().

suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

files <- "bayesmixed/datasets/files"
rats <- read.csv(file.path(files, "rats.csv"))
prod <- read.csv(file.path(files, "productivity.csv"))
ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, tolerance = 1e-10,
                   msTol = 1e-12, returnObject = TRUE)
fx <- gsp ~ private + emp + hwy + water + other + unemp

level_blups <- function(re) {
  list(labels = rownames(re), `_cons` = unname(re[, "(Intercept)"]))
}

cases <- list()
m <- lme(weight ~ factor(dose) + size + female, random = ~ 1 | litter, data = rats,
         weights = varIdent(form = ~ 1 | female), method = "ML", control = ctrl)
cases$rats_by_female <- list(
  stata = "mixed weight i.dose size female || litter:, residuals(independent, by(female))",
  loglik = as.numeric(logLik(m)), ranef = list(litter = level_blups(ranef(m))),
  normalized = unname(residuals(m, type = "normalized")))

m <- lme(gsp ~ private + unemp, random = ~ 1 | state, data = prod, method = "ML",
         control = ctrl, correlation = corARMA(form = ~ year | state, q = 1))
cases$prod_ma1 <- list(
  stata = "mixed gsp private unemp || state:, residuals(ma 1, t(year))",
  loglik = as.numeric(logLik(m)), ranef = list(state = level_blups(ranef(m))),
  normalized = unname(residuals(m, type = "normalized")))

m <- lme(fx, random = ~ 1 | region / state, data = prod, method = "REML", control = ctrl,
         correlation = corAR1(form = ~ year | region / state))
re <- ranef(m)
states <- re$state
rownames(states) <- sub(".*/", "", rownames(states))  # "region/state" -> state
cases$prod_nested_ar1_reml <- list(
  stata = paste("mixed gsp private emp hwy water other unemp || region: || state:,",
                "residuals(ar 1, t(year)) reml"),
  loglik = as.numeric(logLik(m)),
  ranef = list(region = level_blups(re$region), state = level_blups(states)))

cases$nlme <- as.character(packageVersion("nlme"))
write_json(cases, "tests/reference/residual_blups.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
