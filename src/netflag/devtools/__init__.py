"""Tools beside the product: synthetic logs, the reference oracle, benchmarks, test servers.

Nothing in the product imports them; ``netflag generate`` and ``netflag bench``
are their commands, and the tests use them too.
"""
