"""The debt-collection domain: the debtor registry, statuses, notices, crews, reports, legal."""
