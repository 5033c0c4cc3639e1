"""The hotline: signed append-only logs, one per party, witnessed by the other."""
