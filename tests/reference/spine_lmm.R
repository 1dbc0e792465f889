# Reference values for the spine's acceptance table (linear mixed models, ML and REML).
#
# Run from the repository root:   Rscript tests/reference/spine_lmm.R
# Writes tests/reference/spine_lmm.json and tests/reference/dyestuff.csv.
#
# The data are read from data/*.csv, the very files bayesmixed ships, so R and Python fit identical
# numbers.  Every model is fitted by several optimizers at tight tolerances plus lme4's default;
# the main values are the fit with the highest log likelihood (see "best of several optimizers").
# Every quantity is named as Stata's `mixed` names it:
#   fixed effects  math3, 1.dose, 2.dose, _cons ...          (covariates in command order, _cons last)
#   var. comps     per level: var(_cons), var(math3), cov(math3,_cons), var(R.year) for `_all: R.year`,
#                  and level "Residual": var(e)              (absolute scale: variances, not sds)
#   loglik         ML log likelihood, or the REML criterion as -REML/2 for method "REML"
# "theta" is lme4's relative-covariance Cholesky vector, in lme4's order: random-effect terms sorted
# by decreasing number of levels; within a term, the lower Cholesky factor column by column with the
# intercept first (e.g. (math3 | school): L11, L21, L22).

suppressPackageStartupMessages({
  library(lme4)
  library(nlme)
  library(glmmTMB)
  library(jsonlite)
})

out_dir <- "tests/reference"
read_data <- function(name) read.csv(file.path("data", paste0(name, ".csv")))
data_files <- setNames(
  file.path("data", paste0(c("jsp2", "productivity", "grunfeld", "rats"), ".csv")),
  c("jsp2", "productivity", "grunfeld", "rats")
)

# ---------------------------------------------------------------------------------------------
# naming helpers
# ---------------------------------------------------------------------------------------------

# lme4/nlme coefficient names -> Stata names: (Intercept) -> _cons, factor(dose)1 -> 1.dose
stata_name <- function(x) {
  x[x == "(Intercept)"] <- "_cons"
  sub("^factor\\(([^)]+)\\)(.+)$", "\\2.\\1", x)
}

# Stata lists a level's random effects as covariates first, _cons last: cov(math3,_cons)
cov_name <- function(a, b) {
  pair <- stata_name(c(a, b))
  if (pair[1] == "_cons") pair <- rev(pair)
  sprintf("cov(%s,%s)", pair[1], pair[2])
}

# Put the fixed effects in Stata's order: as listed in the command, _cons last.
stata_fixef <- function(est) {
  names(est) <- stata_name(names(est))
  est <- as.list(est)
  est[c(setdiff(names(est), "_cons"), intersect(names(est), "_cons"))]
}

# A covariance matrix of one level -> named Stata parameters.  `r_var` names a crossed `_all: R.x`
# level, whose single variance Stata calls var(R.x).
level_params <- function(m, r_var = NULL) {
  nm <- rownames(m)
  if (!is.null(r_var)) return(setNames(list(m[1, 1]), sprintf("var(R.%s)", r_var)))
  res <- list()
  order <- c(setdiff(seq_along(nm), which(nm == "(Intercept)")), which(nm == "(Intercept)"))
  for (i in order) res[[sprintf("var(%s)", stata_name(nm[i]))]] <- m[i, i]
  for (i in seq_along(nm)) for (j in seq_along(nm)) {
    if (j < i && m[i, j] != 0) res[[cov_name(nm[i], nm[j])]] <- m[i, j]
  }
  res
}

# `levels` maps each lme4 grouping factor to list(level = Stata level, r_var = var for R.)
varcomp_lme4 <- function(fit, levels) {
  d <- as.data.frame(VarCorr(fit))
  vc <- list()
  for (g in unique(d$grp)) {
    if (g == "Residual") next
    base <- sub("\\.[0-9]+$", "", g) # (x || g) splits into g, g.1, ...
    rows <- d[d$grp == g, ]
    terms <- unique(na.omit(c(rows$var1, rows$var2)))
    m <- matrix(0, length(terms), length(terms), dimnames = list(terms, terms))
    for (k in seq_len(nrow(rows))) {
      a <- rows$var1[k]
      b <- if (is.na(rows$var2[k])) a else rows$var2[k]
      m[a, b] <- m[b, a] <- rows$vcov[k]
    }
    lev <- levels[[base]]
    vc[[lev$level]] <- c(vc[[lev$level]], level_params(m, lev$r_var))
  }
  vc$Residual <- list("var(e)" = sigma(fit)^2)
  vc
}

