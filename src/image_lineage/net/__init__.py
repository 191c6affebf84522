"""How image-lineage talks to servers, whichever source asks: the one HTTP layer.

* ``http``: the HTTP client for registries and token services (deadline on the whole
  exchange, a size cap on every read, redirects, credentials bound to their origin);
* ``deadline``: sockets bounded by one deadline (the engines' transport uses them too);
* ``faults``: why a request failed, by the exception types along the cause chain;
* ``pool``: a few worker threads for independent requests, stopping at the first failure.

Nothing here words an error for a user: each source does, in its own terms.
"""
