* Multilevel and Mixed Models in Stata -- the workshop, replayed as one do-file.
*
* Run it with `bayesmixed workshop --out report/` (or `bayesmixed run tutorials/workshop.do`).
* Every model is fitted by maximum likelihood as in Stata and then, with the same
* command behind the `bayes:` prefix, reanalysed the Bayesian way; the report puts the
* two side by side.  Lines starting with "* #" are section titles of the report.

* # 1. Schools (jsp2): pooled OLS and random intercepts
use jsp2, clear
describe
codebook school gender math3 math5
summarize math3 math5

* math scores in year 3 and year 5 for the first 10 schools
graph twoway scatter math5 math3 if school <= 10, by(school)

* OLS ignores the clustering; cluster-robust standard errors correct the inference only
regress math5 math3, vce(cluster school)

* a random intercept for each school
mixed math5 math3 || school:
estimates store ri
estat ic
estat group
bayes: mixed math5 math3 || school:
estimates store bayes_ri

* REML estimates of the same model
mixed math5 math3 || school:, reml

* # 2. Schools (jsp2): predictions and residuals
estimates restore ri
predict yhat, fitted
predict u0, reffects
predict se_u0, reses
predict res, residuals
sort school math3
twoway (scatter math5 math3) (line yhat math3, connect(ascending)) if school <= 10, ///
    by(school)
twoway line yhat math3, connect(ascending)
graph twoway scatter res yhat, by(gender)
graph matrix math3 math4 math5 raven, half

* # 3. Schools (jsp2): random slopes
mixed math5 math3 || school: math3
estimates store ind
bayes: mixed math5 math3 || school: math3
mixed math5 math3 || school: math3, cov(unstructured)
estimates store uns
margins, at(math3=(10(5)40))
marginsplot
bayes: mixed math5 math3 || school: math3, cov(unstructured)
estimates store bayes_uns
* the Bayesian twins compared (DIC, WAIC, PSIS-LOO), and how sure the slope-intercept
* correlation is negative: the share of draws in the interval
bayesstats ic bayes_ri bayes_uns
bayestest interval ({U:Sigma_2_1}/sqrt({U:Sigma_1_1}*{U:Sigma_2_2})), upper(0)
* does the model reproduce the scores' spread and their ceiling of 40? (P near 0 or 1: no)
bayesstats ppvalues (sd:@sd({_ysim})) (max:@max({_ysim}))
lrtest ind uns
estimates table ri ind uns bayes_uns, se
mixed math5 math3 || school: math3, cov(unstructured) reml

* # 4. Productivity: states nested in regions, and years crossed with them
use productivity, clear
summarize gsp private emp hwy water other unemp
mixed gsp private emp hwy water other unemp || region: || state:
estimates store nested
bayes: mixed gsp private emp hwy water other unemp || region: || state:
mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:
estimates store crossed
bayes: mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:
lrtest nested crossed
* Within a state, one year's shock carries into the next: AR(1) errors over year
mixed gsp private emp hwy water other unemp || region: || state:, residuals(ar 1, t(year))
estimates store ar1
lrtest nested ar1
bayes: mixed gsp private emp hwy water other unemp || region: || state:, residuals(ar 1, t(year))

* # 5. Grunfeld investment: firms and years
use grunfeld, clear
mixed invest mvalue cstock || company:
bayes: mixed invest mvalue cstock || company:
mixed invest mvalue cstock || _all: R.company || year:
bayes: mixed invest mvalue cstock || _all: R.company || year:

* # 6. Rat pups: litters, with a residual variance for each sex
use rats, clear
mixed weight i.dose size female || litter:
estimates store common
mixed weight i.dose size female || litter:, residuals(independent, by(female))
estimates store bysex
lrtest common bysex
bayes: mixed weight i.dose size female || litter:, residuals(independent, by(female))
* Small-sample inference for the fixed effects: REML with Kenward-Roger dfs
mixed weight i.dose size female || litter:, reml dfmethod(kroger)
estat df

* # 7. Contraception in Bangladesh: random-intercept and random-slope logits
use bangladesh, clear
summarize c_use urban age child1 child2 child3
melogit c_use urban age child1 child2 child3 || district:
estimates store logit_ri
bayes: melogit c_use urban age child1 child2 child3 || district:
melogit c_use urban age child1 child2 child3 || district: urban, cov(unstructured)
estimates store logit_rs
bayes: melogit c_use urban age child1 child2 child3 || district: urban, cov(unstructured)
