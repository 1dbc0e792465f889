# References for margins, contrast and pwcompare after mixed (issue 15, item 4).
# Run from the repository root:  Rscript tests/reference/margins.R
#
# Model: Stata's `mixed weight i.dose size female || litter:` (ML) on the rats data
# (tests/reference/margins_rats.csv), fitted by lme4 with tight optimiser tolerances.
#
# Which quantity: Stata's `margins dose` averages the predictions over the estimation
# sample (dose set to each level for every row).  emmeans' default instead averages over
# a *grid*: numeric covariates at their means and factors' levels weighted equally -- and
# a numeric covariate with two values (female) counts as a factor, so by default emmeans
# averages female = 0 and 1 equally, which is not Stata's quantity.  With female held at
# its sample mean (at = list(female = mean)) the grid is dose x (mean size, mean female),
# and because the linear predictor is linear in size and female the prediction at their
# means IS the sample average of the predictions: that emmeans call is exactly Stata's
# quantity.  For at(size = (5 10)) dose must be averaged over its
# observed frequencies, as Stata's average over the sample does: weights =
# "proportional".  The script checks both against the direct computation (mean of the
# counterfactual rows of the model matrix, delta method with vcov(m)) and stops if they
# differ.  emmeans would otherwise use Kenward-Roger dfs *and the KR-adjusted vcov* for
# an lmer fit; lmer.df = "asymptotic" keeps vcov(m) and z statistics, as Stata's margins.
suppressPackageStartupMessages({
  library(lme4)
  library(emmeans)
  library(jsonlite)
})

rats <- read.csv("tests/reference/margins_rats.csv")
rats$dose <- factor(rats$dose, levels = c(0, 1, 2))
ctrl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhobeg = 2e-1, rhoend = 1e-12, maxfun = 1e6))
m <- lmer(weight ~ dose + size + female + (1 | litter), data = rats, REML = FALSE,
          control = ctrl)
emm_options(lmer.df = "asymptotic")

b <- fixef(m)
V <- as.matrix(vcov(m))

# the direct computation of an average prediction and its delta-method SE
direct <- function(frame) {
  X <- model.matrix(~ dose + size + female, data = frame)
  g <- colMeans(X)
  c(margin = sum(g * b), se = sqrt(drop(t(g) %*% V %*% g)))
}
check <- function(a, b_, what) {
  if (max(abs(a - b_)) > 1e-9) stop(sprintf("%s: emmeans and the direct computation differ", what))
}

# margins dose
female_mean <- list(female = mean(rats$female))
emm <- emmeans(m, ~dose, at = female_mean)
s <- summary(emm)
dir <- sapply(levels(rats$dose), function(d) direct(transform(rats, dose = factor(d, levels(rats$dose)))))
check(s$emmean, dir["margin", ], "margins dose"); check(s$SE, dir["se", ], "margins dose SE")
margins_dose <- list(level = levels(rats$dose), margin = s$emmean, se = s$SE)

# contrast dose (r. = each level vs the base) and pwcompare dose (all pairs, unadjusted)
r_con <- summary(contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "none"), infer = TRUE)
pw <- summary(contrast(emm, "revpairwise", adjust = "none"), infer = TRUE)
# the joint test of the contrasts, Wald chi2 (joint_tests() prints a rounded F)
Lmat <- rbind(c(0, 1, 0, 0, 0), c(0, 0, 1, 0, 0))
Lb <- Lmat %*% b
joint_chi2 <- drop(t(Lb) %*% solve(Lmat %*% V %*% t(Lmat)) %*% Lb)
contrast_dose <- list(label = as.character(r_con$contrast), estimate = r_con$estimate,
                      se = r_con$SE, z = r_con$z.ratio, p = r_con$p.value,
                      chi2 = joint_chi2, df = 2,
                      joint_p = pchisq(joint_chi2, 2, lower.tail = FALSE))
pwcompare_dose <- list(label = as.character(pw$contrast), estimate = pw$estimate,
                       se = pw$SE, z = pw$z.ratio, p = pw$p.value,
                       lower = pw$asymp.LCL, upper = pw$asymp.UCL)

# margins, dydx(size): the average derivative of the linear prediction
tr <- summary(emtrends(m, ~1, var = "size", at = female_mean))
dydx_size <- list(estimate = tr$size.trend, se = tr$SE)

# margins, at(size = (5 10)): dose (and female) as observed
at_emm <- summary(emmeans(m, ~size, at = c(list(size = c(5, 10)), female_mean), weights = "proportional"))
dir_at <- sapply(c(5, 10), function(v) direct(transform(rats, size = v)))
check(at_emm$emmean, dir_at["margin", ], "at(size)"); check(at_emm$SE, dir_at["se", ], "at SE")
at_size <- list(size = c(5, 10), margin = at_emm$emmean, se = at_emm$SE)

# margins dose, dydx(female) would be the coefficient; the grand margin (no marginlist)
grand <- direct(rats)

out <- list(
  model = "mixed weight i.dose size female || litter: (ML)",
  loglik = as.numeric(logLik(m)),
  fixef = as.list(b),
  margins_dose = margins_dose,
  contrast_dose = contrast_dose,
  pwcompare_dose = pwcompare_dose,
  dydx_size = dydx_size,
  at_size = at_size,
  grand = list(margin = unname(grand["margin"]), se = unname(grand["se"]))
)
write_json(out, "tests/reference/margins.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
