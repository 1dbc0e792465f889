# Reference values for the spine's acceptance table (linear mixed models, ML and REML).
#
# Run from the repository root:   Rscript tests/reference/spine_lmm.R
# Writes tests/reference/spine_lmm.json and tests/reference/dyestuff.csv.
#
# The data are read from data/*.csv, the very files bayesmixed ships, so R and Python fit identical
# numbers.  Every quantity is named as Stata's `mixed` names it:
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
# jsp2
# ---------------------------------------------------------------------------------------------
jsp <- read_data("jsp2")
jsp$school <- factor(jsp$school)
lv_school <- list(school = list(level = "school"))
models <- list()

for (reml in c(FALSE, TRUE)) {
  f <- lmer(math5 ~ math3 + (1 | school), jsp, REML = reml)
  key <- if (reml) "jsp_ri_reml" else "jsp_ri_ml"
  models[[key]] <- model(
    "jsp2", "mixed math5 math3 || school:", if (reml) "REML" else "ML",
    "math5 ~ math3 + (1 | school)", record_lme4(f, lv_school)
  )
}

# Independent slope: var(math3) sits at the boundary (0).
ind_lme4 <- lmer(math5 ~ math3 + (math3 || school), jsp, REML = FALSE)
ind_nlme <- attempt(record_nlme(
  lme(math5 ~ math3, random = list(school = pdDiag(~math3)), data = jsp, method = "ML"),
  "school"
))
ind_tmb <- attempt(record_tmb(
  glmmTMB(math5 ~ math3 + diag(math3 | school), jsp, REML = FALSE), "school"
))
models$jsp_ind_ml <- model(
  "jsp2", "mixed math5 math3 || school: math3", "ML", "math5 ~ math3 + (math3 || school)",
  record_lme4(ind_lme4, lv_school),
  alternatives = list(nlme_pdDiag = ind_nlme, glmmTMB_diag = ind_tmb)
)

# Unstructured: near-singular (corr close to -1), so try several optimizers with tight tolerances
# plus nlme and glmmTMB, and report the best log likelihood found as the reference.
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
nlme_ctrl <- lmeControl(
  maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100, msTol = 1e-14,
  tolerance = 1e-12, returnObject = TRUE
)

