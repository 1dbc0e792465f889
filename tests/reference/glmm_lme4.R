# Reference values for the GLMM engine (issue 4): lme4 1.1-31 glmer (and glmmTMB as a cross-check).
#
# Run from the repository root:   Rscript tests/reference/glmm_lme4.R
# Writes tests/reference/glmm_lme4.json, tests/reference/cbpp.csv and tests/reference/grouseticks.csv.
#
# Names follow Stata: (Intercept) -> _cons, factor dummies as 2.period; var(_cons), var(urban),
# cov(urban,_cons) on the absolute scale.  "theta" is lme4's relative Cholesky vector (for a GLMM
# without a scale parameter, the Cholesky factor of the covariance itself, intercept first).
# "se" are lme4's Hessian-based standard errors of the fixed effects (use.hessian = TRUE).
# nAGQ > 1 in lme4 is mode-curvature adaptive Gauss-Hermite quadrature (Stata's mcaghermite).

suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})

out_dir <- "tests/reference"
ctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))

stata_name <- function(x) {
  x[x == "(Intercept)"] <- "_cons"
  x
}

summarise <- function(fit, data_name, command, method) {
  vc <- VarCorr(fit)
  re <- list()
  for (g in names(vc)) {
    m <- vc[[g]]
    nm <- stata_name(colnames(m))
    ord <- c(setdiff(seq_along(nm), which(nm == "_cons")), which(nm == "_cons"))
    ent <- list()
    for (i in ord) ent[[paste0("var(", nm[i], ")")]] <- m[i, i]
    if (length(nm) > 1) {
      for (a in seq_along(ord)) for (b in seq_along(ord)) if (a < b) {
        i <- ord[a]; j <- ord[b]
        ent[[paste0("cov(", nm[i], ",", nm[j], ")")]] <- m[i, j]
        ent[[paste0("corr(", nm[i], ",", nm[j], ")")]] <- m[i, j] / sqrt(m[i, i] * m[j, j])
      }
    }
    re[[g]] <- ent
  }
  b <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  list(
    data = data_name, command = command, method = method,
    nAGQ = fit@devcomp$dims[["nAGQ"]],
    loglik = as.numeric(logLik(fit)),
    fixed = as.list(setNames(unname(b), stata_name(names(b)))),
    se = as.list(setNames(unname(se), stata_name(names(b)))),
    random = re,
    theta = unname(getME(fit, "theta")),
    nobs = nobs(fit),
    lme4_messages = as.list(fit@optinfo$conv$lme4$messages),
    loglik_full = full_loglik(fit)
  )
}

# lme4 1.1-31 reports, for nAGQ > 1, a log likelihood built from deviance residuals: it omits the
# saturated model's log likelihood sum_i log f(y_i | mu_i = y_i) (zero for 0/1 outcomes only).
# Adding it back gives the full log likelihood that Stata (and Laplace in lme4) report.
full_loglik <- function(fit) {
  ll <- as.numeric(logLik(fit))
  if (fit@devcomp$dims[["nAGQ"]] <= 1) return(ll)
  y <- getME(fit, "y"); w <- weights(fit)
  sat <- if (family(fit)$family == "poisson") dpois(y, y, log = TRUE) else
    dbinom(round(y * w), w, y, log = TRUE)
  ll + sum(sat)
}

time_fit <- function(expr_fun, reps = 5) {
  t <- replicate(reps, system.time(expr_fun())[["elapsed"]])
  median(t)
}

# ------------------------------------------------------------------ bangladesh (data/bangladesh.csv)
bd <- read.csv("data/bangladesh.csv")
bd$district <- factor(bd$district)
f1 <- c_use ~ urban + age + child1 + child2 + child3 + (1 | district)
f2 <- c_use ~ urban + age + child1 + child2 + child3 + (urban | district)
cmd1 <- "melogit c_use urban age child1 child2 child3 || district:,"
cmd2 <- "melogit c_use urban age child1 child2 child3 || district: urban, cov(unstructured)"
res <- list()
res$bangladesh_agq7 <- summarise(glmer(f1, bd, binomial, nAGQ = 7, control = ctrl),
                                 "bangladesh", paste(cmd1, "intmethod(mcaghermite) intpoints(7)"), "mcaghermite")
res$bangladesh_laplace <- summarise(glmer(f1, bd, binomial, control = ctrl),
                                    "bangladesh", paste(cmd1, "intmethod(laplace)"), "laplace")