record_lme4 <- function(fit, levels) {
  list(
    engine = "lme4",
    optimizer = fit@optinfo$optimizer,
    loglik = as.numeric(if (isREML(fit)) -REMLcrit(fit) / 2 else logLik(fit)),
    fixef = stata_fixef(fixef(fit)),
    se = stata_fixef(sqrt(diag(as.matrix(vcov(fit))))),
    varcomp = varcomp_lme4(fit, levels),
    theta = as.list(getME(fit, "theta")),
    nobs = nobs(fit),
    ngroups = as.list(ngrps(fit)),
    messages = as.list(c(fit@optinfo$conv$lme4$messages, fit@optinfo$warnings))
  )
}

record_nlme <- function(fit, level) {
  vc <- list()
  vc[[level]] <- level_params(unclass(getVarCov(fit))[, , drop = FALSE])
  vc$Residual <- list("var(e)" = fit$sigma^2)
  list(
    engine = "nlme",
    loglik = as.numeric(logLik(fit)),
    fixef = stata_fixef(fixef(fit)),
    se = stata_fixef(sqrt(diag(vcov(fit)))),
    varcomp = vc
  )
}

record_tmb <- function(fit, level) {
  vc <- list()
  vc[[level]] <- level_params(VarCorr(fit)$cond[[level]][, , drop = FALSE])
  vc$Residual <- list("var(e)" = sigma(fit)^2)
  list(
    engine = "glmmTMB",
    # logLik() answers NA when the Hessian is not positive definite (as at this boundary); the
    # objective at the optimum is the same (restricted) log likelihood either way.
    loglik = -fit$fit$objective,
    fixef = stata_fixef(fixef(fit)$cond),
    se = stata_fixef(sqrt(diag(vcov(fit)$cond))),
    varcomp = vc,
    convergence = fit$fit$convergence
  )
}

# Run a fit, keeping any error or warning as a message instead of stopping the script.
attempt <- function(expr) {
  warns <- character()
  res <- withCallingHandlers(
    tryCatch(expr, error = function(e) list(engine_error = conditionMessage(e))),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  if (length(warns)) res$warnings <- as.list(warns)
  res
}

model <- function(dataset, stata, method, formula, rec, ...) {
  c(list(dataset = dataset, stata = stata, method = method, lme4_formula = formula), rec, list(...))
}

# ---------------------------------------------------------------------------------------------
# best of several optimizers
# ---------------------------------------------------------------------------------------------
# lme4's default settings stop early wherever the likelihood is flat (jsp unstructured ML: max|grad|
# 16.6 and a log likelihood 8.8 below the optimum; productivity crossed: var(R.year) off by 2e-4).
# So every model is fitted with three optimizers at tight tolerances plus the default, and the main
# values are those of the fit with the highest log likelihood.  Singular fits are expected (the
# boundary is the optimum for jsp_ind_ml), so the singularity check is off for the tight fits.
tight <- list(
  bobyqa = lmerControl(
    optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
    check.conv.singular = "ignore"
  ),
  Nelder_Mead = lmerControl(
    optimizer = "Nelder_Mead",
    optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5),
    check.conv.singular = "ignore"
  ),
  nloptwrap = lmerControl(
    optimizer = "nloptwrap",
    optCtrl = list(ftol_abs = 1e-14, ftol_rel = 1e-15, xtol_abs = 1e-12, xtol_rel = 1e-12,
                   maxeval = 1e5),
    check.conv.singular = "ignore"
  )
)
tight_names <- paste0("lme4_", names(tight))
# Fits whose log likelihood is this close (relative) to the best count as reaching the optimum.
loglik_rel_tol <- 1e-9

