# References for `contrast` of interactions after mixed (issue 15): Stata's interaction
# contrasts r.a#r.b and the joint tests of a, b and a#b, on balanced ("asbalanced") margins.
# Run from the repository root:  Rscript tests/reference/contrast_interaction.R
#
# Models (ML, lme4 with tight optimiser tolerances) on the rats data
# (tests/reference/margins_rats.csv):
#   A: Stata's `mixed weight i.dose##i.female size || litter:`   (3 x 2 interaction)
#   B: Stata's `mixed weight i.dose##i.sizeg female || litter:`  (3 x 3 interaction),
#      with sizeg = (size >= 12) + (size >= 14), a litter-size group made here and in the test.
#
# Stata's asbalanced margin of a cell is the linear prediction with every other factor's
# levels weighted equally and each continuous covariate at its mean.  emmeans' reference grid
# is that, once the 0/1 covariate female of model B is held at its mean (emmeans would
# otherwise treat a two-valued numeric as a factor).  The interaction contrast
# (j vs 0)(k vs 0) is emmeans' contrast(..., interaction = c("trt.vs.ctrl", "trt.vs.ctrl"));
# lmer.df = "asymptotic" keeps vcov(m) and z statistics, as Stata's contrast after mixed.
# Each joint test is computed twice: by emmeans' test(joint = TRUE) (F with infinite
# denominator df, so chi2 = F * df1; emmeans rounds F, so its p-value is compared) and by a
# direct L-matrix Wald chi2 written here from fixef(m) and vcov(m); the script stops if
# they differ.
suppressPackageStartupMessages({
  library(lme4)
  library(emmeans)
  library(jsonlite)
})

rats <- read.csv("tests/reference/margins_rats.csv")
rats$dose <- factor(rats$dose, levels = c(0, 1, 2))
rats$sizeg <- factor((rats$size >= 12) + (rats$size >= 14), levels = c(0, 1, 2))
rats$fem <- factor(rats$female, levels = c(0, 1))
ctrl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhobeg = 2e-1, rhoend = 1e-12, maxfun = 1e6))
emm_options(lmer.df = "asymptotic")

wald <- function(L, b, V) {
  Lb <- L %*% b
  drop(t(Lb) %*% solve(L %*% V %*% t(L)) %*% Lb)
}

# con@linfct: the contrasts' rows in beta (emmeans' cell rows combined by the contrast)
joint <- function(con, b, V, what) {
  chi2 <- wald(con@linfct, b, V)
  tst <- test(con, joint = TRUE)  # F.ratio comes rounded to 3 decimals; p.value does not
  p <- pchisq(chi2, tst$df1, lower.tail = FALSE)
  if (!is.infinite(tst$df2) || abs(tst$p.value - p) > 1e-8 * p ||
      abs(tst$F.ratio * tst$df1 - chi2) > 2e-3 * tst$df1)
    stop(sprintf("%s: emmeans' joint test and the direct chi2 differ", what))
  list(chi2 = chi2, df = tst$df1, joint_p = p)
}

listing <- function(con) {
  s <- summary(con, infer = TRUE)
  list(estimate = s$estimate, se = s$SE, z = s$z.ratio, p = s$p.value,
       lower = s$asymp.LCL, upper = s$asymp.UCL)
}

reference <- function(m, a, bname, at = list()) {
  b <- fixef(m)
  V <- as.matrix(vcov(m))
  cells <- emmeans(m, as.formula(paste("~", a, "*", bname)), at = at)
  inter <- contrast(cells, interaction = c("trt.vs.ctrl", "trt.vs.ctrl"))
  main_a <- contrast(emmeans(m, as.formula(paste("~", a)), at = at), "trt.vs.ctrl")
  main_b <- contrast(emmeans(m, as.formula(paste("~", bname)), at = at), "trt.vs.ctrl")
  list(
    loglik = as.numeric(logLik(m)),
    cells = list(emmean = summary(cells)$emmean, se = summary(cells)$SE),
    interaction = c(listing(inter), joint(inter, b, V, "interaction")),
    main_a = c(listing(main_a), joint(main_a, b, V, "main a")),
    main_b = c(listing(main_b), joint(main_b, b, V, "main b"))
  )
}

m_a <- lmer(weight ~ dose * fem + size + (1 | litter), data = rats, REML = FALSE,
            control = ctrl)
m_b <- lmer(weight ~ dose * sizeg + female + (1 | litter), data = rats, REML = FALSE,
            control = ctrl)

out <- list(
  generated_by = "tests/reference/contrast_interaction.R",
  versions = list(R = as.character(getRversion()),
                  lme4 = as.character(packageVersion("lme4")),
                  emmeans = as.character(packageVersion("emmeans"))),
  dose_female = reference(m_a, "dose", "fem"),
  dose_sizeg = reference(m_b, "dose", "sizeg", at = list(female = mean(rats$female)))
)
write_json(out, "tests/reference/contrast_interaction.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