fit2 <- glmer(f2, bd, binomial, control = ctrl)
res$bangladesh_slope_laplace <- summarise(fit2, "bangladesh", paste(cmd2, "intmethod(laplace)"), "laplace")
# glmmTMB (Laplace, TMB's inner Newton converged tightly): lme4's PIRLS stops a little early, so its
# Laplace log likelihood sits ~1e-4 below the optimum of the approximation; glmmTMB's does not.
add_tmb <- function(entry, formula, data, family) {
  tmb <- glmmTMB(formula, data, family = family)
  b <- fixef(tmb)$cond
  entry$glmmTMB_loglik <- as.numeric(logLik(tmb))
  entry$glmmTMB_fixed <- as.list(setNames(unname(b), stata_name(names(b))))
  entry$glmmTMB_var <- lapply(VarCorr(tmb)$cond, function(m) unname(diag(m)))
  entry
}
res$bangladesh_laplace <- add_tmb(res$bangladesh_laplace, f1, bd, binomial)
res$bangladesh_slope_laplace <- add_tmb(res$bangladesh_slope_laplace, f2, bd, binomial)

# ------------------------------------------------------------------ cbpp: binomial with trials
cb <- lme4::cbpp
cb$period2 <- as.integer(cb$period == "2")
cb$period3 <- as.integer(cb$period == "3")
cb$period4 <- as.integer(cb$period == "4")
cb$herd <- as.integer(as.character(cb$herd))
write.csv(cb[, c("herd", "incidence", "size", "period", "period2", "period3", "period4")],
          file.path(out_dir, "cbpp.csv"), row.names = FALSE)
cb$herd <- factor(cb$herd)
fc <- cbind(incidence, size - incidence) ~ period2 + period3 + period4 + (1 | herd)
cmdc <- "meglm incidence period2 period3 period4 || herd:, family(binomial size) link(logit)"
res$cbpp_laplace <- summarise(glmer(fc, cb, binomial, control = ctrl), "cbpp",
                              paste(cmdc, "intmethod(laplace)"), "laplace")
res$cbpp_laplace <- add_tmb(res$cbpp_laplace, fc, cb, binomial)
res$cbpp_agq9 <- summarise(glmer(fc, cb, binomial, nAGQ = 9, control = ctrl), "cbpp",
                           paste(cmdc, "intmethod(mcaghermite) intpoints(9)"), "mcaghermite")

# ------------------------------------------------------------------ grouseticks: Poisson counts
gt <- lme4::grouseticks
gt$year96 <- as.integer(gt$YEAR == "96")
gt$year97 <- as.integer(gt$YEAR == "97")
gt$brood <- as.integer(as.character(gt$BROOD))
gt$location <- as.integer(as.character(gt$LOCATION))
gt$ticks <- gt$TICKS
gt$cheight <- gt$cHEIGHT
write.csv(gt[, c("ticks", "brood", "location", "year96", "year97", "cheight")],
          file.path(out_dir, "grouseticks.csv"), row.names = FALSE)
gt$brood <- factor(gt$brood); gt$location <- factor(gt$location)
fg <- ticks ~ year96 + year97 + cheight + (1 | brood)
cmdg <- "mepoisson ticks year96 year97 cheight || brood:,"
res$grouse_laplace <- summarise(glmer(fg, gt, poisson, control = ctrl), "grouseticks",
                                paste(cmdg, "intmethod(laplace)"), "laplace")
res$grouse_laplace <- add_tmb(res$grouse_laplace, fg, gt, poisson)
res$grouse_agq7 <- summarise(glmer(fg, gt, poisson, nAGQ = 7, control = ctrl), "grouseticks",
                             paste(cmdg, "intmethod(mcaghermite) intpoints(7)"), "mcaghermite")
fg2 <- ticks ~ year96 + year97 + cheight + (1 | brood) + (1 | location)
res$grouse_two_level_laplace <- summarise(
  glmer(fg2, gt, poisson, control = ctrl), "grouseticks",
  "mepoisson ticks year96 year97 cheight || location: || brood:, intmethod(laplace)", "laplace")

res$grouse_two_level_laplace <- add_tmb(res$grouse_two_level_laplace, fg2, gt, poisson)

# ------------------------------------------------------------------ timings (reported, not tested)
res$timings_seconds <- list(
  glmer_laplace_urban_district = time_fit(function() glmer(f2, bd, binomial, control = ctrl)),
  glmer_laplace_intercept = time_fit(function() glmer(f1, bd, binomial, control = ctrl)),
  glmer_agq7_intercept = time_fit(function() glmer(f1, bd, binomial, nAGQ = 7, control = ctrl))
)
res$versions <- list(lme4 = as.character(packageVersion("lme4")),
                     glmmTMB = as.character(packageVersion("glmmTMB")),
                     R = R.version.string)
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(out_dir, "glmm_lme4.json"))
