"""Estimation when books fail: best-judgment extrapolation, indirect income methods, section 481(a) adjustments.

Modules: :mod:`best_judgment` (extrapolation from a test window to an assessment period), :mod:`indirect`
(bank deposits, net worth, percentage markup, source and application of funds, IRM 4.10.4),
:mod:`method_change` (section 481(a) adjustment, its spread, Form 3115 timing), :mod:`records` (the book
rejection and estimate tables in the case store) and :mod:`document` (the basis-of-estimate document).
"""
