"""The claim verifier: read a free-text ECG interpretation and check every claim.

>>> from agent.verify import verify_text, feedback_text
>>> verification = verify_text(gem_paragraph, measurements, sex="F")  # doctest: +SKIP
>>> verification.grounding_score, feedback_text(verification)  # doctest: +SKIP

:func:`extract_claims` finds numeric claims ("QRS durations in lead I range from 92 to 132
ms"), lead findings ("T wave inversion in the inferior leads") and diagnoses ("no evidence of
LBBB", "possible LVH"); :func:`verify_claims` gives each a verdict (``supported``,
``contradicted``, ``unverifiable``) with the measured values, the tolerance and the rule;
:func:`feedback_text` turns the contradicted ones into revision instructions. Deterministic,
no model calls, linear in the text length.
"""

from agent.verify.checks import check_diagnosis, verify_claims, verify_text
from agent.verify.claims import claims_from_codes, extract_claims
from agent.verify.feedback import feedback_text
from agent.verify.model import Claim, ClaimCheck, ClaimKind, Verdict, Verification
from agent.verify.tolerances import TOLERANCES, Tolerance

__all__ = [
    "TOLERANCES",
    "Claim",
    "ClaimCheck",
    "ClaimKind",
    "Tolerance",
    "Verdict",
    "Verification",
    "check_diagnosis",
    "claims_from_codes",
    "extract_claims",
    "feedback_text",
    "verify_claims",
    "verify_text",
]
