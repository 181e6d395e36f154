"""Statistical sampling for examinations: plan a sample size, select reproducibly, evaluate and project.

Methods: attribute (binomial, Poisson, hypergeometric), stratified attribute, monetary-unit (MUS, Stringer and
cell bounds) and classical variables (mean-per-unit, difference, ratio) with the Rev. Proc. 2011-42 rule for
using sampling estimates in tax adjustments.
"""
