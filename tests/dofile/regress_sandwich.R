# Reference values for tests/dofile/test_regress.py: OLS with cluster-robust and HC1 variances,
# computed by R's sandwich package (vcovCL with type = "HC1" applies Stata's small-sample
# factor G/(G-1) * (N-1)/(N-K)).  Run from the repository root:
#   .venv/bin/python -c "import bayesmixed as bm; bm.datasets.load('jsp2').to_csv('/tmp/jsp2.csv', index=False)"
#   Rscript tests/dofile/regress_sandwich.R > tests/dofile/regress_sandwich.json
library(sandwich)
library(jsonlite)
d <- read.csv("/tmp/jsp2.csv")
m <- lm(math5 ~ math3 + raven, data = d)
out <- list(
  formula = "math5 ~ math3 + raven",
  coef = unname(coef(m)[c("math3", "raven", "(Intercept)")]),
  vcov_cluster = unname(vcovCL(m, cluster = ~school, type = "HC1")[c(2, 3, 1), c(2, 3, 1)]),
  vcov_hc1 = unname(vcovHC(m, type = "HC1")[c(2, 3, 1), c(2, 3, 1)]),
  vcov_ols = unname(vcov(m)[c(2, 3, 1), c(2, 3, 1)])
)
cat(toJSON(out, digits = NA, pretty = TRUE))
