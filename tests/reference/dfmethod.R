# Small-sample inference references for dfmethod(satterthwaite) and dfmethod(kroger).
# Run from the repository root:  Rscript tests/reference/dfmethod.R
# Satterthwaite: lmerTest (observed information of the REML criterion in (theta, sigma),
# by numDeriv); Kenward-Roger: lmerTest's ddf = "Kenward-Roger" (pbkrtest::vcovAdj and
# Lb_ddf / KRmodcomp underneath).  All three models are unbalanced and fitted by REML with
# tight optimiser tolerances so that the dfs are those of the optimum, not of the stopping rule.
suppressPackageStartupMessages({
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

ctrl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhobeg = 2e-1, rhoend = 1e-12, maxfun = 1e6))

coef_table <- function(m, ddf) {
  s <- summary(m, ddf = ddf)$coefficients
  list(names = rownames(s), estimate = unname(s[, "Estimate"]), se = unname(s[, "Std. Error"]),
       df = unname(s[, "df"]), t = unname(s[, "t value"]), p = unname(s[, "Pr(>|t|)"]))
}

ftest <- function(m, L, ddf) {
  x <- contest(m, L, joint = TRUE, ddf = ddf)
  list(F = x[["F value"]], ndf = x[["NumDF"]], ddf = x[["DenDF"]], p = x[["Pr(>F)"]])
}

model_ref <- function(m, tests) {
  list(
    formula = deparse(formula(m)),
    reml_criterion = unname(REMLcrit(m)),
    theta = unname(getME(m, "theta")),
    sigma = sigma(m),
    beta = unname(fixef(m)),
    satterthwaite = coef_table(m, "Satterthwaite"),
    kenward_roger = coef_table(m, "Kenward-Roger"),
    ftests = tests
  )
}

jsp <- read.csv("tests/reference/dfmethod_jsp2.csv")
jsp$school <- factor(jsp$school)
jsp$class <- factor(jsp$class)
# Stata: mixed math5 math3 gender || school: || class:, reml
m_jsp <- lmer(math5 ~ math3 + gender + (1 | school) + (1 | school:class), data = jsp,
              REML = TRUE, control = ctrl)
L_jsp <- rbind(c(0, 1, 0), c(0, 0, 1))  # joint test of math3 and gender (2 df)

rats <- read.csv("tests/reference/dfmethod_rats.csv")
rats$litter <- factor(rats$litter)
rats$dose <- factor(rats$dose)
m_rats <- lmer(weight ~ dose + size + female + (1 | litter), data = rats, REML = TRUE,
               control = ctrl)
L_dose <- rbind(c(0, 1, 0, 0, 0), c(0, 0, 1, 0, 0))  # the dose term (2 df)
# Stata: mixed weight i.dose size female || litter: female, cov(unstructured) reml
m_slope <- lmer(weight ~ dose + size + female + (female | litter), data = rats, REML = TRUE,
                control = ctrl)
aov_s <- anova(m_rats, ddf = "Satterthwaite")
aov_k <- anova(m_rats, ddf = "Kenward-Roger")
anova_row <- function(a) list(F = a["dose", "F value"], ndf = a["dose", "NumDF"],
                              ddf = a["dose", "DenDF"], p = a["dose", "Pr(>F)"])

out <- list(
  generated_by = "tests/reference/dfmethod.R",
  versions = list(R = as.character(getRversion()),
                  lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  pbkrtest = as.character(packageVersion("pbkrtest"))),
  jsp2 = model_ref(m_jsp, list(
    slopes = list(L = L_jsp, satterthwaite = ftest(m_jsp, L_jsp, "Satterthwaite"),
                kenward_roger = ftest(m_jsp, L_jsp, "Kenward-Roger"))
  )),
  rats = model_ref(m_rats, list(
    dose = list(L = L_dose, satterthwaite = ftest(m_rats, L_dose, "Satterthwaite"),
                kenward_roger = ftest(m_rats, L_dose, "Kenward-Roger"),
                anova_satterthwaite = anova_row(aov_s),
                anova_kenward_roger = anova_row(aov_k))
  )),
  rats_slope = model_ref(m_slope, list(
    dose = list(L = L_dose, satterthwaite = ftest(m_slope, L_dose, "Satterthwaite"),
                kenward_roger = ftest(m_slope, L_dose, "Kenward-Roger"))
  ))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/dfmethod.json")
