"""Promotions: requests reviewed as PRs/MRs, policies checked for them and for hand-pushed
tags alike, the stage tag made on merge, and the audit trail of every stage change."""
