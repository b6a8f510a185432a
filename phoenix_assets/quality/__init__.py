"""Data quality: pure rules over stored documents, and the thresholds they judge by.

Nothing here touches Dagster or MongoDB: the asset checks in ``defs/checks`` read the
data and turn each rule's ``Verdict`` into a check evaluation.
"""