# The tight fits and the default fit of one lme4 model, each recorded (or its error kept).
fit_lme4_all <- function(formula, data, reml, levels) {
  formula <- as.formula(formula)
  fits <- lapply(tight, function(ctrl) {
    attempt(record_lme4(lmer(formula, data, REML = reml, control = ctrl), levels))
  })
  names(fits) <- tight_names
  fits$lme4_default <- attempt(record_lme4(lmer(formula, data, REML = reml), levels))
  fits
}

fit_loglik <- function(fits) {
  sapply(fits, function(r) if (is.null(r$loglik)) NA_real_ else r$loglik)
}

# (max - min) / max|value| over fits: 0 when they agree exactly; 1 when one sits at 0 (the boundary)
# and another does not.
rel_range <- function(values) {
  top <- max(abs(values))
  if (top == 0) 0 else (max(values) - min(values)) / top
}

# How precisely the optimum pins each parameter: the relative range of every variance component
# (and fixed effect) over the best fit and the tight fits within loglik_rel_tol of it.
spread_of <- function(fits, ll, best) {
  close <- abs(ll[tight_names] - ll[[best]]) <= loglik_rel_tol * abs(ll[[best]])
  near <- union(best, tight_names[!is.na(close) & close])
  vc <- fits[[best]]$varcomp
  over_varcomp <- function(stat) {
    lapply(setNames(names(vc), names(vc)), function(lev) {
      params <- names(vc[[lev]])
      lapply(setNames(params, params), function(p) {
        stat(sapply(near, function(f) fits[[f]]$varcomp[[lev]][[p]]))
      })
    })
  }
  fe <- names(fits[[best]]$fixef)
  fixef <- lapply(setNames(fe, fe), function(p) {
    rel_range(sapply(near, function(f) fits[[f]]$fixef[[p]]))
  })
  list(
    fits = as.list(near), loglik_rel_tol = loglik_rel_tol,
    varcomp = over_varcomp(rel_range), varcomp_abs = over_varcomp(function(v) max(v) - min(v)),
    fixef = fixef,
    definition = paste(
      "varcomp, fixef: (max - min) / max|value| of each parameter over `fits`, the best fit and",
      "every tight lme4 fit whose loglik is within loglik_rel_tol (relative) of the best;",
      "varcomp_abs: max - min (for components at the boundary 0, where the relative range is 1)"
    )
  )
}

# The model entry: main values from the lme4 fit with the highest log likelihood; every fit's
# log likelihood in loglik_by_fit and its record in alternatives (lme4_default among them).  Fits
# by other engines (nlme, glmmTMB) compete too: if one beats lme4's best, the reference would be
# wrong, so the script stops.
best_model <- function(dataset, stata, method, formula, fits, ...) {
  ll <- fit_loglik(fits)
  lme4_ll <- ll[startsWith(names(ll), "lme4_")]
  best <- names(which.max(lme4_ll))
  beaten <- ll > ll[[best]] + loglik_rel_tol * abs(ll[[best]])
  if (any(beaten, na.rm = TRUE)) {
    winners <- paste(names(ll)[which(beaten)], collapse = ", ")
    stop(sprintf("%s: %s beats the best lme4 fit", stata, winners))
  }
  model(
    dataset, stata, method, formula, fits[[best]], ...,
    best_of = best, loglik_by_fit = as.list(ll), spread = spread_of(fits, ll, best),
    alternatives = fits
  )
}

lme4_model <- function(dataset, stata, reml, formula, data, levels) {
  best_model(
    dataset, stata, if (reml) "REML" else "ML", formula, fit_lme4_all(formula, data, reml, levels)
  )
}

# ---------------------------------------------------------------------------------------------
# jsp2
# ---------------------------------------------------------------------------------------------
jsp <- read_data("jsp2")
jsp$school <- factor(jsp$school)
lv_school <- list(school = list(level = "school"))
models <- list()

for (reml in c(FALSE, TRUE)) {
  key <- if (reml) "jsp_ri_reml" else "jsp_ri_ml"
  models[[key]] <- lme4_model(
    "jsp2", "mixed math5 math3 || school:", reml, "math5 ~ math3 + (1 | school)", jsp, lv_school
  )
}

