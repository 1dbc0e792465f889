# Reference values for Stata's ordinal mixed models (meologit, meoprobit; issue 18) from R's
# ordinal::clmm (Debian's r-cran-ordinal), cross-checked by an independent evaluator
# (tests/reference/ordinal_check.R, no ordinal code).
#
# Run from the repository root:   Rscript tests/reference/ordinal_clmm.R
# Writes tests/reference/ordinal_clmm.json, tests/reference/ordinal_wine.csv and
# tests/reference/ordinal_sim.csv (the models are fitted to the CSVs as read back, so the files
# hold exactly the data used).
#
# Mapping to Stata (meologit / meoprobit):
# * Stata: Pr(y <= k | u) = F(cut_k - x'b - z'u).  clmm's threshold model is the same, with the
#   same signs: logit Pr(y <= k) = theta_k - x'beta - z'u.  No intercept in either.
# * Stata's /cut1 ... /cut(K-1) are clmm's thresholds alpha ("1|2", "2|3", ...), in order.
# * var(_cons[judge]) is the square of clmm's random-effect SD (VarCorr); for (1 + x | id),
#   var(x[id]), var(_cons[id]) and cov(x[id],_cons[id]) are entries of clmm's covariance matrix.
#   Keys follow tests/reference/glmm_lme4.json: random$<group>$"var(_cons)", "cov(x,_cons)".
# * clmm's nAGQ > 1 is mode-curvature adaptive Gauss-Hermite quadrature (nodes centred at the
#   conditional mode, scaled by the curvature there): Stata's intmethod(mcaghermite)
#   intpoints(n), not Stata's default mvaghermite (which agrees only as n grows).  nAGQ = 1 is the
#   Laplace approximation: Stata's intmethod(laplace).
# * clmm's Laplace uses the exact (observed) Hessian of the conditional log likelihood in u:
#   ordinal's C routine hess() (src/utilityFuns.c) and R's hess.u() (R/clmm.R) sum
#   w * (((f1 - f2)/pr)^2 - (f'1 - f'2)/pr) per group, f' the derivative of the density -- the
#   negative second derivative of log(F(eta1) - F(eta2)), not a Fisher-scoring weight.
#   Laplace: log L_j = h(u^) + (q/2) log(2 pi) - (1/2) log det(-h''(u^)).
# * Caveat found here (ordinal 2022.11-16): for a single random intercept clmm's inner Newton loop
#   (C NRalgv3) returns the Hessian from the iterate *before* its last step, so its Laplace log
#   likelihood is off by up to a few 1e-8 relative (wine logit: clmm -81.56540929, exact Laplace at
#   the same estimates -81.56541278; with clmm's default gradTol = 1e-4 the sim probit gap is
#   6.5e-7 relative, so a default fit is no reference).  Tightening clmm's inner gradTol below ~1e-6 does not help:
#   its step-halving test compares whole-sample sums and fails on rounding, which makes the outer
#   objective noisy.  So each case also carries "exact": the independent evaluator's log likelihood
#   at clmm's estimates and its own polished maximum.  AGQ values agree to ~1e-10 (the node scale
#   barely matters there).  The random-slope model runs clmm's R path, which re-evaluates the
#   Hessian at the final mode.

suppressPackageStartupMessages({
  library(ordinal)
  library(jsonlite)
  library(numDeriv)
})
source("tests/reference/ordinal_check.R")

out_dir <- "tests/reference"
wine_csv <- file.path(out_dir, "ordinal_wine.csv")
sim_csv <- file.path(out_dir, "ordinal_sim.csv")

# clmm's inner Newton tolerance 1e-6 keeps the outer objective smooth (see above); ucminf with a
# tight gradient tolerance on the random-intercept path; clmm forces nlminb for random slopes.
ctrl_ssr <- clmm.control(method = "ucminf", gradTol = 1e-6, maxIter = 500,
                         grtol = 1e-10, xtol = 1e-14, maxeval = 5000)
