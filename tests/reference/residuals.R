# Reference values for structured residuals (issue 3): Stata's residuals() vs nlme 3.1.
#
# Run from the repository root:   Rscript tests/reference/residuals.R
# Writes tests/reference/residuals.json.  Data: the CSV files bayesmixed ships
# (bayesmixed/datasets/files), so R and Python fit identical numbers.
#
# Each case names the Stata command it stands for (`stata`), the sample restriction
# applied to the CSV (`subset`, an R/pandas expression), and nlme's log likelihood
# (ML, or the REML criterion for method "REML").  Where nlme's estimates are also
# compared, they are named as Stata prints them.  Equivalences used:
#   residuals(independent, by(g))   weights = varIdent(form = ~1 | g)
#   residuals(exchangeable)         correlation = corCompSymm(form = ~1 | panel)
#   residuals(ar p, t(t))           correlation = corARMA(form = ~t | panel, p = p) (corAR1 if p=1)
#   residuals(ma q, t(t))           correlation = corARMA(form = ~t | panel, q = q)
#   residuals(unstructured, t(t))   corSymm(form = ~k | panel) + varIdent(form = ~1 | t)
#   residuals(exponential, t(t))    corExp(form = ~t | panel): rho = exp(-1/range)
# corAR1/corARMA use the integer time covariate, so panels with gaps use the time lags,
# as Stata does.

suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

files <- "bayesmixed/datasets/files"
rats <- read.csv(file.path(files, "rats.csv"))
prod <- read.csv(file.path(files, "productivity.csv"))
prod$tq <- sqrt(prod$year - 1969)            # a non-integer, unevenly spaced time
gaps <- subset(prod, (state * 7 + year) %% 5 != 0)
short <- subset(prod, year <= 1973)
short$k <- short$year - 1969                 # corSymm wants positions 1, 2, ...
ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, tolerance = 1e-10,
                   msTol = 1e-12, returnObject = TRUE)
fx <- gsp ~ private + emp + hwy + water + other + unemp

cases <- list()
add <- function(name, stata, fit, subset = "", extra = list()) {
  cases[[name]] <<- c(list(stata = stata, subset = subset, method = fit$method,
                           loglik = as.numeric(logLik(fit)),
                           nlme = as.character(packageVersion("nlme"))), extra)
}

for (method in c("ML", "REML")) {
  m <- lme(weight ~ factor(dose) + size + female, random = ~ 1 | litter, data = rats,
           weights = varIdent(form = ~ 1 | female), method = method, control = ctrl)
  ratio <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  s2 <- m$sigma^2
  ratio <- ratio[c("0", "1")]
  add(paste0("rats_ind_by_", tolower(method)),
      paste("mixed weight i.dose size female || litter:, residuals(independent, by(female))",
            if (method == "REML") "reml" else ""),
      m, extra = list(`var(_cons)` = as.numeric(getVarCov(m)[1, 1]),
                      `0: var(e)` = s2 * ratio[["0"]]^2, `1: var(e)` = s2 * ratio[["1"]]^2,
                      sd_ratio = ratio[["1"]] / ratio[["0"]]))
}

stata_fx <- "mixed gsp private emp hwy water other unemp"
ar_case <- function(name, data, subset, p, q, method = "ML", t = "year") {
  cor <- if (p == 1 && q == 0) corAR1(form = as.formula(paste("~", t, "| state")))
         else corARMA(form = as.formula(paste("~", t, "| state")), p = p, q = q)
  m <- lme(fx, random = ~ 1 | state, data = data, correlation = cor, method = method,
           control = ctrl)
  type <- if (q == 0) paste("ar", p) else paste("ma", q)
  add(name, sprintf("%s || state:, residuals(%s, t(%s))%s", stata_fx, type, t,
                    if (method == "REML") " reml" else ""),
      m, subset = subset,
      extra = list(corr = as.numeric(coef(m$modelStruct$corStruct, unconstrained = FALSE)),
                   `var(e)` = m$sigma^2))
}
ar_case("prod_ar1_ml", prod, "", 1, 0)
ar_case("prod_ar1_reml", prod, "", 1, 0, method = "REML")
ar_case("prod_ar1_gaps_ml", gaps, "(state * 7 + year) % 5 != 0", 1, 0)
ar_case("prod_ar2_gaps_ml", gaps, "(state * 7 + year) % 5 != 0", 2, 0)
ar_case("prod_ma1_ml", prod, "", 0, 1)
ar_case("prod_ma2_gaps_ml", gaps, "(state * 7 + year) % 5 != 0", 0, 2)

# exchangeable: a random slope without intercept keeps the model identified
for (method in c("ML", "REML")) {
  m <- lme(fx, random = ~ unemp - 1 | state, data = prod, method = method, control = ctrl,
           correlation = corCompSymm(form = ~ 1 | state))
  add(paste0("prod_exch_", tolower(method)),
      sprintf("%s || state: unemp, noconstant residuals(exchangeable)%s", stata_fx,
              if (method == "REML") " reml" else ""),
      m, extra = list(rho = as.numeric(coef(m$modelStruct$corStruct, unconstrained = FALSE)),
                      `var(e)` = m$sigma^2))
}

m <- lme(fx, random = ~ unemp - 1 | state, data = short, method = "ML", control = ctrl,
         correlation = corSymm(form = ~ k | state), weights = varIdent(form = ~ 1 | year))
add("prod_uns_ml",
    sprintf("%s || state: unemp, noconstant residuals(unstructured, t(year))", stata_fx),
    m, subset = "year <= 1973")

m <- lme(fx, random = ~ 1 | state, data = prod, method = "ML", control = ctrl,
         correlation = corExp(form = ~ tq | state))
range <- as.numeric(coef(m$modelStruct$corStruct, unconstrained = FALSE))
add("prod_exp_ml", sprintf("%s || state:, residuals(exponential, t(tq))", stata_fx), m,
    extra = list(rho = exp(-1 / range), `var(e)` = m$sigma^2))

write_json(cases, "tests/reference/residuals.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote tests/reference/residuals.json\n")