# Independent slope: var(math3) sits at the boundary (0), which nlme cannot reach.
ind_fits <- fit_lme4_all("math5 ~ math3 + (math3 || school)", jsp, FALSE, lv_school)
ind_fits$nlme_pdDiag <- attempt(record_nlme(
  lme(math5 ~ math3, random = list(school = pdDiag(~math3)), data = jsp, method = "ML"),
  "school"
))
ind_fits$glmmTMB_diag <- attempt(record_tmb(
  glmmTMB(math5 ~ math3 + diag(math3 | school), jsp, REML = FALSE), "school"
))
models$jsp_ind_ml <- best_model(
  "jsp2", "mixed math5 math3 || school: math3", "ML", "math5 ~ math3 + (math3 || school)", ind_fits
)

# Unstructured: near-singular (corr close to -1); nlme and glmmTMB compete as well.  lme4's default
# stops early here (ML: max|grad| = 16.6, loglik -2589.33; REML -2583.70): kept in alternatives to
# show that those commonly quoted values are not the optimum.
nlme_ctrl <- lmeControl(
  maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100, msTol = 1e-14,
  tolerance = 1e-12, returnObject = TRUE
)
for (reml in c(FALSE, TRUE)) {
  method <- if (reml) "REML" else "ML"
  fits <- fit_lme4_all("math5 ~ math3 + (math3 | school)", jsp, reml, lv_school)
  fits$nlme_pdSymm <- attempt(record_nlme(
    lme(math5 ~ math3, random = ~ math3 | school, data = jsp, method = method,
        control = nlme_ctrl),
    "school"
  ))
  fits$glmmTMB_us <- attempt(record_tmb(
    glmmTMB(math5 ~ math3 + us(math3 | school), jsp, REML = reml), "school"
  ))
  key <- if (reml) "jsp_uns_reml" else "jsp_uns_ml"
  models[[key]] <- best_model(
    "jsp2", "mixed math5 math3 || school: math3, cov(unstructured)", method,
    "math5 ~ math3 + (math3 | school)", fits
  )
}
for (key in c("jsp_uns_ml", "jsp_uns_reml")) {
  v <- models[[key]]$varcomp$school
  models[[key]]$corr <- list(
    "corr(math3,_cons)" = v[["cov(math3,_cons)"]] / sqrt(v[["var(math3)"]] * v[["var(_cons)"]])
  )
}

# ---------------------------------------------------------------------------------------------
# productivity
# ---------------------------------------------------------------------------------------------
prod <- read_data("productivity")
for (v in c("state", "region", "year")) prod[[v]] <- factor(prod[[v]])
prod_fixed <- "gsp ~ private + emp + hwy + water + other + unemp"
lv_prod <- list(
  region = list(level = "region"), "state:region" = list(level = "state"),
  year = list(level = "_all", r_var = "year")
)

f_nest <- paste(prod_fixed, "+ (1 | region/state)")
models$prod_nested_ml <- lme4_model(
  "productivity", "mixed gsp private emp hwy water other unemp || region: || state:", FALSE,
  f_nest, prod, lv_prod
)
f_cross <- paste(prod_fixed, "+ (1 | year) + (1 | region/state)")
models$prod_crossed_ml <- lme4_model(
  "productivity",
  "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:", FALSE,
  f_cross, prod, lv_prod
)

# ---------------------------------------------------------------------------------------------
# grunfeld
# ---------------------------------------------------------------------------------------------
grun <- read_data("grunfeld")
grun$company <- factor(grun$company)
grun$year <- factor(grun$year)
models$grunfeld_ri_ml <- lme4_model(
  "grunfeld", "mixed invest mvalue cstock || company:", FALSE,
  "invest ~ mvalue + cstock + (1 | company)", grun, list(company = list(level = "company"))
)
models$grunfeld_crossed_ml <- lme4_model(
  "grunfeld", "mixed invest mvalue cstock || _all: R.company || year:", FALSE,
  "invest ~ mvalue + cstock + (1 | company) + (1 | year)", grun,
  list(company = list(level = "_all", r_var = "company"), year = list(level = "year"))
)

