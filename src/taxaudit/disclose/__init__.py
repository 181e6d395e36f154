"""Disclosure: request register, authorization checks, destructive redaction, consistency review, release.

See docs/disclose.md. The stage answers the errors TIGTA found in FOIA and I.R.C. § 6103(c)/(e) cases
(Report 2023-10-055): releases without a valid authorization, protected DIF indicators released, third-party
information mishandled, and the same information withheld in one place and released in another.
"""