uns_fits <- list()
for (reml in c(FALSE, TRUE)) {
  method <- if (reml) "REML" else "ML"
  fits <- lapply(tight, function(ctrl) {
    attempt(record_lme4(
      lmer(math5 ~ math3 + (math3 | school), jsp, REML = reml, control = ctrl), lv_school
    ))
  })
  names(fits) <- paste0("lme4_", names(fits))
  # lme4's default settings stop early here (ML: max|grad| = 16.6, loglik -2589.33; REML
  # -2583.70): kept to show that those commonly quoted values are not the optimum.
  fits$lme4_default <- attempt(record_lme4(
    lmer(math5 ~ math3 + (math3 | school), jsp, REML = reml), lv_school
  ))
  fits$nlme_pdSymm <- attempt(record_nlme(
    lme(math5 ~ math3, random = ~ math3 | school, data = jsp, method = method,
        control = nlme_ctrl),
    "school"
  ))
  fits$glmmTMB_us <- attempt(record_tmb(
    glmmTMB(math5 ~ math3 + us(math3 | school), jsp, REML = reml), "school"
  ))
  ll <- sapply(fits, function(r) if (is.null(r$loglik)) NA_real_ else r$loglik)
  best <- names(which.max(ll))
  key <- if (reml) "jsp_uns_reml" else "jsp_uns_ml"
  uns_fits[[key]] <- fits[[best]]
  models[[key]] <- model(
    "jsp2", "mixed math5 math3 || school: math3, cov(unstructured)", method,
    "math5 ~ math3 + (math3 | school)", fits[[best]],
    best_of = best, loglik_by_fit = as.list(ll), alternatives = fits
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
nest <- lmer(as.formula(f_nest), prod, REML = FALSE)
models$prod_nested_ml <- model(
  "productivity", "mixed gsp private emp hwy water other unemp || region: || state:", "ML",
  f_nest, record_lme4(nest, lv_prod)
)
f_cross <- paste(prod_fixed, "+ (1 | year) + (1 | region/state)")
cross <- lmer(as.formula(f_cross), prod, REML = FALSE)
models$prod_crossed_ml <- model(
  "productivity",
  "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:", "ML",
  f_cross, record_lme4(cross, lv_prod)
)

# ---------------------------------------------------------------------------------------------
# grunfeld
# ---------------------------------------------------------------------------------------------
grun <- read_data("grunfeld")
grun$company <- factor(grun$company)
grun$year <- factor(grun$year)
g1 <- lmer(invest ~ mvalue + cstock + (1 | company), grun, REML = FALSE)
models$grunfeld_ri_ml <- model(
  "grunfeld", "mixed invest mvalue cstock || company:", "ML",
  "invest ~ mvalue + cstock + (1 | company)",
  record_lme4(g1, list(company = list(level = "company")))
)
g2 <- lmer(invest ~ mvalue + cstock + (1 | company) + (1 | year), grun, REML = FALSE)
models$grunfeld_crossed_ml <- model(
  "grunfeld", "mixed invest mvalue cstock || _all: R.company || year:", "ML",
  "invest ~ mvalue + cstock + (1 | company) + (1 | year)",
  record_lme4(g2, list(
    company = list(level = "_all", r_var = "company"), year = list(level = "year")
  ))
)

# ---------------------------------------------------------------------------------------------
# rats
# ---------------------------------------------------------------------------------------------
rats <- read_data("rats")
rats$litter <- factor(rats$litter)
r1 <- lmer(weight ~ factor(dose) + size + female + (1 | litter), rats, REML = FALSE)
models$rats_ri_ml <- model(
  "rats", "mixed weight i.dose size female || litter:", "ML",
  "weight ~ factor(dose) + size + female + (1 | litter)",
  record_lme4(r1, list(litter = list(level = "litter")))
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
uns_theta <- unlist(uns_fits$jsp_uns_ml$theta, use.names = FALSE)
default_theta <- unlist(models$jsp_uns_ml$alternatives$lme4_default$theta, use.names = FALSE)
devfun <- list(
  jsp_uns_ml = devfun_record(
    math5 ~ math3 + (math3 | school), jsp,
    list(uns_theta, default_theta, c(1, 0.5, 0.2), c(0.3, -0.1, 0.05)),
    "school: [L11 = sd(_cons)/sigma, L21, L22] of the lower Cholesky factor, intercept first"
  ),
  prod_nested_ml = devfun_record(
    as.formula(f_nest), prod,
    list(unname(getME(nest, "theta")), c(1, 0.5), c(0.2, 0.1)),
    "[state:region (48 levels), region (9 levels)]: sd/sigma of each, most levels first"
  )
)

data("Dyestuff", package = "lme4")
write.csv(Dyestuff, file.path(out_dir, "dyestuff.csv"), row.names = FALSE)
dye <- read.csv(file.path(out_dir, "dyestuff.csv"))
dye$Batch <- factor(dye$Batch)
dfit <- lmer(Yield ~ 1 + (1 | Batch), dye, REML = FALSE)
dyestuff <- c(
  list(data = "tests/reference/dyestuff.csv", lme4_formula = "Yield ~ 1 + (1 | Batch)",
       method = "ML", deviance = deviance(dfit)),
  record_lme4(dfit, list(Batch = list(level = "Batch")))
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
    varcomp = "absolute scale (variances/covariances), per Stata level; Residual: var(e)"
  ),
  models = models, lrtest = lrtest, devfun = devfun, dyestuff = dyestuff
)
write_json(result, file.path(out_dir, "spine_lmm.json"), auto_unbox = TRUE, digits = NA,
           na = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "spine_lmm.json"), "\n")
