"""The incident registry: incidents opened from encounters or by hand, both parties' accounts
side by side, their evidence, and their exchange through the hotline (see ``docs/incidents.md``)."""