# ---------------------------------------------------------------------------------------------
# rats
# ---------------------------------------------------------------------------------------------
rats <- read_data("rats")
rats$litter <- factor(rats$litter)
models$rats_ri_ml <- lme4_model(
  "rats", "mixed weight i.dose size female || litter:", FALSE,
  "weight ~ factor(dose) + size + female + (1 | litter)", rats,
  list(litter = list(level = "litter"))
)

# ---------------------------------------------------------------------------------------------
# likelihood-ratio test, deviance at fixed theta, Dyestuff
# ---------------------------------------------------------------------------------------------
ll_ind <- models$jsp_ind_ml$loglik
ll_uns <- models$jsp_uns_ml$loglik
lrtest <- list(
  jsp_ind_vs_uns = list(
    restricted = "jsp_ind_ml", unrestricted = "jsp_uns_ml",
    chi2 = 2 * (ll_uns - ll_ind), df = 1L,
    note = "chi2 = 2 * (loglik(jsp_uns_ml) - loglik(jsp_ind_ml)), best fits of each"
  )
)

devfun_record <- function(formula, data, thetas, term_order) {
  dev <- lmer(formula, data, REML = FALSE, devFunOnly = TRUE)
  list(
    lme4_formula = deparse1(formula), method = "ML", theta_order = term_order,
    points = lapply(thetas, function(th) list(theta = th, deviance = dev(th)))
  )
}
uns_theta <- unlist(models$jsp_uns_ml$theta, use.names = FALSE)
default_theta <- unlist(models$jsp_uns_ml$alternatives$lme4_default$theta, use.names = FALSE)
devfun <- list(
  jsp_uns_ml = devfun_record(
    math5 ~ math3 + (math3 | school), jsp,
    list(uns_theta, default_theta, c(1, 0.5, 0.2), c(0.3, -0.1, 0.05)),
    "school: [L11 = sd(_cons)/sigma, L21, L22] of the lower Cholesky factor, intercept first"
  ),
  prod_nested_ml = devfun_record(
    as.formula(f_nest), prod,
    list(unlist(models$prod_nested_ml$theta, use.names = FALSE), c(1, 0.5), c(0.2, 0.1)),
    "[state:region (48 levels), region (9 levels)]: sd/sigma of each, most levels first"
  )
)

data("Dyestuff", package = "lme4")
write.csv(Dyestuff, file.path(out_dir, "dyestuff.csv"), row.names = FALSE)
dye <- read.csv(file.path(out_dir, "dyestuff.csv"))
dye$Batch <- factor(dye$Batch)
dye_formula <- "Yield ~ 1 + (1 | Batch)"
dye_fits <- fit_lme4_all(dye_formula, dye, FALSE, list(Batch = list(level = "Batch")))
dye_model <- best_model("Dyestuff", "mixed Yield || Batch:", "ML", dye_formula, dye_fits)
dyestuff <- c(
  list(data = "tests/reference/dyestuff.csv", lme4_formula = "Yield ~ 1 + (1 | Batch)",
       method = "ML", deviance = -2 * dye_model$loglik),
  dye_model[setdiff(names(dye_model), c("dataset", "stata", "method", "lme4_formula"))]
)

result <- list(
  meta = list(
    generated_by = "tests/reference/spine_lmm.R",
    R = R.version.string,
    lme4 = as.character(packageVersion("lme4")),
    nlme = as.character(packageVersion("nlme")),
    glmmTMB = as.character(packageVersion("glmmTMB")),
    # md5 of the data files fitted, so a test can tell when data/ changed after these numbers
    data_md5 = as.list(tools::md5sum(data_files)),
    loglik = "ML log likelihood; for method REML the restricted log likelihood -REMLcrit/2",
    varcomp = "absolute scale (variances/covariances), per Stata level; Residual: var(e)",
    fits = paste(
      "main values: best_of, the lme4 fit with the highest loglik among tight bobyqa, Nelder_Mead,",
      "nloptwrap and the default; loglik_by_fit: every fit; alternatives: every fit's record",
      "(lme4_default = lme4's default settings); spread: how far the fits at the optimum disagree"
    )
  ),
  models = models, lrtest = lrtest, devfun = devfun, dyestuff = dyestuff
)
write_json(result, file.path(out_dir, "spine_lmm.json"), auto_unbox = TRUE, digits = NA,
           na = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "spine_lmm.json"), "\n")