ctrl_env <- clmm.control(method = "nlminb", gradTol = 1e-6, maxIter = 500,
                         rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 2000)

# ---- data -----------------------------------------------------------------------------------
data(wine, package = "ordinal")
write.csv(data.frame(rating = as.integer(wine$rating),
                     temp = as.integer(wine$temp == "warm"),
                     contact = as.integer(wine$contact == "yes"),
                     judge = as.integer(wine$judge),
                     bottle = as.integer(wine$bottle)),
          wine_csv, row.names = FALSE)

set.seed(20261202)
n_groups <- 60
sizes <- sample(5:25, n_groups, replace = TRUE)
id <- rep(seq_len(n_groups), sizes)
n <- length(id)
x <- round(rnorm(n), 4)
d <- rbinom(n, 1, 0.5)
# random intercept SD 0.8, random slope on x SD 0.5, correlation 0.3
Sig <- matrix(c(0.64, 0.3 * 0.8 * 0.5, 0.3 * 0.8 * 0.5, 0.25), 2, 2)
u <- matrix(rnorm(2 * n_groups), n_groups, 2) %*% chol(Sig)
ystar <- 0.7 * x - 0.5 * d + u[id, 1] + u[id, 2] * x + rlogis(n)
y <- 1L + findInterval(ystar, c(-1.2, 0.2, 1.4))
write.csv(data.frame(y = y, x = x, d = d, id = id), sim_csv, row.names = FALSE)

wine_df <- read.csv(wine_csv)
sim_df <- read.csv(sim_csv)

as_clmm_frame <- function(df, yvar, gvar) {
  df[[yvar]] <- factor(df[[yvar]], ordered = TRUE)
  df[[gvar]] <- factor(df[[gvar]])
  df
}

