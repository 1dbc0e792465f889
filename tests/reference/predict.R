# Reference values for postestimation (issue 6): BLUPs, their conditional SDs and predictions.
#
# Run from the repository root:   Rscript tests/reference/predict.R
# Writes tests/reference/predict.json.
#
# Data are the shipped data/*.csv files.  Each linear model is fitted by bobyqa and Nelder-Mead at
# tight tolerances and the fit with the higher log likelihood is kept (lme4's defaults stop early
# on the jsp unstructured model; see spine_lmm.R).  For every model:
#   ranef      per random-effect term: group labels (lme4's, e.g. "1:6" for state:region), effect
#              names in Stata's order (covariates first, _cons last), the conditional modes and
#              sqrt(diag(postVar)) from ranef(m, condVar = TRUE)
#   cond_sd    the same SDs from the dense definition sigma^2 Lambda (Lambda'Z'Z Lambda + I)^-1
#              Lambda' (exact, as a check on lme4's condVar for multi-term models)
#   theta, fixef, sigma2  lme4's estimates (theta named term.effect, in lme4's order)
#   fitted     fitted(m);  xb  predict(m, re.form = NA);  for productivity also the fit up to the
#              region level, predict(m, re.form = ~ (1 | region))
#   newdata    predict(m, newdata, allow.new.levels = TRUE) for a few rows, one in a new group
# GLMM (bangladesh, Laplace): ranef with condVar and predict(m, type = "response").

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

out_path <- "tests/reference/predict.json"
read_data <- function(name) read.csv(file.path("data", paste0(name, ".csv")))

tight <- list(
  lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
              check.conv.singular = "ignore"),
  lmerControl(optimizer = "Nelder_Mead",
              optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5),
              check.conv.singular = "ignore")
)

best_lmer <- function(formula, data, reml = FALSE) {
  fits <- lapply(tight, function(ctrl) lmer(as.formula(formula), data, REML = reml, control = ctrl))
  crit <- sapply(fits, function(f) if (reml) -REMLcrit(f) else as.numeric(logLik(f)))
  fits[[which.max(crit)]]
}

stata_effects <- function(nm) {
  nm[nm == "(Intercept)"] <- "_cons"
  c(setdiff(nm, "_cons"), intersect(nm, "_cons"))
}

# Dense conditional covariance of b: sigma^2 Lambda (Lambda'Z'Z Lambda + I)^-1 Lambda'.
dense_cond_var <- function(m) {
  lt <- as.matrix(getME(m, "Lambdat"))
  zt <- as.matrix(getME(m, "Zt"))
  a <- lt %*% zt %*% t(zt) %*% t(lt) + diag(nrow(lt))
  sigma(m)^2 * t(lt) %*% solve(a) %*% lt
}

ranef_record <- function(m, dense = TRUE) {
  re <- ranef(m, condVar = TRUE)
  vdense <- if (dense) diag(dense_cond_var(m)) else NULL
  flist <- getME(m, "flist")
  cnms <- getME(m, "cnms")
  gp <- getME(m, "Gp")
  out <- list()
  for (i in seq_along(cnms)) {
    term <- names(cnms)[i]
    frame <- re[[term]]
    pv <- attr(frame, "postVar")
    nm <- colnames(frame)
    snm <- nm
    snm[snm == "(Intercept)"] <- "_cons"
    order <- match(stata_effects(nm), snm)
    k <- length(nm)
    sds <- sapply(seq_len(dim(pv)[3]), function(g) sqrt(diag(pv[, , g, drop = TRUE] * diag(1, k))))
    sds <- matrix(sds, nrow = k)
    rec <- list(
      term = term,
      groups = rownames(frame),
      effects = as.list(stata_effects(nm)),
      values = lapply(order, function(j) frame[[j]]),
      cond_sd = lapply(order, function(j) sds[j, ])
    )
    if (dense) {
      # columns of this term in b are (group, effect) with effects varying fastest
      idx <- (gp[i] + 1):gp[i + 1]
      v <- matrix(vdense[idx], nrow = k)
      rec$cond_sd_dense <- lapply(order, function(j) sqrt(v[j, ]))
    }
    out[[length(out) + 1]] <- rec
  }
  out
}

lmm_record <- function(m, stata, formula, extra = list()) {
  c(list(
    stata = stata, lme4_formula = formula, reml = isREML(m),
    loglik = if (isREML(m)) -REMLcrit(m) / 2 else as.numeric(logLik(m)),
    sigma2 = sigma(m)^2,
    theta = as.list(getME(m, "theta")),
    fixef = as.list(fixef(m)),
    ranef = ranef_record(m),
    fitted = unname(fitted(m)),
    xb = unname(predict(m, re.form = NA))
  ), extra)
}

models <- list()

jsp <- read_data("jsp2")
jsp$school <- factor(jsp$school)
new_jsp <- data.frame(math3 = c(10, -5, 0, 20), school = factor(c(1, 48, 7, 999)))

f <- "math5 ~ math3 + (1 | school)"
m <- best_lmer(f, jsp)
models$jsp_ri <- lmm_record(m, "mixed math5 math3 || school:", f, list(newdata = list(
  math3 = new_jsp$math3, school = as.integer(as.character(new_jsp$school)),
  predict = unname(predict(m, new_jsp, allow.new.levels = TRUE)),
  xb = unname(predict(m, new_jsp, re.form = NA))
)))

m <- best_lmer(f, jsp, reml = TRUE)
models$jsp_ri_reml <- lmm_record(m, "mixed math5 math3 || school:, reml", f)

f <- "math5 ~ math3 + (math3 | school)"
m <- best_lmer(f, jsp)
models$jsp_uns <- lmm_record(m, "mixed math5 math3 || school: math3, cov(unstructured)", f,
  list(newdata = list(
    math3 = new_jsp$math3, school = as.integer(as.character(new_jsp$school)),
    predict = unname(predict(m, new_jsp, allow.new.levels = TRUE))
  )))

prod <- read_data("productivity")
for (v in c("state", "region", "year")) prod[[v]] <- factor(prod[[v]])
fixed <- "gsp ~ private + emp + hwy + water + other + unemp"

f <- paste(fixed, "+ (1 | region/state)")
m <- best_lmer(f, prod)
models$prod_nested <- lmm_record(m, "mixed gsp private emp hwy water other unemp || region: || state:",
  f, list(fitted_region = unname(predict(m, re.form = ~ (1 | region)))))

f <- paste(fixed, "+ (1 | year) + (1 | region/state)")
m <- best_lmer(f, prod)
models$prod_crossed <- lmm_record(m,
  "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:", f,
  list(fitted_region = unname(predict(m, re.form = ~ (1 | year) + (1 | region)))))

bang <- read_data("bangladesh")
bang$district <- factor(bang$district)
f <- "c_use ~ urban + age + child1 + child2 + child3 + (1 | district)"
g <- glmer(as.formula(f), bang, family = binomial, nAGQ = 1,
           control = glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
models$bang_ri_laplace <- list(
  stata = "melogit c_use urban age child1 child2 child3 || district:, intmethod(laplace)",
  lme4_formula = f, loglik = as.numeric(logLik(g)),
  ranef = ranef_record(g, dense = FALSE),
  pr = unname(predict(g, type = "response")),
  eta = unname(predict(g, type = "link")),
  xb = unname(predict(g, re.form = NA, type = "link"))
)

meta <- list(
  generated_by = "tests/reference/predict.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4"))
)
write_json(list(meta = meta, models = models), out_path, digits = NA, auto_unbox = TRUE,
           pretty = FALSE)
cat("wrote", out_path, "\n")
