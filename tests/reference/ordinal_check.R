# Independent evaluator of the marginal log likelihood of a cumulative-link mixed model, written
# from the model's definition without any code from package ordinal.  Sourced by ordinal_clmm.R,
# which uses it (a) to recompute clmm's reported log likelihood at clmm's own estimates and (b) to
# polish clmm's optimum (clmm's inner Newton loop stops short; see the notes in ordinal_clmm.R).
#
# Model (Stata's meologit / meoprobit, and clmm's threshold parametrisation):
#   Pr(y_ij <= k | u_j) = F(cut_k - x_ij'beta - z_ij'u_j),   u_j ~ N(0, Sigma),
# F = plogis (logit) or pnorm (probit), cut_0 = -Inf, cut_K = +Inf.
#
# Per group j, h(u) = sum_i log Pr(y_ij | u) + log N(u; 0, Sigma).  The conditional mode u^ is
# found by damped Newton to |grad| < 1e-12 using the exact (observed) Hessian H = -h''(u^).
#   Laplace:  log L_j = h(u^) + (q/2) log(2 pi) - (1/2) log det H
#   AGQ (mode-curvature, one random effect only, Stata's mcaghermite, clmm's nAGQ > 1):
#     log L_j = log sum_k w_k exp(h(u^ + sqrt(2/H) z_k) + z_k^2) + (1/2) log(2/H)
#   with (z_k, w_k) the Gauss-Hermite rule for weight exp(-z^2) (Golub-Welsch below).

gh_rule <- function(n) {
  # Golub-Welsch for the physicists' Hermite polynomials: weight exp(-z^2) on the real line.
  if (n == 1) return(list(nodes = 0, weights = sqrt(pi)))
  off <- sqrt(seq_len(n - 1) / 2)
  J <- matrix(0, n, n)
  J[cbind(1:(n - 1), 2:n)] <- off
  J[cbind(2:n, 1:(n - 1))] <- off
  e <- eigen(J, symmetric = TRUE)
  o <- order(e$values)
  list(nodes = e$values[o], weights = sqrt(pi) * e$vectors[1, o]^2)
}

link_funs <- function(link) {
  switch(link,
    logit = list(p = function(x, lower = TRUE) plogis(x, lower.tail = lower),
                 d = dlogis,
                 g = function(x) dlogis(x) * (1 - 2 * plogis(x))),
    probit = list(p = function(x, lower = TRUE) pnorm(x, lower.tail = lower),
                  d = dnorm,
                  g = function(x) -x * dnorm(x)),
    stop("link not supported: ", link))
}

# Category probability and its first two derivatives with respect to a common shift s of both
# linear predictors (eta_k = cut_k - xb - s).  Stable for upper categories (upper tails used).
cat_terms <- function(e1, e2, lf) {
  up <- e2 > 0
  pr <- ifelse(up, lf$p(e2, FALSE) - lf$p(e1, FALSE), lf$p(e1) - lf$p(e2))
  d1 <- ifelse(is.finite(e1), lf$d(e1), 0); d2 <- ifelse(is.finite(e2), lf$d(e2), 0)
  g1 <- ifelse(is.finite(e1), lf$g(e1), 0); g2 <- ifelse(is.finite(e2), lf$g(e2), 0)
  # d/ds log pr = -(d1 - d2)/pr ;  d2/ds2 log pr = (g1 - g2)/pr - ((d1 - d2)/pr)^2
  list(logp = log(pr), s1 = -(d1 - d2) / pr, s2 = (g1 - g2) / pr - ((d1 - d2) / pr)^2)
}

# Data for the evaluator: y integer 1..K, X fixed-effect matrix (no intercept), Z random-effect
# design (n x q, intercept first), g group index 1..J.
cl_data <- function(y, X, Z, g) {
  list(y = as.integer(y), X = as.matrix(X), Z = as.matrix(Z), g = as.integer(g),
       K = max(y), J = max(g), q = ncol(as.matrix(Z)))
}

lin_pred <- function(dat, cuts, beta) {
  xb <- if (length(beta)) drop(dat$X %*% beta) else 0
  cc <- c(-Inf, cuts, Inf)
  list(e1 = cc[dat$y + 1] - xb, e2 = cc[dat$y] - xb)
}

