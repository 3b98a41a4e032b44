"""Scheduled digests: the scorecard sent to leaders by e-mail or webhook, once per period."""