# ---- one case -------------------------------------------------------------------------------
# clmm's inner Newton loop warns when its whole-sample step-halving test fails on rounding at the
# mode; count those warnings (they flag the objective noise described above) instead of printing.
fit_clmm <- function(form, cf, link, nAGQ, ctrl) {
  msgs <- character(0)
  fit <- withCallingHandlers(
    clmm(form, data = cf, link = link, nAGQ = nAGQ, control = ctrl),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(fit = fit, n_warnings = length(msgs))
}

random_entries <- function(S, names) {
  # Stata order: slopes first, then _cons (as in glmm_lme4.json).
  ord <- c(setdiff(seq_along(names), which(names == "_cons")), which(names == "_cons"))
  ent <- list()
  for (i in ord) ent[[paste0("var(", names[i], ")")]] <- S[i, i]
  for (i in ord) ent[[paste0("sd(", names[i], ")")]] <- sqrt(S[i, i])
  if (length(names) > 1) for (a in seq_along(ord)) for (b in seq_along(ord)) if (a < b) {
    i <- ord[a]; j <- ord[b]
    ent[[paste0("cov(", names[i], ",", names[j], ")")]] <- S[i, j]
    ent[[paste0("corr(", names[i], ",", names[j], ")")]] <- S[i, j] / sqrt(S[i, i] * S[j, j])
  }
  ent
}

# Delta-method standard errors of the var/cov entries from the evaluator's Hessian (invariant to
# the parametrisation at the optimum, so comparable with Stata's).
random_se <- function(pol, ncut, nbeta, q, names) {
  f <- function(p) unlist(random_entries(unpack_par(p, ncut, nbeta, q)$Sigma, names))
  keep <- grepl("^(var|cov)\\(", names(f(pol$par)))
  Jm <- jacobian(f, pol$par)[keep, , drop = FALSE]
  V <- solve(pol$hessian)
  as.list(setNames(sqrt(diag(Jm %*% V %*% t(Jm))), names(f(pol$par))[keep]))
}

named <- function(v, nm) as.list(setNames(unname(v), nm))

run_case <- function(df, yvar, gvar, xvars, re_vars, link, nAGQ, data_name) {
  re_term <- if (length(re_vars)) paste0("(1 + ", paste(re_vars, collapse = " + "), " | ", gvar, ")")
             else paste0("(1 | ", gvar, ")")
  form <- as.formula(paste(yvar, "~", paste(xvars, collapse = " + "), "+", re_term))
  cf <- as_clmm_frame(df, yvar, gvar)
  ctrl <- if (length(re_vars)) ctrl_env else ctrl_ssr
  fw <- fit_clmm(form, cf, link, nAGQ, ctrl)
  fit <- fw$fit
  K <- length(fit$alpha) + 1
  cuts_nm <- paste0("cut", seq_len(K - 1))
  re_names <- c("_cons", re_vars)
  S <- VarCorr(fit)[[gvar]]
  S <- matrix(S, nrow(S), ncol(S))
  se <- sqrt(diag(vcov(fit)))
  maxgrad <- max(abs(fit$gradient))

  # Independent evaluator at clmm's estimates, then its own polished maximum.
  dat <- cl_data(df[[yvar]], as.matrix(df[xvars]), cbind(1, as.matrix(df[re_vars])), df[[gvar]])
  stopifnot(identical(sort(unique(df[[gvar]])), seq_len(dat$J)))
  ll_at <- cl_loglik(dat, fit$alpha, fit$beta, S, link, nAGQ)
  pol <- cl_polish(dat, pack_par(fit$alpha, fit$beta, S), link, nAGQ, K - 1, length(xvars))
  pse <- sqrt(diag(solve(pol$hessian)))
  # Guards: the polished optimum is a true optimum, and clmm's value is within issue 18's
  # tolerance of it (1e-6 relative for Laplace, 1e-5 for quadrature; in practice far closer).
  label <- sprintf("%s %s nAGQ=%d", data_name, link, nAGQ)
  if (pol$max_abs_gradient >= 1e-6) stop(label, ": polished max|gradient| ", pol$max_abs_gradient)
  rel <- abs(as.numeric(logLik(fit)) - pol$loglik) / abs(pol$loglik)
  if (rel >= 1e-7) stop(label, ": clmm and exact log likelihoods differ by ", rel, " relative")

  cmd <- paste0(if (link == "logit") "meologit " else "meoprobit ", yvar, " ",
                paste(xvars, collapse = " "), " || ", gvar, ":",
                if (length(re_vars)) paste0(" ", paste(re_vars, collapse = " "),
                                            ", covariance(unstructured)") else "",
                if (nAGQ == 1) paste0(if (length(re_vars)) " " else ", ", "intmethod(laplace)")
                else paste0(", intmethod(mcaghermite) intpoints(", nAGQ, ")"))
  list(
    data = data_name, command = cmd, formula = deparse(form), link = link, nAGQ = nAGQ,
    method = if (nAGQ == 1) "laplace" else "mcaghermite",
    loglik = as.numeric(logLik(fit)),
    cut = named(fit$alpha, cuts_nm), fixed = named(fit$beta, xvars),
    se_cut = named(se[seq_len(K - 1)], cuts_nm),
    se_fixed = named(se[K - 1 + seq_along(xvars)], xvars),
    random = setNames(list(random_entries(S, re_names)), gvar),
    nobs = nrow(df), n_groups = dat$J,
    group_size_range = range(tabulate(df[[gvar]])),
    max_abs_gradient = maxgrad,
    se_max_rel_diff_vs_exact = max(abs(se[seq_len(K - 1 + length(xvars))] /
                                       pse[seq_len(K - 1 + length(xvars))] - 1)),
    clmm_inner_warnings = fw$n_warnings,
    gradient = as.list(fit$gradient),
    optimizer = if (length(re_vars)) "nlminb (clmm forces it for vector random effects)"
                else "ucminf",
    exact = list(
      loglik_at_clmm_estimates = ll_at,
      clmm_minus_exact = as.numeric(logLik(fit)) - ll_at,
      loglik = pol$loglik,
      shortfall_of_clmm_estimates = pol$loglik - ll_at,
      cut = named(pol$cuts, cuts_nm), fixed = named(pol$beta, xvars),
      se_cut = named(pse[seq_len(K - 1)], cuts_nm),
      se_fixed = named(pse[K - 1 + seq_along(xvars)], xvars),
      random = setNames(list(random_entries(pol$Sigma, re_names)), gvar),
      se_random = setNames(list(random_se(pol, K - 1, length(xvars), dat$q, re_names)), gvar),
      max_abs_gradient = pol$max_abs_gradient
    )
  )
}

# ---- cases ----------------------------------------------------------------------------------
cases <- list()
for (link in c("logit", "probit")) {
  for (q in c(1, 7, 12)) {
    nm <- paste0("wine_", link, if (q == 1) "_laplace" else paste0("_agq", q))
    cases[[nm]] <- run_case(wine_df, "rating", "judge", c("temp", "contact"), character(0),
                            link, q, "ordinal_wine.csv")
  }
  for (q in c(1, 7)) {
    nm <- paste0("sim_", link, if (q == 1) "_laplace" else paste0("_agq", q))
    cases[[nm]] <- run_case(sim_df, "y", "id", c("x", "d"), character(0), link, q,
                            "ordinal_sim.csv")
  }
}
cases[["sim_logit_slope_laplace"]] <- run_case(sim_df, "y", "id", c("x", "d"), "x", "logit", 1,
                                               "ordinal_sim.csv")

# ---- quadrature convergence (sanity check, no bayesmixed code) --------------------------------
quad_check <- function(df, yvar, gvar, xvars, data_name) {
  cf <- as_clmm_frame(df, yvar, gvar)
  form <- as.formula(paste(yvar, "~", paste(xvars, collapse = " + "), "+ (1 |", gvar, ")"))
  f12 <- fit_clmm(form, cf, "logit", 12, ctrl_ssr)$fit
  f20 <- fit_clmm(form, cf, "logit", 20, ctrl_ssr)$fit
  dat <- cl_data(df[[yvar]], as.matrix(df[xvars]), matrix(1, nrow(df), 1), df[[gvar]])
  S <- VarCorr(f12)[[gvar]][1, 1]
  at12 <- sapply(c(12, 20, 30), function(k) cl_loglik(dat, f12$alpha, f12$beta, matrix(S), "logit", k))
  l12 <- as.numeric(logLik(f12)); l20 <- as.numeric(logLik(f20))
  rel <- abs(l12 - l20) / abs(l20)
  if (rel >= 1e-7) stop(sprintf("%s: nAGQ 12 vs 20 differ by %.3g relative", data_name, rel))
  list(data = data_name, link = "logit",
       clmm_loglik_nAGQ12 = l12, clmm_loglik_nAGQ20 = l20,
       abs_diff = abs(l12 - l20), rel_diff = rel,
       max_abs_gradient_nAGQ12 = max(abs(f12$gradient)),
       max_abs_gradient_nAGQ20 = max(abs(f20$gradient)),
       exact_at_nAGQ12_estimates = list(n12 = at12[1], n20 = at12[2], n30 = at12[3]))
}
quad <- list(wine_logit = quad_check(wine_df, "rating", "judge", c("temp", "contact"),
                                     "ordinal_wine.csv"),
             sim_logit = quad_check(sim_df, "y", "id", c("x", "d"), "ordinal_sim.csv"))

# ---- write ----------------------------------------------------------------------------------
notes <- c(
  "Stata meologit/meoprobit: Pr(y<=k|u) = F(cut_k - x'b - z'u); clmm's threshold model, same signs, no intercept.",
  "cut1..cut(K-1) are clmm's thresholds alpha ('1|2', '2|3', ...); random$<group>$'var(_cons)' is Stata's var(_cons[<group>]) = clmm's SD squared; slopes as var(x), cov(x,_cons).",
  "nAGQ = 1: Laplace (Stata intmethod(laplace)); nAGQ > 1: mode-curvature adaptive Gauss-Hermite (Stata intmethod(mcaghermite) intpoints(nAGQ)), not Stata's default mvaghermite.",
  "clmm's Laplace uses the exact observed Hessian of the conditional log likelihood in u (ordinal src/utilityFuns.c hess(), R/clmm.R hess.u()): sum w*(((f1-f2)/pr)^2 - (f1'-f2')/pr).",
  "ordinal 2022.11-16's random-intercept path (C NRalgv3) keeps the Hessian of the iterate before the last Newton step, so its Laplace loglik differs from the exact Laplace at the same estimates by a few 1e-8 relative ('exact.clmm_minus_exact'). 'exact' holds an independent evaluator (ordinal_check.R, no ordinal code): its loglik at clmm's estimates and its own polished maximum (loglik, cut, fixed, random, SEs, max_abs_gradient). Compare bayesmixed's Laplace with 'exact.loglik' for tight checks; both are within 1e-6 relative of clmm's 'loglik'.",
  "se_cut/se_fixed: clmm's Hessian-based SEs (vcov, a finite-difference Hessian of clmm's objective). exact.se_*: from the evaluator's numerical Hessian; exact.se_random: delta-method SEs of var/cov (parametrisation-invariant at the optimum). se_max_rel_diff_vs_exact compares the two: where clmm's inner loop warned (clmm_inner_warnings > 0) its objective is noisy and its SEs can be far off (sim_logit_laplace: ~20%), so test standard errors against exact.se_*.",
  "max_abs_gradient: clmm's reported max |gradient| (central differences) of the negative log likelihood in its own parameters (alpha, beta, log SD for a random intercept; Cholesky entries for vector random effects). Where it exceeds 1e-6 it is noise in clmm's objective (its inner Newton loop), not an early stop: restarting clmm at the exact optimum still reports 1e-6..4e-6, and exact.shortfall_of_clmm_estimates (exact max minus exact loglik at clmm's estimates) is ~1e-10 or less. exact.max_abs_gradient is the polished optimum's (< 1e-8).",
  "Simulated data (ordinal_sim.csv): set.seed(20261202), 60 groups of sizes 5..25, x ~ N(0,1) rounded to 4 decimals, d ~ Bernoulli(0.5), random intercept SD 0.8 and slope-on-x SD 0.5 with correlation 0.3, latent 0.7x - 0.5d + u0 + u1 x + logistic, cuts -1.2, 0.2, 1.4 (4 categories).",
  "wine (ordinal_wine.csv): ordinal::wine with temp = 1 for warm, contact = 1 for yes, judge and bottle as integers."
)
versions <- list(R = R.version.string, ordinal = as.character(packageVersion("ordinal")),
                 ucminf = as.character(packageVersion("ucminf")),
                 Matrix = as.character(packageVersion("Matrix")),
                 numDeriv = as.character(packageVersion("numDeriv")),
                 jsonlite = as.character(packageVersion("jsonlite")))
res <- list(notes = notes, versions = versions,
            clmm_control = list(random_intercept = "clmm.control(method = 'ucminf', gradTol = 1e-6, maxIter = 500, grtol = 1e-10, xtol = 1e-14, maxeval = 5000)",
                                random_slope = "clmm.control(method = 'nlminb', gradTol = 1e-6, maxIter = 500, rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 2000)"),
            cases = cases, quadrature_convergence = quad)
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE),
           file.path(out_dir, "ordinal_clmm.json"))

for (nm in names(cases)) {
  cs <- cases[[nm]]
  cat(sprintf("%-24s clmm %.10f  exact max %.10f  at clmm est. %.10f  shortfall %.1e  maxgrad %.1e / %.1e\n",
              nm, cs$loglik, cs$exact$loglik, cs$exact$loglik_at_clmm_estimates,
              cs$exact$shortfall_of_clmm_estimates, cs$max_abs_gradient,
              cs$exact$max_abs_gradient))
}
