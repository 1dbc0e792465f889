#!/usr/bin/env Rscript
# Time lme4's lmer on the benchmark models and print JSON (to --out, or stdout).
#
#   Rscript benchmarks/lme4_bench.R --models models.json --data-dir DIR \
#       [--only "name1,name2"] [--budget 10] [--max-reps 5] [--warm-limit 2] [--out out.json]
#
# models.json comes from benchmarks/bench_models.py (written by lmm_bench.py), and the data are
# the CSV files lmm_bench.py wrote (<dataset>.csv), so R fits exactly what Python fits.
# Timing rule (the same as lmm_bench.py): a first fit faster than --warm-limit seconds is a
# warm-up and is discarded; then fits are repeated while under --budget seconds and fewer than
# --max-reps; the median is reported.  Each model's peak memory is measured by the caller,
# which runs the large models in an Rscript process of their own.
suppressPackageStartupMessages({
  library(jsonlite)
  library(lme4)
})

parse_args <- function(args) {
  opts <- list(models = NULL, data_dir = NULL, only = "", budget = 10, max_reps = 5,
               warm_limit = 2, out = "")
  i <- 1
  while (i <= length(args)) {
    key <- gsub("-", "_", sub("^--", "", args[i]))
    if (!key %in% names(opts) || i == length(args)) stop("bad argument: ", args[i])
    opts[[key]] <- args[i + 1]
    i <- i + 2
  }
  if (is.null(opts$models) || is.null(opts$data_dir)) stop("--models and --data-dir are required")
  for (k in c("budget", "max_reps", "warm_limit")) opts[[k]] <- as.numeric(opts[[k]])
  opts
}

load_data <- function(model, data_dir) {
  path <- file.path(data_dir, paste0(model$dataset, ".csv"))
  if (!file.exists(path)) stop("no data file ", path)
  d <- read.csv(path)
  for (f in unlist(model$factors)) d[[f]] <- factor(d[[f]])
  d
}

elapsed <- function(expr_fun) {
  t0 <- proc.time()[["elapsed"]]
  value <- expr_fun()
  list(seconds = proc.time()[["elapsed"]] - t0, value = value)
}

time_model <- function(model, opts) {
  d <- load_data(model, opts$data_dir)
  form <- as.formula(model$r_formula)
  warns <- character(0)
  fit_once <- function() withCallingHandlers(
    lmer(form, data = d, REML = isTRUE(model$reml)),
    warning = function(w) {
      warns <<- unique(c(warns, trimws(conditionMessage(w))))
      invokeRestart("muffleWarning")
    },
    message = function(m) {  # e.g. "boundary (singular) fit": worth reporting once
      warns <<- unique(c(warns, trimws(conditionMessage(m))))
      invokeRestart("muffleMessage")
    })
  first <- elapsed(fit_once)
  fit <- first$value
  times <- if (first$seconds < opts$warm_limit) numeric(0) else first$seconds
  while (length(times) == 0 ||
         (length(times) < opts$max_reps && sum(times) + tail(times, 1) <= opts$budget)) {
    run <- elapsed(fit_once)
    times <- c(times, run$seconds)
    fit <- run$value
  }
  list(name = model$name, seconds = median(times), times = I(times), reps = length(times),
       loglik = as.numeric(logLik(fit)), nobs = nobs(fit), warnings = I(warns),
       loglik_bobyqa = bobyqa_check(form, d, model, warns), error = NULL)
}

# lme4's default optimizer sometimes stops short (jsp2's uncentred (math3 | school) ends
# 8.8 log-likelihood units below the optimum with a gradient warning).  Such a fit is timed as
# users get it, but its log likelihood is no reference: refit once with bobyqa, untimed.
bobyqa_check <- function(form, d, model, warns) {
  if (!any(grepl("converge", warns))) return(NULL)
  refit <- suppressWarnings(suppressMessages(
    lmer(form, data = d, REML = isTRUE(model$reml), control = lmerControl(optimizer = "bobyqa"))))
  as.numeric(logLik(refit))
}

machine_facts <- function() {
  la <- tryCatch(La_library(), error = function(e) "")
  list(r_version = R.version.string,
       lme4 = as.character(packageVersion("lme4")),
       matrix = as.character(packageVersion("Matrix")),
       blas = unname(extSoftVersion()["BLAS"]),
       lapack = la,
       cores = parallel::detectCores())
}

main <- function() {
  opts <- parse_args(commandArgs(trailingOnly = TRUE))
  models <- fromJSON(opts$models, simplifyVector = FALSE)
  only <- if (nzchar(opts$only)) strsplit(opts$only, ",", fixed = TRUE)[[1]] else NULL
  if (!is.null(only)) models <- Filter(function(m) m$name %in% only, models)
  results <- lapply(models, function(m) {
    message("lme4: ", m$name)
    tryCatch(time_model(m, opts), error = function(e) {
      message("lme4: skipped ", m$name, ": ", conditionMessage(e))
      list(name = m$name, error = conditionMessage(e))
    })
  })
  out <- toJSON(list(meta = machine_facts(), results = results), auto_unbox = TRUE,
                digits = NA, null = "null")
  if (nzchar(opts$out)) writeLines(out, opts$out) else cat(out, "\n")
}

main()
