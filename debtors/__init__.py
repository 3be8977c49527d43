"""The debt-collection domain: the debtor registry, statuses, notices, crews, reports, legal."""

import os

# polars (imports of a million rows) allocates through its own jemalloc, which by default keeps freed pages
# for a while (muzzy pages: forever). An import allocates and frees a chunk's worth every few hundred ms,
# so the retained pages would add up to ~150 MB of resident memory. Return them at once instead; this must
# be set before polars is first imported, and an explicit setting in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