# Conditional modes, h and H for all groups at once.  Sigma: q x q covariance.
cond_modes <- function(dat, cuts, beta, Sigma, link, tol = 1e-12, maxit = 200) {
  lf <- link_funs(link); lp <- lin_pred(dat, cuts, beta)
  q <- dat$q; J <- dat$J; Z <- dat$Z
  Si <- solve(Sigma)
  ldS <- as.numeric(determinant(Sigma)$modulus)
  U <- matrix(0, J, q)
  evalh <- function(U) {
    s <- rowSums(Z * U[dat$g, , drop = FALSE])
    ct <- cat_terms(lp$e1 - s, lp$e2 - s, lf)
    quad <- rowSums((U %*% Si) * U)
    h <- drop(rowsum(ct$logp, dat$g, reorder = TRUE)) - 0.5 * quad - 0.5 * ldS - (q / 2) * log(2 * pi)
    grad <- rowsum(Z * ct$s1, dat$g, reorder = TRUE) - U %*% Si
    # negative Hessian, stored as J x q*q (column-major q x q blocks)
    H <- matrix(0, J, q * q)
    for (a in 1:q) for (b in 1:q) {
      H[, (b - 1) * q + a] <- -drop(rowsum(Z[, a] * Z[, b] * ct$s2, dat$g, reorder = TRUE)) + Si[a, b]
    }
    list(h = h, grad = grad, H = H)
  }
  cur <- evalh(U)
  for (it in seq_len(maxit)) {
    if (max(abs(cur$grad)) < tol) break
    step <- t(vapply(seq_len(J), function(j)
      solve(matrix(cur$H[j, ], q, q), cur$grad[j, ]), numeric(q)))
    if (q == 1) step <- matrix(step, ncol = 1)
    fac <- rep(1, J)
    repeat {
      Unew <- U + fac * step
      new <- evalh(Unew)
      bad <- new$h < cur$h - 1e-12 * abs(cur$h)
      if (!any(bad) || min(fac) < 1e-10) break
      fac[bad] <- fac[bad] / 2
    }
    U <- Unew; cur <- new
  }
  cur$U <- U
  cur$maxgrad <- max(abs(cur$grad))
  cur
}

# Marginal log likelihood: nAGQ = 1 Laplace, > 1 mode-curvature AGQ (q = 1 only).
cl_loglik <- function(dat, cuts, beta, Sigma, link, nAGQ = 1) {
  m <- cond_modes(dat, cuts, beta, Sigma, link)
  q <- dat$q
  if (nAGQ == 1) {
    ldH <- vapply(seq_len(dat$J), function(j)
      as.numeric(determinant(matrix(m$H[j, ], q, q))$modulus), 0)
    return(sum(m$h + (q / 2) * log(2 * pi) - 0.5 * ldH))
  }
  stopifnot(q == 1)
  gh <- gh_rule(nAGQ); lf <- link_funs(link); lp <- lin_pred(dat, cuts, beta)
  scale <- sqrt(2 / m$H[, 1])
  terms <- sapply(seq_along(gh$nodes), function(k) {
    u <- m$U[, 1] + scale * gh$nodes[k]
    s <- u[dat$g]
    ct <- cat_terms(lp$e1 - s, lp$e2 - s, lf)
    drop(rowsum(ct$logp, dat$g, reorder = TRUE)) + dnorm(u, 0, sqrt(Sigma[1, 1]), log = TRUE) +
      log(gh$weights[k]) + gh$nodes[k]^2
  })
  terms <- matrix(terms, nrow = dat$J)
  mx <- apply(terms, 1, max)
  sum(mx + log(rowSums(exp(terms - mx))) + log(scale))
}

# Unconstrained parameter vector <-> (cuts, beta, Sigma): Sigma = L L', L lower triangular with
# log diagonal (the same Cholesky-style parametrisation Stata's ME engines optimise over).
unpack_par <- function(par, ncut, nbeta, q) {
  cuts <- par[seq_len(ncut)]
  beta <- par[ncut + seq_len(nbeta)]
  lp <- par[-seq_len(ncut + nbeta)]
  L <- matrix(0, q, q)
  L[lower.tri(L, diag = TRUE)] <- lp
  diag(L) <- exp(diag(L))
  list(cuts = cuts, beta = beta, Sigma = L %*% t(L))
}

pack_par <- function(cuts, beta, Sigma) {
  L <- t(chol(Sigma))
  diag(L) <- log(diag(L))
  c(cuts, beta, L[lower.tri(L, diag = TRUE)])
}

# Maximise the independent objective from clmm's estimates; return the optimum and its gradient.
cl_polish <- function(dat, start, link, nAGQ, ncut, nbeta) {
  f <- function(p) {
    u <- unpack_par(p, ncut, nbeta, dat$q)
    -cl_loglik(dat, u$cuts, u$beta, u$Sigma, link, nAGQ)
  }
  opt <- nlminb(start, f, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000,
                                         iter.max = 2000))
  par <- opt$par
  # Newton polish with central differences (numDeriv, Richardson extrapolation).  Steps of 1e-3
  # relative: the objective's rounding noise (~1e-13 for n ~ 1000) swamps the default tiny steps.
  ma <- list(eps = 1e-4, d = 1e-3, r = 4)
  grad_f <- function(p) numDeriv::grad(f, p, method.args = ma)
  hess_f <- function(p) numDeriv::hessian(f, p, method.args = ma)
  for (i in 1:3) {
    gr <- grad_f(par)
    if (max(abs(gr)) < 1e-9) break
    He <- hess_f(par)
    cand <- par - solve(He, gr)
    # accept unless clearly worse: near the optimum the change is below rounding (~1e-12)
    if (!(f(cand) <= f(par) + 1e-10)) break
    par <- cand
  }
  gr <- grad_f(par)
  u <- unpack_par(par, ncut, nbeta, dat$q)
  list(loglik = -f(par), par = par, cuts = u$cuts, beta = u$beta, Sigma = u$Sigma,
       max_abs_gradient = max(abs(gr)), hessian = hess_f(par))
}
